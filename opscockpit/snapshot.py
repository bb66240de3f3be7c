"""The immutable picture of the cockpit that the engine publishes and panes render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from opscockpit.sources.base import SourceHealth
from opscockpit.store import Store
from opscockpit.store.telemetry_queries import (
    hosts,
    latest_metrics,
    latest_processes,
    series_window,
)

SPARK_METRICS = ("cpu_pct", "mem_pct", "load1", "disk_read_bps", "disk_write_bps",
                 "net_rx_bps", "net_tx_bps", "swap_pct")


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    name: str
    user: str
    cpu_pct: float
    mem_pct: float
    rss_bytes: int


@dataclass(frozen=True, slots=True)
class TelemetryView:
    """One host's latest figures and recent history."""

    host: str
    at: datetime | None
    latest: dict[str, float] = field(default_factory=dict)
    history: dict[str, tuple[float, ...]] = field(default_factory=dict)
    processes: tuple[Process, ...] = ()

    def value(self, metric: str, default: float = 0.0) -> float:
        return self.latest.get(metric, default)

    def labelled(self, base: str) -> dict[str, float]:
        """Values of ``base{label=x}`` series keyed by ``x``, in a stable order."""
        prefix = base + "{"
        out = {}
        for name, value in sorted(self.latest.items(), key=lambda kv: _natural(kv[0])):
            if name.startswith(prefix) and name.endswith("}"):
                out[name[len(prefix):-1].split("=", 1)[-1]] = value
        return out


@dataclass(frozen=True, slots=True)
class Snapshot:
    now: datetime
    live: bool
    health: tuple[SourceHealth, ...] = ()
    telemetry: tuple[TelemetryView, ...] = ()
    store_path: str = ""
    readonly: bool = False

    @property
    def host(self) -> str:
        return self.telemetry[0].host if self.telemetry else ""


def build_telemetry(
    store: Store, now: datetime, history: timedelta = timedelta(minutes=5)
) -> tuple[TelemetryView, ...]:
    views = []
    for host in hosts(store):
        latest_frame = latest_metrics(store, host, at=now)
        latest = dict(zip(latest_frame["metric"], latest_frame["value"].astype(float), strict=True))
        at = latest_frame["ts"].max() if not latest_frame.empty else None
        window = series_window(store, host, list(SPARK_METRICS), now - history, now)
        series = {
            str(metric): tuple(float(v) for v in group["value"])
            for metric, group in window.groupby("metric", sort=False)
        }
        views.append(
            TelemetryView(
                host=host,
                at=None if at is None or pd.isna(at) else at.to_pydatetime(),
                latest=latest,
                history=series,
                processes=_processes(latest_processes(store, host, at=now)),
            )
        )
    return tuple(views)


def _processes(frame: pd.DataFrame) -> tuple[Process, ...]:
    return tuple(
        Process(int(r.pid), str(r.name), str(r.user or ""), float(r.cpu_pct), float(r.mem_pct),
                int(r.rss_bytes))
        for r in frame.itertuples(index=False)
    )


def _natural(name: str) -> tuple[object, ...]:
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return (name.rstrip("0123456789}"), *(int(d) for d in digits))
