"""The immutable picture of the cockpit that the engine publishes and panes render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    for host in hosts(store, now):
        latest = latest_metrics(store, host, now)
        series = series_window(store, host, list(SPARK_METRICS), now - history, now)
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


def _natural(name: str) -> tuple[object, ...]:
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return (name.rstrip("0123456789}"), *(int(d) for d in digits))
