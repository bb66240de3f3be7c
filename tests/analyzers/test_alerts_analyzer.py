"""The Alerts analyzer: storms become clusters, figures are kept, feedback and state survive."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pandas as pd

from opscockpit.analysis.alert_clusters import cluster_alerts
from opscockpit.analyzers.alerts import AlertsAnalyzer, Verdict, alert_key, cluster_verdicts
from opscockpit.intake import Intake
from opscockpit.records import Alert, Annotation
from opscockpit.sources.alert_formats import alerts_frame
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from tests.analyzers.storm import T0, alert, background, by_time, flapping, web_api_storm


def _feed(intake: Intake, alerts: list[Alert], step: int = 25) -> None:
    """As the engine would: batches in time order, "now" the newest alert."""
    for i in range(0, len(alerts), step):
        part = alerts[i:i + step]
        intake.accept(Batch(alerts=part), part[-1].ts)


def _scenario() -> list[Alert]:
    return by_time(background() + web_api_storm() + flapping(7200))


def _setup(alerts: list[Alert] | None = None) -> tuple[Store, AlertsAnalyzer, Intake]:
    store = Store.open(None)
    analyzer = AlertsAnalyzer()
    intake = Intake(store, [analyzer])
    _feed(intake, _scenario() if alerts is None else alerts)
    return store, analyzer, intake


def _mark(intake: Intake, target: str, kind: str, minutes: int, text: str = "") -> None:
    note = Annotation(ts=T0 + timedelta(hours=8, minutes=minutes), id=f"n{minutes}", kind=kind,
                      target=target, text=text)
    intake.accept(Batch(annotations=[note]), note.ts)


def test_storm_reads_as_one_cluster_apart_from_background_and_flapping() -> None:
    alerts = _scenario()
    store, analyzer, _ = _setup(alerts)
    view = analyzer.view(store, alerts[-1].ts)
    assert view is not None
    storm, disk, lag = view.clusters  # severity first, then recency
    storm_size = sum(1 for a in alerts if a.id.startswith("s"))
    assert (storm.severity, storm.size, len(storm.templates)) == ("critical", storm_size, 5)
    assert set(storm.hosts) == {"web-1", "web-2", "web-3", "api-1", "api-2"}
    assert set(storm.services) == {"web", "api"}
    assert "<NUM>" in storm.template
    assert (disk.size, disk.status) == (36, "open")
    assert (lag.size, lag.status) == (12, "flapping")
    noise = view.noise
    assert (noise.alerts, noise.clusters, noise.flapping) == (len(alerts), 3, 1)
    assert noise.reduction_ratio == 1 - 3 / len(alerts)
    # Members for the drill-down: newest first, full text kept.
    assert len(storm.members) == 50 and storm.members[0].ts >= storm.members[-1].ts
    assert storm.members[0].message.startswith(("HTTP", "upstream", "pool", "p99", "health"))


def test_view_is_none_without_alerts_and_costs_no_pandas() -> None:
    code = (
        "import sys, datetime; from opscockpit.store import Store; "
        "from opscockpit.analyzers.alerts import AlertsAnalyzer; "
        "s = Store.open(None); a = AlertsAnalyzer(); a.restore(s); "
        "print(a.view(s, datetime.datetime.now(datetime.UTC)), "
        "any(m.split('.')[0] == 'pandas' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "False"]


def test_incremental_view_equals_batch_clustering() -> None:
    alerts = _scenario()
    store, analyzer, _ = _setup(alerts)
    view = analyzer.view(store, alerts[-1].ts)
    assert view is not None
    batch = cluster_alerts(alerts_frame(alerts))
    assert {c.id: c.size for c in view.clusters} == dict(zip(batch["id"], batch["size"],
                                                             strict=True))
    for cluster in view.clusters:
        row = batch[batch["id"] == cluster.id].iloc[0]
        assert cluster.templates == tuple(row["templates"])
        assert cluster.hosts == tuple(row["hosts"]) and cluster.status == row["status"]
        assert cluster.first_seen == row["first_seen"] and cluster.last_seen == row["last_seen"]


def test_noise_stats_are_kept_once_a_minute_of_data_time() -> None:
    store, _, _ = _setup()
    stats = store.window("noise_stats")
    assert len(stats) >= 5
    assert (stats["ts"].diff().dropna() >= pd.Timedelta(minutes=1)).all()
    last = stats.iloc[-1]
    assert last["clusters"] == 3 and last["flapping"] == 1
    assert (store.window("noise_stats")["origin"] == "derived").all()


def test_feedback_marks_clusters_and_survives_restart() -> None:
    alerts = _scenario()
    store, analyzer, intake = _setup(alerts)
    view = analyzer.view(store, alerts[-1].ts)
    assert view is not None
    storm, disk, _ = view.clusters
    _mark(intake, disk.id, "actionable", 1)
    _mark(intake, disk.id, "noise", 2)  # the latest verdict wins
    _mark(intake, storm.id, "acknowledged", 3, "paged web team")
    marked = analyzer.view(store, alerts[-1].ts)
    assert marked is not None
    by_id = {c.id: c for c in marked.clusters}
    assert by_id[disk.id].mark == "noise" and not by_id[disk.id].acknowledged
    assert by_id[storm.id].acknowledged and by_id[storm.id].note == "paged web team"
    assert marked.noise.noise_clusters == 1 and marked.noise.noise_cluster_share == 1 / 3
    assert marked.noise.marked_noise_alert_share == 36 / len(alerts)
    # The stored figure is the issue's: the share of surfaced clusters marked noise.
    assert store.window("noise_stats").iloc[-1]["marked_noise_share"] == 1 / 3

    intake.save()
    again = AlertsAnalyzer()
    again.restore(store)
    restored = again.view(store, alerts[-1].ts)
    assert restored == marked


def test_restart_without_save_catches_up_from_the_store() -> None:
    alerts = _scenario()
    store, analyzer, intake = _setup(alerts[:100])
    intake.save()
    _feed(intake, alerts[100:])  # stored, but the process dies before saving again
    reference = analyzer.view(store, alerts[-1].ts)
    fresh = AlertsAnalyzer()
    fresh.restore(store)
    assert fresh.view(store, alerts[-1].ts) == reference
    cold = AlertsAnalyzer()  # no saved state at all: rebuilt from the store
    store.save_state("alerts", {"version": 99}, T0)
    cold.restore(store)
    assert cold.view(store, alerts[-1].ts) == reference


def test_exact_repeats_count_once_but_resolutions_count() -> None:
    store, analyzer, intake = _setup([])
    firing = alert(0, "am1", "web-1", "web", "Down", "web-1 down", fp="fp1")
    resolved = alert(0, "am1", "web-1", "web", "Down", "web-1 down", fp="fp1",
                     status="resolved")
    intake.accept(Batch(alerts=[firing, firing]), firing.ts)
    intake.accept(Batch(alerts=[firing]), firing.ts)  # Alertmanager re-notifies
    intake.accept(Batch(alerts=[resolved]), resolved.ts)
    view = analyzer.view(store, firing.ts)
    assert view is not None
    assert view.noise.alerts == 2 and view.clusters[0].size == 2
    assert view.clusters[0].status == "resolved"
    assert store.count("alerts") == 4  # the store keeps what arrived; readers de-duplicate


def test_arrivals_per_minute_end_at_the_clock_or_the_data() -> None:
    rows = [alert(i * 10, f"e{i}", "web-1", "web", "Err", f"error {i}") for i in range(30)]
    store, analyzer, _ = _setup(rows)
    newest = rows[-1].ts
    live = analyzer.view(store, newest + timedelta(minutes=2))
    assert live is not None and live.at == newest + timedelta(minutes=2)
    assert sum(live.clusters[0].arrivals) == 30 and live.clusters[0].arrivals[-3:] == (6, 0, 0)
    history = analyzer.view(store, newest + timedelta(days=30))  # old data in a live cockpit
    assert history is not None and history.at == newest
    assert history.clusters[0].arrivals[-5:] == (6, 6, 6, 6, 6)


def test_verdicts_follow_merged_clusters() -> None:
    aliases = {"Cold": "Cnew"}
    feedback = [(T0, "noise", "Cold", ""), (T0 + timedelta(1), "acknowledged", "Cnew", "ok")]
    verdicts = cluster_verdicts(feedback, lambda c: aliases.get(c, c))
    assert verdicts == {"Cnew": Verdict(mark="noise", acknowledged=True, note="ok")}


def test_alert_key_matches_frame_keys() -> None:
    from opscockpit.analyzers.alerts import alert_keys

    a = alert(1.5, "x", "h", "s", "T", "m")
    assert alert_keys(alerts_frame([a])).iloc[0] == alert_key("x", "firing", a.ts)
