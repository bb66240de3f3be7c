"""The contract every source adapter implements, built-in or plugin.

A source knows one outside system and its wire format. ``poll(since)`` returns a
:class:`Batch` of records; it may be a plain method (the engine runs it in a
thread) or a coroutine. It raises :class:`SourceError` with a short, secret-free
reason when the system cannot be read; the engine turns that into health.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from opscockpit.records import (
    Alert,
    Annotation,
    Anomaly,
    Change,
    MetricSample,
    ModelObservation,
    NoiseStat,
    PipelineJob,
    PipelineRun,
    ProcessSample,
)

if TYPE_CHECKING:
    import pandas as pd


class SourceError(Exception):
    """A source could not be read; ``str(error)`` is shown to the operator."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Option:
    """One setting a source declares; the config is validated against these."""

    name: str
    type: type
    default: Any = None
    required: bool = False
    help: str = ""
    secret_env: bool = False  # the value names an environment variable holding a secret


@dataclass(slots=True)
class Batch:
    """What one poll returns. Lists of records, or ready frames for bulk imports."""

    metrics: list[MetricSample] = field(default_factory=list)
    processes: list[ProcessSample] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    runs: list[PipelineRun] = field(default_factory=list)
    jobs: list[PipelineJob] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    observations: list[ModelObservation] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    noise_stats: list[NoiseStat] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # table name -> rows

    def __len__(self) -> int:
        lists: Sequence[Sequence[object]] = (
            self.metrics, self.processes, self.alerts, self.runs, self.jobs,
            self.changes, self.observations, self.annotations, self.anomalies,
            self.noise_stats,
        )
        return sum(len(x) for x in lists) + sum(len(f) for f in self.frames.values())


class HealthState(StrEnum):
    OK = "ok"
    STALE = "stale"
    ERROR = "error"
    STARTING = "starting"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    state: HealthState
    reason: str = ""
    last_ok: datetime | None = None
    last_poll_s: float | None = None
    rows: int = 0


class Source(ABC):
    """Base of every adapter. Subclasses set ``kind`` and declare ``options``."""

    kind: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()
    default_interval_s: ClassVar[float] = 5.0
    default_timeout_s: ClassVar[float] = 10.0

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.settings = resolve_options(self.kind, self.options, settings or {})

    @abstractmethod
    def poll(self, since: datetime | None) -> Batch | Awaitable[Batch]:
        """Return what is new since ``since`` (``None``: first poll)."""

    def close(self) -> None:  # noqa: B027 - most sources hold nothing to release
        """Release connections and files."""


def resolve_options(
    kind: str, declared: Sequence[Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``given`` against the declared options; unknown or mistyped keys raise."""
    known = {o.name: o for o in declared}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"source {kind!r} has no option {unknown[0]!r}")
    resolved: dict[str, Any] = {}
    for opt in declared:
        if opt.name not in given:
            if opt.required:
                raise ValueError(f"source {kind!r} needs option {opt.name!r}")
            resolved[opt.name] = opt.default
            continue
        value = given[opt.name]
        if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, opt.type):
            raise ValueError(
                f"source {kind!r} option {opt.name!r} should be {opt.type.__name__}, "
                f"got {type(value).__name__}"
            )
        resolved[opt.name] = value
    return resolved
