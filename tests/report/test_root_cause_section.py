"""The report's root-cause section: the sample incident's cause at rank 1, feedback, accuracy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opscockpit.commands.demo import build_incident_recording
from opscockpit.records import Alert, Annotation, Anomaly, Severity
from opscockpit.report.builder import ReportWindow, build_report
from opscockpit.report.root_cause import attach_probable_causes, root_cause_section
from opscockpit.report.source import open_report_source, replay_into_memory
from opscockpit.sources.base import Batch
from opscockpit.store import Store

BAD_DEPLOY = "github_actions:acme/api:9100025:1"
DECOY = "github_actions:acme/search:9100024:1"
ROLLBACK = "github_actions:acme/api:9100026:1"
FIELDS = {"rank", "kind", "ref", "summary", "score", "evidence"}


def _at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 14, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_incident_recording(tmp_path_factory.mktemp("incident") / "incident.duckdb")


def _writable(path: Path) -> Store:
    """The sample as a store this test may add rows to (a recording is opened read-only)."""
    store = open_report_source(path)
    if store.read_only:
        source, store = store, replay_into_memory(store)
        source.close()
    return store


def _section(store: Store) -> dict:
    return root_cause_section(store, ReportWindow.of(store, None, None))


def test_sample_incident_ranks_the_api_deploy_first(incident: Path) -> None:
    store = open_report_source(incident)
    try:
        section = _section(store)
    finally:
        store.close()
    candidates = section["root_cause_candidates"]
    assert all(set(c) >= FIELDS for c in candidates)
    top = candidates[0]
    assert (top["rank"], top["kind"], top["ref"]) == (1, "deploy", BAD_DEPLOY)
    assert top["ref"] not in {DECOY, ROLLBACK}
    assert top["evidence"][0].startswith(f"deploy {BAD_DEPLOY} of api finished ")
    assert any("run api" in e for e in top["evidence"])
    assert any(ROLLBACK in e for e in top["evidence"])  # replaced while the incident was open
    same = [c for c in candidates if c["incident"] == top["incident"]]
    assert ROLLBACK not in {c["ref"] for c in same}  # after the symptoms began: no cause
    assert [c["rank"] for c in same] == list(range(1, len(same) + 1))
    assert section["incidents"][0]["lead"] == BAD_DEPLOY
    assert section["root_cause_accuracy"] == {"judged": 0, "top1_confirmed": 0, "share": None}
    json.dumps(section, allow_nan=False)


def test_a_false_early_anomaly_does_not_change_the_verdict(incident: Path) -> None:
    # What an earlier detector saw: api-2 latency "anomalous" from 09:21 (it peaked only with
    # the incident) and a weak db-1 cpu episode from 08:53; both before the search deploy.
    store = _writable(incident)
    try:
        store.append(Batch(anomalies=[
            Anomaly(ts=_at(9, 21), series="api-2/latency_ms", host="api-2",
                    metric="latency_ms", start=_at(9, 21), end=_at(11, 23), peak_score=1.0,
                    peak_ts=_at(10, 6)),
            Anomaly(ts=_at(8, 53), series="db-1/cpu_pct", host="db-1", metric="cpu_pct",
                    start=_at(8, 53), end=_at(11, 0), peak_score=0.417, peak_ts=_at(8, 53)),
        ], alerts=[
            Alert(ts=_at(9, 21), id="anomaly:api-2/latency_ms:early", source="anomaly",
                  severity=Severity.WARNING, host="api-2", service="",
                  title="Anomaly on latency_ms",
                  message="latency_ms on api-2 is unusual: 86.3 (level high)",
                  labels={"alertname": "MetricAnomaly", "series": "api-2/latency_ms"},
                  fingerprint="anomaly:api-2/latency_ms"),
        ]), origin="replay")
        top = _section(store)["root_cause_candidates"][0]
    finally:
        store.close()
    assert top["ref"] == BAD_DEPLOY


def test_clusters_get_their_incident_s_probable_cause(incident: Path) -> None:
    store = open_report_source(incident)
    try:
        report = build_report(store)
        report.update(_section(store))
    finally:
        store.close()
    attach_probable_causes(report)
    storm = max(report["alert_clusters"], key=lambda c: c["size"] if "api" in c["services"]
                else 0)
    cause = storm["probable_root_cause"]
    assert cause is not None and cause["ref"] == BAD_DEPLOY
    assert set(cause) == {"kind", "ref", "summary", "score"}
    disk = next(c for c in report["alert_clusters"] if "DiskSpaceLow" in c["template"])
    assert disk["probable_root_cause"] is None  # background, its own lead: nothing to name


def test_feedback_is_shown_and_counted(incident: Path) -> None:
    store = _writable(incident)
    try:
        store.append(Batch(annotations=[
            Annotation(ts=_at(12, 0), id="v1", kind="confirm", target=BAD_DEPLOY, text="yes"),
            Annotation(ts=_at(12, 1), id="v2", kind="reject", target=DECOY, text="unrelated"),
        ]), origin="replay")
        section = _section(store)
    finally:
        store.close()
    by_ref = {c["ref"]: c for c in section["root_cause_candidates"]}
    assert by_ref[BAD_DEPLOY]["feedback"] == "confirm"
    assert by_ref[DECOY]["feedback"] == "reject"
    assert section["root_cause_accuracy"] == {"judged": 1, "top1_confirmed": 1, "share": 1.0}


def test_empty_store_has_no_candidates() -> None:
    store = Store.open(None)
    try:
        section = _section(store)
    finally:
        store.close()
    assert section["root_cause_candidates"] == [] and section["incidents"] == []
    assert section["root_cause_accuracy"]["share"] is None


def test_attach_without_candidates_leaves_none() -> None:
    report = {"alert_clusters": [{"id": "C1", "probable_root_cause": None}]}
    attach_probable_causes(report)
    assert report["alert_clusters"][0]["probable_root_cause"] is None
