from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opscockpit.analyzers.telemetry import TelemetryAnalyzer, build_telemetry
from opscockpit.intake import Intake
from opscockpit.records import MetricSample, ProcessSample
from opscockpit.sources.base import Batch
from opscockpit.store import Store

T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def _poll(i: int, host: str) -> Batch:
    ts = T0 + timedelta(seconds=i)
    return Batch(
        metrics=[MetricSample(ts, host, "cpu_pct", 10.0 + i), MetricSample(ts, host, "mem_pct", 50),
                 MetricSample(ts, host, "latency_ms", 100.0 + i % 7),
                 MetricSample(ts, host, "cpu_pct{core=0}", float(i))],
        processes=[ProcessSample(ts, host, 1, "init", "root", 0.0, 0.1, 1000),
                   ProcessSample(ts, host, 42, "api", "app", float(i), 2.0, 5000)],
    )


def test_incremental_view_matches_the_store() -> None:
    store = Store.open(None)
    analyzer = TelemetryAnalyzer()
    intake = Intake(store, [analyzer])
    for i in range(120):
        for host in ("web-1", "api-1"):
            intake.accept(_poll(i, host), T0 + timedelta(seconds=i))
    now = T0 + timedelta(seconds=119)
    incremental = analyzer.view(store, now)
    from_store = build_telemetry(store, now)
    assert {v.host for v in incremental} == {"web-1", "api-1"}
    for mine, theirs in zip(sorted(incremental, key=lambda v: v.host),
                            sorted(from_store, key=lambda v: v.host), strict=True):
        assert mine.latest == theirs.latest
        assert mine.history == theirs.history  # 120 s of samples: inside both windows
        assert sorted(mine.processes, key=lambda p: p.pid) == sorted(
            theirs.processes, key=lambda p: p.pid)
        assert "cpu_pct{core=0}" not in mine.history  # per-core series have no sparkline


def test_restart_starts_from_the_store_then_follows_batches() -> None:
    store = Store.open(None)
    Intake(store, [TelemetryAnalyzer()]).accept(_poll(0, "db-1"), T0)
    restarted = TelemetryAnalyzer()
    intake = Intake(store, [restarted])
    intake.restore()
    intake.accept(_poll(1, "db-1"), T0 + timedelta(seconds=1))
    (view,) = restarted.view(store, T0 + timedelta(seconds=1))
    assert view.latest["cpu_pct"] == 11.0
    assert view.history["cpu_pct"] == (10.0, 11.0)
