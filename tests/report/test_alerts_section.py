"""The report's ``alert_clusters`` and ``noise``: DESIGN.md's names, the pane's figures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from opscockpit.analyzers.alerts import AlertsAnalyzer
from opscockpit.intake import Intake
from opscockpit.records import Annotation
from opscockpit.report import builder
from opscockpit.report.alerts import alerts_section
from opscockpit.report.builder import ReportWindow, build_report
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from tests.analyzers.storm import T0, alert, background, by_time, flapping, web_api_storm

CLUSTER_FIELDS = {"id", "template", "size", "alert_ids", "hosts", "services", "first_seen",
                  "last_seen", "severity", "status", "probable_root_cause"}
NOISE_FIELDS = {"alerts", "clusters", "reduction_ratio", "flapping", "marked_noise_share",
                "marked_noise_alert_share"}


def _store() -> tuple[Store, AlertsAnalyzer]:
    """The scenario fed live, batch by batch, with one cluster marked noise."""
    alerts = by_time(background() + web_api_storm() + flapping(7200))
    store = Store.open(None)
    analyzer = AlertsAnalyzer()
    intake = Intake(store, [analyzer])
    for i in range(0, len(alerts), 30):
        part = alerts[i:i + 30]
        intake.accept(Batch(alerts=[*part, *part[:3]]), part[-1].ts)  # with repeats
    view = analyzer.view(store, alerts[-1].ts)
    assert view is not None
    disk = next(c for c in view.clusters if c.size == 36)
    note = Annotation(ts=T0 + timedelta(hours=9), id="m1", kind="noise", target=disk.id, text="")
    intake.accept(Batch(annotations=[note]), note.ts)
    return store, analyzer


def test_fields_order_and_timestamps() -> None:
    store, _ = _store()
    section = alerts_section(store, ReportWindow.of(store, None, None))
    clusters = section["alert_clusters"]
    assert len(clusters) == 3 and all(set(c) >= CLUSTER_FIELDS for c in clusters)
    assert set(section["noise"]) == NOISE_FIELDS
    assert [c["severity"] for c in clusters] == ["critical", "warning", "warning"]
    assert [c["size"] for c in clusters[1:]] == [36, 12]  # most important first
    assert all(c["first_seen"].endswith("Z") and c["last_seen"].endswith("Z") for c in clusters)
    assert clusters[0]["first_seen"] == "2024-03-01T03:00:00Z"
    assert {c["status"] for c in clusters} == {"open", "flapping"}
    assert all(c["probable_root_cause"] is None for c in clusters)
    assert clusters[1]["mark"] == "noise"
    json.dumps(section, allow_nan=False)


def test_report_says_what_the_pane_said() -> None:
    store, analyzer = _store()
    view = analyzer.view(store, T0 + timedelta(hours=9))
    assert view is not None
    section = alerts_section(store, ReportWindow.of(store, None, None))
    pane = {c.id: (c.size, c.templates, c.hosts, c.status, c.mark) for c in view.clusters}
    report = {c["id"]: (c["size"], tuple(c["templates"]), tuple(c["hosts"]), c["status"],
                        c["mark"]) for c in section["alert_clusters"]}
    assert report == pane
    noise = section["noise"]
    assert noise["alerts"] == view.noise.alerts and noise["clusters"] == view.noise.clusters
    assert noise["flapping"] == view.noise.flapping == 1
    assert noise["marked_noise_share"] == pytest.approx(view.noise.noise_cluster_share)
    assert noise["marked_noise_alert_share"] == pytest.approx(view.noise.marked_noise_alert_share)
    assert noise["marked_noise_alert_share"] == pytest.approx(36 / noise["alerts"])
    assert noise["reduction_ratio"] == pytest.approx(1 - 3 / noise["alerts"])


def test_window_limits_the_alerts() -> None:
    store, _ = _store()
    window = ReportWindow(T0 + timedelta(hours=2, minutes=55), T0 + timedelta(hours=3, minutes=15))
    section = alerts_section(store, window)
    assert sum(c["size"] for c in section["alert_clusters"]) == section["noise"]["alerts"]
    assert section["alert_clusters"][0]["severity"] == "critical"
    assert all(c["last_seen"] <= "2024-03-01T03:15:00Z" for c in section["alert_clusters"])


def test_empty_store_gives_empty_lists_and_zero_counts() -> None:
    section = alerts_section(Store.open(None), ReportWindow(None, None))
    assert section == {"alert_clusters": [], "noise": {
        "alerts": 0, "clusters": 0, "reduction_ratio": 0.0, "flapping": 0,
        "marked_noise_share": 0.0, "marked_noise_alert_share": 0.0}}


def test_build_report_carries_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "SECTIONS", (
        *builder.SECTIONS, (("alert_clusters", "noise"), "opscockpit.report.alerts:alerts_section"),
    ))
    store, _ = _store()
    report = json.loads(json.dumps(build_report(store), allow_nan=False))
    assert len(report["alert_clusters"]) == 3 and report["noise"]["clusters"] == 3


def test_a_lone_alert() -> None:
    store = Store.open(None)
    store.append(Batch(alerts=[alert(0, "x", "h", "s", "T", "something broke")]))
    section = alerts_section(store, ReportWindow.of(store, None, None))
    assert [c["alert_ids"] for c in section["alert_clusters"]] == [["x"]]
    assert section["noise"]["reduction_ratio"] == 0.0
