"""``python -m opscockpit ingest alerts|logs``: the real command, its output and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from opscockpit.analyzers.alerts import AlertsAnalyzer
from opscockpit.report.alerts import alerts_section
from opscockpit.report.builder import ReportWindow
from opscockpit.sources.alert_ingest import parse_logs
from opscockpit.store import Store
from tests.conftest import require_dataset

PARTIAL_EXIT = 3


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opscockpit", *args], capture_output=True,
                          text=True, timeout=120, env={"TERM": "dumb", "PATH": "/usr/bin:/bin"})


def _storm(path: Path) -> None:
    lines = []
    for i in range(60):
        host = f"web-{i % 3 + 1}"
        lines.append(json.dumps({
            "id": f"s{i}", "ts": 1709287200 + i * 5, "severity": "critical", "host": host,
            "service": "web", "title": "HTTP5xx",
            "message": f"HTTP 5xx rate {10 + i % 7}% on {host}",
        }))
    lines.insert(10, '{"id": "broken", "ts": ')
    lines.insert(20, '{"id": "no-time", "title": "x"}')
    path.write_text("\n".join(lines) + "\n")


def test_ingest_alerts_keeps_good_lines_names_bad_ones_and_exits_3(tmp_path: Path) -> None:
    storm = tmp_path / "storm.ndjson"
    _storm(storm)
    webhook = require_dataset("alertmanager/webhook_v4_19_alerts_prometheus-msteams.json")
    db = tmp_path / "c.duckdb"
    done = _cli("ingest", "alerts", str(storm), str(webhook), "--db", str(db))
    assert done.returncode == PARTIAL_EXIT, done.stderr
    assert done.stderr.splitlines() == [f"{storm}:11: not JSON: Expecting value",
                                        f"{storm}:21: missing 'ts'"]
    assert "ingested 79 rows from 2 files" in done.stdout and "2 lines rejected" in done.stdout
    with Store.open(db, read_only=True) as store:
        assert store.count("alerts") == 79
        # A store filled by the command is clustered from the store on restore.
        analyzer = AlertsAnalyzer()
        analyzer.restore(store)
        view = analyzer.view(store, store.time_span()[1])
        section = alerts_section(store, ReportWindow.of(store, None, None))
    assert view is not None and view.noise.alerts == 79
    assert [c.id for c in view.clusters][:1] == [section["alert_clusters"][0]["id"]]
    assert section["alert_clusters"][0]["size"] == 60


def test_ingest_logs_with_a_pattern_exits_0(tmp_path: Path) -> None:
    log = require_dataset("loghub/OpenSSH/OpenSSH_2k.log")
    plain = len(parse_logs(log, {}).batch.frames.get("alerts", ()))
    done = _cli("ingest", "logs", str(log), "--pattern", "Failed password", "--db",
                str(tmp_path / "c.duckdb"))
    assert done.returncode == 0, done.stderr
    with Store.open(tmp_path / "c.duckdb", read_only=True) as store:
        assert store.count("alerts") > plain + 100


def test_a_bad_pattern_is_one_line_and_status_1(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("2024-03-01 10:00:00 ERROR x\n")
    done = _cli("ingest", "logs", str(log), "--pattern", "(oops", "--db", str(tmp_path / "c.db"))
    assert done.returncode == 1 and "(oops" in done.stderr and "Traceback" not in done.stderr
