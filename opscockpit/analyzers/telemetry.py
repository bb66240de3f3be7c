"""The Telemetry pane's view: each host's latest figures and recent history."""

from __future__ import annotations

from datetime import datetime, timedelta

from opscockpit.analyzers.base import Analyzer
from opscockpit.snapshot import Process, TelemetryView
from opscockpit.store import Store
from opscockpit.store.telemetry_queries import (
    hosts,
    latest_metrics,
    latest_processes,
    series_window,
)

# Host gauges have their own rows; any other series (app latency, an imported CSV) gets a
# generic row with a sparkline, up to MAX_OTHER of them.
HOST_PREFIXES = ("cpu_pct", "load", "mem_", "swap_", "disk_", "net_", "temp_c")
MAX_OTHER = 12
SPARK_METRICS = ("cpu_pct", "mem_pct", "load1", "disk_read_bps", "disk_write_bps",
                 "net_rx_bps", "net_tx_bps", "swap_pct")


class TelemetryAnalyzer(Analyzer):
    name = "telemetry"

    def __init__(self, history: timedelta = timedelta(minutes=5)) -> None:
        self.history = history

    def view(self, store: Store, now: datetime) -> tuple[TelemetryView, ...]:
        return build_telemetry(store, now, self.history)


def build_telemetry(
    store: Store, now: datetime, history: timedelta = timedelta(minutes=5)
) -> tuple[TelemetryView, ...]:
    views = []
    for host in hosts(store, now):
        latest = latest_metrics(store, host, now)
        others = sorted(m for m, _, _ in latest if not m.startswith(HOST_PREFIXES))[:MAX_OTHER]
        series = series_window(store, host, [*SPARK_METRICS, *others], now - history, now)
        views.append(
            TelemetryView(
                host=host,
                at=max((ts for _, _, ts in latest), default=None),
                latest={metric: value for metric, value, _ in latest},
                history={metric: tuple(values) for metric, values in series.items()},
                processes=tuple(
                    Process(int(pid), str(name), str(user or ""), float(cpu or 0.0),
                            float(mem or 0.0), int(rss or 0))
                    for pid, name, user, cpu, mem, rss in latest_processes(store, host, now)
                ),
            )
        )
    return tuple(views)
