"""The report on the sample incident: golden files, the schema, escaping, no terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from opscockpit.commands.demo import build_incident_recording
from opscockpit.intake import Intake, default_analyzers
from opscockpit.records import Alert, Severity
from opscockpit.report.builder import build_report
from opscockpit.report.charts import build_charts
from opscockpit.report.render_html import render_html
from opscockpit.report.render_json import render_json, schema
from opscockpit.report.render_md import render_markdown
from opscockpit.report.source import open_report_source
from opscockpit.sources.base import Batch
from opscockpit.store import Store

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("OPSCOCKPIT_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_incident_recording(tmp_path_factory.mktemp("incident") / "incident.duckdb")


@pytest.fixture(scope="module")
def report(incident: Path) -> dict:
    store = open_report_source(incident)
    try:
        return build_report(store)
    finally:
        store.close()


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, rerun with OPSCOCKPIT_UPDATE_GOLDEN=1 and review the diff")


def test_json_report_matches_its_golden_file(report: dict) -> None:
    _golden("incident.json", render_json(report))


def test_markdown_report_matches_its_golden_file(report: dict) -> None:
    _golden("incident.md", render_markdown(report))


def test_json_report_validates_against_the_shipped_schema(report: dict) -> None:
    jsonschema.validate(json.loads(render_json(report)), schema())
    assert report["schema"] == "opscockpit.report/1"
    for key in ("hosts", "anomalies", "alert_clusters", "changes", "timeline"):
        assert report[key], f"the sample incident should fill {key}"


def test_the_schema_rejects_a_broken_report(report: dict) -> None:
    broken = json.loads(render_json(report))
    broken["anomalies"][0]["start"] = "yesterday"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())


def test_lists_come_most_important_first(report: dict) -> None:
    scores = [a["peak_score"] for a in report["anomalies"]]
    assert scores == sorted(scores, reverse=True)
    times = [e["ts"] for e in report["timeline"]]
    assert times == sorted(times)  # the timeline reads forward, as a story


def _store_with(message: str) -> Store:
    store = Store.open(None)
    intake = Intake(store, default_analyzers())
    ts = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    intake.accept(Batch(alerts=[Alert(ts, "x1", "am", Severity.CRITICAL, "web-1", "web",
                                      "<b>Pwn</b>", message, {"alertname": "<i>x</i>"})]), ts)
    return store


def test_alert_text_is_escaped_in_html_and_markdown() -> None:
    store = _store_with("<script>alert(1)</script> & <img src=x onerror=alert(2)>")
    report = build_report(store)
    html = render_html(report, build_charts(store, report))
    assert "<script" not in html and "<img" not in html and "<b>Pwn" not in html
    assert "&lt;script&gt;" in html or "&lt;" in html
    md = render_markdown(report)
    assert "<script" not in md and "<img" not in md


def test_html_is_self_contained(incident: Path, report: dict) -> None:
    store = open_report_source(incident)
    try:
        html = render_html(report, build_charts(store, report))
    finally:
        store.close()
    assert "<svg" in html  # charts inline
    lowered = html.lower()
    for needle in ("<script", "<link", "src=\"http", "@import", "url(http"):
        assert needle not in lowered, needle


def test_report_runs_with_no_terminal(incident: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "dumb"}
    out = subprocess.run([sys.executable, "-m", "opscockpit", "report", str(incident),
                          "--format", "md,html,json", "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "\x1b[" not in out.stdout + out.stderr  # no progress bar, no colour
    for suffix in ("md", "html", "json"):
        assert (tmp_path / f"r.{suffix}").stat().st_size > 1000
    piped = subprocess.run([sys.executable, "-m", "opscockpit", "report", str(incident),
                            "--format", "json", "--from", "2026-03-14T10:00:00Z",
                            "--to", "2026-03-14T11:00:00Z"],
                           capture_output=True, text=True, env=env, timeout=120)
    window = json.loads(piped.stdout)["window"]
    assert window == {"from": "2026-03-14T10:00:00Z", "to": "2026-03-14T11:00:00Z"}


def test_report_errors_are_one_line(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "opscockpit", "report", str(tmp_path / "no"),
                          "--format", "pdf"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_the_sample_incident_is_explained_by_the_api_deploy(report: dict) -> None:
    top = report["root_cause_candidates"][0]
    assert (top["rank"], top["kind"], top["ref"]) == (1, "deploy",
                                                      "github_actions:acme/api:9100025:1")
    assert top["evidence"] and all(isinstance(e, str) for e in top["evidence"])
    storm = max(report["alert_clusters"], key=lambda c: c["size"])
    assert storm["probable_root_cause"]["ref"] == top["ref"]
    causes = [e for e in report["timeline"] if e["kind"] == "cause"]
    assert any(e["ref"] == top["ref"] and "likely cause deploy of api" in e["summary"]
               for e in causes)
    summary = render_markdown(report).split("## Root-cause candidates")[0]
    assert "Most likely cause: deploy of api" in summary
