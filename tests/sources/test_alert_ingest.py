"""``ingest alerts|logs`` adapters: every format, bad lines named, info lines kept out of alerts."""

from __future__ import annotations

from pathlib import Path

import pytest

from opscockpit.ingest import IngestError, ingest
from opscockpit.intake import Intake
from opscockpit.sources import alert_ingest
from opscockpit.sources.alert_ingest import parse_alerts, parse_logs
from opscockpit.store import Store
from tests.conftest import require_dataset

SYSLOG = """\
Mar  1 10:00:00 web-1 nginx[12]: GET /health 200 in 3ms
Mar  1 10:00:01 web-1 nginx[12]: GET /health 200 in 4ms
Mar  1 10:00:02 web-1 app[7]: ERROR upstream api timed out after 3000ms
Traceback (most recent call last):
Mar  1 10:00:03 web-1 app[7]: WARNING slow query took 2.5s
Mar  1 10:00:04 web-1 app[7]: disk /var nearly full (97%)
"""


def test_ndjson_keeps_good_lines_and_names_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "storm.ndjson"
    path.write_text(
        '{"id": "a1", "ts": "2024-03-01T10:00:00Z", "severity": "crit", "host": "web-1", '
        '"service": "web", "title": "Down", "message": "web-1 down"}\n'
        "{not json\n"
        '{"id": "a2", "ts": 1709287260, "title": "Down", "labels": {"instance": "web-2:9100"}}\n'
        '{"id": "a3", "title": "no time"}\n'
    )
    parsed = parse_alerts(path, {})
    frame = parsed.batch.frames["alerts"]
    assert parsed.format == "ndjson" and list(frame["id"]) == ["a1", "a2"]
    assert list(frame["host"]) == ["web-1", "web-2"]
    assert [(e.line, e.reason.split(":")[0]) for e in parsed.errors] == [
        (2, "not JSON"), (4, "missing 'ts'")]
    assert "events" not in parsed.batch.frames  # alert files have no events apart


@pytest.mark.parametrize("name, count", [
    ("webhook_v4_firing_recorded.json", 1), ("webhook_v4_resolved_recorded.json", 1),
    ("api_v2_alerts_recorded.json", 2), ("api_v2_alert_groups_recorded.json", 2),
    ("webhook_v4_19_alerts_prometheus-msteams.json", 19),
])
def test_alertmanager_recordings(name: str, count: int) -> None:
    path = require_dataset(f"alertmanager/{name}")
    parsed = parse_alerts(path, {})
    assert parsed.format == "alertmanager" and not parsed.errors
    assert len(parsed.batch.frames["alerts"]) == count


def test_unknown_format_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_text("{}\n")
    with pytest.raises(IngestError, match="unknown alert format 'xml'"):
        parse_alerts(path, {"format": "xml"})


def test_logs_only_alert_level_lines_become_alerts(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    path.write_text(SYSLOG)
    parsed = parse_logs(path, {})
    assert parsed.format == "log" and not parsed.errors
    assert list(parsed.batch.frames["alerts"]["id"]) == ["syslog:3"]
    patterned = parse_logs(path, {"patterns": (r"nearly full",)})
    assert list(patterned.batch.frames["alerts"]["id"]) == ["syslog:3", "syslog:6"]
    with pytest.raises(IngestError, match="syslog"):
        parse_logs(path, {"patterns": ("(unclosed",)})


def test_loghub_linux_through_the_intake() -> None:
    path = require_dataset("loghub/Linux/Linux_2k.log")
    store = Store.open(None)
    summary = ingest(Intake(store, []), "logs", [path], {"patterns": ()})
    assert summary.files == 1 and not summary.errors
    assert 0 < store.count("alerts") < 2000  # error-level lines only, not the chatter


def test_every_log_line_becomes_an_event_with_its_template(tmp_path: Path) -> None:
    """Migration 3 gave the store ``events``: every log line goes there with its template."""
    assert alert_ingest.events_supported()
    path = tmp_path / "syslog"
    path.write_text(SYSLOG)
    store = Store.open(None)
    summary = ingest(Intake(store, []), "logs", [path])
    events = store.window("events")
    assert len(events) == 6 and store.count("alerts") == 1
    assert summary.rows == 7
    health = events[events["message"].str.startswith("GET /health")]
    assert health["template_id"].nunique() == 1
    assert "<" in health["template"].iloc[0]  # the varying latency is a slot
