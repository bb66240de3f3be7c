"""The Telemetry pane's view: each host's latest figures and recent history.

Kept up to date from the batches as they arrive rather than queried each refresh: the
store is read once, when the analyzer starts on an existing store, and after that every
sample updates a small per-host state. A refresh then costs no SQL at all.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opscockpit.analyzers.base import Analyzer
from opscockpit.snapshot import Process, TelemetryView
from opscockpit.sources.base import Batch
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
HISTORY_POINTS = 300  # five minutes of 1-second samples; more than any sparkline shows


def _sparked(metric: str) -> bool:
    return metric in SPARK_METRICS or not metric.startswith(HOST_PREFIXES)


@dataclass(slots=True)
class _Host:
    latest: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    history: dict[str, deque[float]] = field(default_factory=dict)
    processes: tuple[Process, ...] = ()
    processes_at: datetime | None = None
    last_ts: datetime | None = None

    def add(self, metric: str, ts: datetime, value: float) -> None:
        self.latest[metric] = (value, ts)
        if _sparked(metric):
            self.history.setdefault(metric, deque(maxlen=HISTORY_POINTS)).append(value)
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts

    def view(self, host: str) -> TelemetryView:
        others = sorted(m for m in self.latest if not m.startswith(HOST_PREFIXES))[:MAX_OTHER]
        shown = set(SPARK_METRICS) | set(others)
        return TelemetryView(
            host=host,
            at=max((ts for _, ts in self.latest.values()), default=None),
            latest={m: v for m, (v, _) in self.latest.items()},
            history={m: tuple(v) for m, v in self.history.items() if m in shown and v},
            processes=self.processes,
        )


class TelemetryAnalyzer(Analyzer):
    name = "telemetry"

    def __init__(self, history: timedelta = timedelta(minutes=5)) -> None:
        self.history = history
        self._hosts: dict[str, _Host] = {}
        self._loaded = False

    def restore(self, store: Store) -> None:
        """Start from what the store already holds (the history before this run)."""
        last = store.time_span()[1]
        if last is not None:
            for view in build_telemetry(store, last, self.history):
                state = self._hosts.setdefault(view.host, _Host())
                for metric, value in view.latest.items():
                    state.latest[metric] = (value, view.at or last)
                for metric, values in view.history.items():
                    state.history[metric] = deque(values, maxlen=HISTORY_POINTS)
                state.processes, state.processes_at, state.last_ts = (
                    view.processes, view.at, view.at)
        self._loaded = True

    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        self._loaded = True  # state grows from the batches from here on
        for sample in batch.metrics:
            self._host(sample.host).add(sample.metric, sample.ts, sample.value)
        frame = batch.frames.get("metrics")
        if frame is not None and len(frame):
            ordered = frame.sort_values("ts", kind="stable")
            for host, metric, ts, value in zip(
                    ordered["host"].astype(str), ordered["metric"].astype(str),
                    ordered["ts"], ordered["value"].astype(float), strict=True):
                self._host(host).add(metric, ts.to_pydatetime(), value)
        self._observe_processes(batch)
        return None

    def _observe_processes(self, batch: Batch) -> None:
        polls: dict[str, tuple[datetime, list[Process]]] = {}
        for p in batch.processes:
            newest = polls.get(p.host)
            if newest is None or p.ts > newest[0]:
                polls[p.host] = (p.ts, [])
            if polls[p.host][0] == p.ts:
                polls[p.host][1].append(Process(p.pid, p.name, p.user, p.cpu_pct, p.mem_pct,
                                                p.rss_bytes))
        frame = batch.frames.get("processes")
        if frame is not None and len(frame):
            for host, rows in frame.groupby(frame["host"].astype(str)):
                newest_ts = rows["ts"].max()
                latest = rows[rows["ts"] == newest_ts]
                polls[host] = (newest_ts.to_pydatetime(), [
                    Process(int(r.pid), str(r.name), str(r.user or ""), float(r.cpu_pct),
                            float(r.mem_pct), int(r.rss_bytes))
                    for r in latest.itertuples(index=False)])
        for host, (ts, procs) in polls.items():
            state = self._host(host)
            if state.processes_at is None or ts >= state.processes_at:
                state.processes, state.processes_at = tuple(procs), ts

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host()
        return state

    def view(self, store: Store, now: datetime) -> tuple[TelemetryView, ...]:
        if not self._loaded:
            self.restore(store)
        ordered = sorted(self._hosts.items(),
                         key=lambda kv: (-(kv[1].last_ts.timestamp() if kv[1].last_ts else 0),
                                         kv[0]))
        return tuple(state.view(host) for host, state in ordered)


def build_telemetry(
    store: Store, now: datetime, history: timedelta = timedelta(minutes=5)
) -> tuple[TelemetryView, ...]:
    """The same view straight from the store (start-up, and as a reference in tests)."""
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
                processes=_processes(latest_processes(store, host, now)),
            )
        )
    return tuple(views)


def _processes(rows: list[tuple[Any, ...]]) -> tuple[Process, ...]:
    return tuple(
        Process(int(pid), str(name), str(user or ""), float(cpu or 0.0), float(mem or 0.0),
                int(rss or 0))
        for pid, name, user, cpu, mem, rss in rows
    )
