"""The immutable picture of the cockpit that the engine publishes and panes render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from opscockpit.sources.base import SourceHealth


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
    """Everything the panes show at one instant. ``views`` maps a pane name to its view."""

    now: datetime
    live: bool
    health: tuple[SourceHealth, ...] = ()
    views: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    readonly: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.views, MappingProxyType):
            object.__setattr__(self, "views", MappingProxyType(dict(self.views)))

    @property
    def telemetry(self) -> tuple[TelemetryView, ...]:
        return tuple(self.views.get("telemetry") or ())

    @property
    def host(self) -> str:
        return self.telemetry[0].host if self.telemetry else ""


def _natural(name: str) -> tuple[object, ...]:
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return (name.rstrip("0123456789}"), *(int(d) for d in digits))
