"""Alert and log file parsers on real Alertmanager payloads, LogHub logs and bad NDJSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from opscockpit.records import Severity
from opscockpit.sources.alert_files import (
    ALERT_COLUMNS,
    detect_format,
    parse_alert_file,
    parse_alert_text,
)
from opscockpit.sources.alert_formats import fingerprint
from opscockpit.sources.prometheus_api import strip_port
from tests.conftest import require_dataset


def _check_frame(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(ALERT_COLUMNS)
    assert str(frame["ts"].dtype).startswith("datetime64") and str(frame["ts"].dt.tz) == "UTC"
    assert set(frame["severity"]) <= {s.value for s in Severity}
    for text in frame["labels"]:
        labels = json.loads(text)
        assert json.dumps(labels, sort_keys=True, ensure_ascii=False) == text


def test_webhook_firing_recorded() -> None:
    path = require_dataset("alertmanager/webhook_v4_firing_recorded.json")
    assert detect_format(path) == "alertmanager"
    result = parse_alert_file(path)
    _check_frame(result.frame)
    assert result.errors == []
    row = result.frame.iloc[0]
    assert row["fingerprint"] == "45289b7917cf967e"
    assert row["host"] == "127.0.0.1" and row["service"] == "node"
    assert row["title"] == "HostLoadPresent" and row["severity"] == "warning"
    assert row["status"] == "firing" and pd.isna(row["ends_at"])


def test_webhook_resolved_recorded() -> None:
    result = parse_alert_file(require_dataset("alertmanager/webhook_v4_resolved_recorded.json"))
    row = result.frame.iloc[0]
    assert row["status"] == "resolved" and row["severity"] == "critical"
    assert row["host"] == "db-01"
    assert row["ends_at"] == pd.Timestamp("2026-11-22T20:46:53Z")


def test_old_webhook_without_status_and_fingerprint() -> None:
    result = parse_alert_file(
        require_dataset("alertmanager/webhook_v4_19_alerts_prometheus-msteams.json"))
    _check_frame(result.frame)
    assert len(result.frame) == 19 and result.errors == []
    assert set(result.frame["status"]) == {"firing"}
    assert result.frame["fingerprint"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert result.frame["fingerprint"].nunique() == 19  # distinct label sets
    assert set(result.frame["severity"]) == {"critical"}  # severity "page"


def test_api_v2_alerts_and_groups() -> None:
    alerts = parse_alert_file(require_dataset("alertmanager/api_v2_alerts_recorded.json"))
    groups = parse_alert_file(require_dataset("alertmanager/api_v2_alert_groups_recorded.json"))
    assert len(alerts.frame) == 2 and alerts.errors == []
    assert sorted(alerts.frame["fingerprint"]) == sorted(groups.frame["fingerprint"])
    assert set(alerts.frame["fingerprint"]) == {"32a2ddd10fadf757", "45289b7917cf967e"}


def test_malformed_ndjson_keeps_good_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a1", "ts": "2024-03-01T10:00:00Z", "severity": "crit",
                    "title": "Disk full", "labels": {"instance": "db-1:9100", "job": "db"}}),
        "{not json",
        json.dumps({"id": "a2", "ts": 1709287200, "title": "CPU high", "host": "web-1"}),
        "",
        json.dumps({"id": "a3", "title": "no time"}),
        json.dumps([1, 2]),
        json.dumps({"id": "a4", "ts": "2024-03-01 10:05:00+01:00", "message": "m",
                    "labels": "oops"}),
        json.dumps({"id": "a5", "ts": "1709287500123", "message": "epoch ms",
                    "status": "resolved"}),
    ]
    path = tmp_path / "alerts.ndjson"
    path.write_text("\n".join(lines) + "\n")
    assert detect_format(path) == "ndjson"
    result = parse_alert_file(path)
    _check_frame(result.frame)
    assert list(result.frame["id"]) == ["a1", "a2", "a5"]
    assert [e.line for e in result.errors] == [2, 5, 6, 7]
    assert all(e.path == str(path) for e in result.errors)
    a1 = result.frame.iloc[0]
    assert (a1["host"], a1["service"], a1["severity"]) == ("db-1", "db", "critical")
    assert result.frame.iloc[1]["ts"] == pd.Timestamp("2024-03-01T10:00:00Z")
    assert result.frame.iloc[2]["ts"] == pd.Timestamp("2024-03-01T10:05:00.123Z")
    assert result.frame.iloc[2]["status"] == "resolved"


def test_untrusted_text_is_only_stored() -> None:
    evil = "$(rm -rf /) __import__('os').system('x') `id`"
    text = json.dumps({"ts": 0, "title": evil, "message": evil, "labels": {"a": evil}})
    row = parse_alert_text(text).frame.iloc[0]
    assert row["title"] == evil and json.loads(row["labels"]) == {"a": evil}


def test_fingerprint_stable_and_port_stripping() -> None:
    assert fingerprint({"b": "1", "a": "2"}) == fingerprint({"a": "2", "b": "1"})
    assert fingerprint({}, "s", "h", "t") != fingerprint({}, "s", "h", "u")
    assert strip_port("db-01:9100") == "db-01"
    assert strip_port("[::1]:9100") == "::1" and strip_port("fe80::1") == "fe80::1"


def test_loghub_logs_every_line_an_event() -> None:
    for name, expect_alerts in [("Apache", True), ("HDFS", False), ("Linux", True)]:
        path = require_dataset(f"loghub/{name}/{name}_2k.log")
        assert detect_format(path) == "log"
        result = parse_alert_file(path, year=2005)
        _check_frame(result.events)
        assert len(result.events) == 2000 and result.errors == []
        assert (len(result.frame) > 0) == expect_alerts
        assert (result.frame["severity"].map(lambda s: Severity(s).rank) >= 2).all()
    apache = parse_alert_file(require_dataset("loghub/Apache/Apache_2k.log"))
    assert apache.events["ts"].iloc[0] == pd.Timestamp("2005-12-04 04:47:44Z")
    assert apache.frame["message"].iloc[0] == "mod_jk child workerEnv in error state 6"


def test_log_patterns_and_syslog(tmp_path: Path) -> None:
    text = (
        "Dec 31 23:59:58 gw sshd[11]: Accepted password for bob\n"
        "Jan  1 00:00:01 gw sshd[12]: authentication failure; rhost=1.2.3.4\n"
        "    continuation line without a time\n"
        "2024-01-01T00:00:05Z gw app[3]: level=error db down\n"
    )
    result = parse_alert_text(text, "auth.log", patterns=[r"authentication failure"],
                              year=2023)
    ev = result.events
    assert len(ev) == 4 and ev["host"].iloc[0] == "gw"
    assert ev["ts"].iloc[1] == pd.Timestamp("2024-01-01 00:00:01Z")  # year rolled over
    assert ev["ts"].iloc[2] == ev["ts"].iloc[1]
    assert list(result.frame["id"]) == ["auth.log:2", "auth.log:4"]
    assert ev["service"].iloc[0] == "sshd"
