from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from opscockpit.analyzers.anomalies import AnomalyAnalyzer
from opscockpit.intake import Intake
from opscockpit.records import MetricSample
from opscockpit.report.builder import build_report
from opscockpit.sources.base import Batch
from opscockpit.store import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _series(n: int = 900, spike_at: int = 700, seed: int = 7) -> list[MetricSample]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        value = 40 + rng.gauss(0, 2) + (60 if spike_at <= i < spike_at + 5 else 0)
        out.append(MetricSample(T0 + timedelta(minutes=i), "api-2", "latency_ms", value))
    return out


def _episodes(store: Store) -> list[tuple]:
    frame = store.query('SELECT series, start, "end", peak_score FROM anomalies '
                        "WHERE \"end\" IS NOT NULL ORDER BY start")
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_live_points_and_one_bulk_import_give_the_same_episodes() -> None:
    samples = _series()
    live = Store.open(None)
    intake = Intake(live, [AnomalyAnalyzer()])
    for sample in samples:  # as the engine would, one poll at a time
        intake.accept(Batch(metrics=[sample]), sample.ts)
    bulk = Store.open(None)
    frame = pd.DataFrame({"ts": [s.ts for s in samples], "host": "api-2",
                          "metric": "latency_ms", "value": [s.value for s in samples]})
    Intake(bulk, [AnomalyAnalyzer()]).accept(Batch(frames={"metrics": frame}), samples[-1].ts,
                                             origin="import")
    episodes = _episodes(live)
    assert episodes == _episodes(bulk)
    spike = T0 + timedelta(minutes=700)
    assert any(start <= spike + timedelta(minutes=2) and end >= spike
               for _, start, end, _ in episodes), episodes


def test_a_bulk_import_of_several_series_raises_the_live_alerts_in_the_live_order() -> None:
    # Each series is scored in one call in bulk; the alerts must still come out in time
    # order across series, as the alert clusterer expects of a stream.
    samples = sorted(_series(seed=7) + [
        MetricSample(s.ts + timedelta(seconds=30), "api-3", "latency_ms", s.value)
        for s in _series(spike_at=640, seed=8)
    ], key=lambda s: s.ts)
    live = Store.open(None)
    intake = Intake(live, [AnomalyAnalyzer()])
    for sample in samples:
        intake.accept(Batch(metrics=[sample]), sample.ts)
    bulk = Store.open(None)
    frame = pd.DataFrame({"ts": [s.ts for s in samples], "host": [s.host for s in samples],
                          "metric": "latency_ms", "value": [s.value for s in samples]})
    Intake(bulk, [AnomalyAnalyzer()]).accept(Batch(frames={"metrics": frame}), samples[-1].ts,
                                             origin="import")
    query = ("SELECT ts, id, status, message FROM alerts WHERE source = 'anomaly' "
             "ORDER BY rowid")
    alerts = [tuple(r) for r in live.query(query).itertuples(index=False)]
    assert alerts == [tuple(r) for r in bulk.query(query).itertuples(index=False)]
    assert {a[1].split(":")[1] for a in alerts} == {"api-2/latency_ms", "api-3/latency_ms"}


def test_a_spike_raises_an_anomaly_alert_that_resolves() -> None:
    store = Store.open(None)
    intake = Intake(store, [AnomalyAnalyzer()])
    for sample in _series():
        intake.accept(Batch(metrics=[sample]), sample.ts)
    alerts = store.window("alerts", where={"source": "anomaly"})
    spike = alerts[(alerts["ts"] >= T0 + timedelta(minutes=690))]
    assert "firing" in set(spike["status"]) and "resolved" in set(spike["status"])
    first = spike.iloc[0]
    assert first["host"] == "api-2" and first["fingerprint"] == "anomaly:api-2/latency_ms"
    assert "latency_ms" in first["title"]


def test_restart_resumes_the_detector_exactly(tmp_path: Path) -> None:
    samples = _series()
    path = tmp_path / "s.duckdb"
    with Store.open(path) as store:
        first = Intake(store, [AnomalyAnalyzer()])
        for sample in samples[:500]:
            first.accept(Batch(metrics=[sample]), sample.ts)
        first.save()
    with Store.open(path) as store:
        second = Intake(store, [AnomalyAnalyzer()])
        second.restore()
        for sample in samples[500:]:
            second.accept(Batch(metrics=[sample]), sample.ts)
        resumed = _episodes(store)
    straight = Store.open(None)
    intake = Intake(straight, [AnomalyAnalyzer()])
    for sample in samples:
        intake.accept(Batch(metrics=[sample]), sample.ts)
    assert resumed == _episodes(straight)


def test_report_lists_episodes_and_counts_them_per_host() -> None:
    store = Store.open(None)
    intake = Intake(store, [AnomalyAnalyzer()])
    for sample in _series():
        intake.accept(Batch(metrics=[sample]), sample.ts)
    intake.save()
    report = build_report(store)
    assert report["anomalies"], "no anomaly in the report"
    top = report["anomalies"][0]
    assert top["series"] == "api-2/latency_ms" and top["host"] == "api-2"
    assert top["start"].endswith("Z") and 0 < top["peak_score"] <= 1
    assert report["anomalies"] == sorted(report["anomalies"], key=lambda a: -a["peak_score"])


def test_ingest_metrics_cli_keeps_good_rows_and_names_bad_ones(tmp_path: Path) -> None:
    csv = tmp_path / "web_latency.csv"
    rows = ["timestamp,value"] + [f"2026-03-01 00:{i // 60:02d}:{i % 60:02d},{40 + (i % 7)}"
                                  for i in range(300)]
    rows[120] = "2026-03-01 00:01:59,not-a-number"
    csv.write_text("\n".join(rows) + "\n")
    db = tmp_path / "c.duckdb"
    out = subprocess.run([sys.executable, "-m", "opscockpit", "ingest", "metrics", str(csv),
                          "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr
    assert f"{csv}:121:" in out.stderr
    assert "ingested 299 rows from 1 files" in out.stdout
    with Store.open(db, read_only=True) as store:
        assert store.count("metrics") == 299
        assert set(store.window("metrics")["metric"]) == {"web_latency"}


def test_state_from_another_detector_version_starts_afresh() -> None:
    store = Store.open(None)
    store.save_state("anomalies", {"sensitivity": AnomalyAnalyzer().sensitivity,
                                   "series": {"h\tcpu_pct": {"version": -1}}}, T0)
    analyzer = AnomalyAnalyzer()
    analyzer.restore(store)  # must not raise: the cockpit starts, the detector relearns
    assert analyzer.detectors == {}
