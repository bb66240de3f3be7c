"""The domain records every layer speaks.

Records are small, frozen and typed. Sources produce them, the store keeps them
(one table per kind), analysis reads them back as DataFrames whose columns carry
the same names as the fields below. Every ``ts`` is a timezone-aware UTC datetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utc(ts: datetime) -> datetime:
    """Return ``ts`` as an aware UTC datetime (naive values are taken as UTC)."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @classmethod
    def parse(cls, text: str | None) -> Severity:
        """Map the many spellings seen in the wild onto four levels."""
        key = (text or "").strip().lower()
        return _SEVERITY_ALIASES.get(key, cls.WARNING if key else cls.INFO)

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_ALIASES = {
    "info": Severity.INFO, "informational": Severity.INFO, "notice": Severity.INFO,
    "debug": Severity.INFO, "none": Severity.INFO, "ok": Severity.INFO, "low": Severity.INFO,
    "warning": Severity.WARNING, "warn": Severity.WARNING, "minor": Severity.WARNING,
    "medium": Severity.WARNING, "moderate": Severity.WARNING,
    "error": Severity.ERROR, "err": Severity.ERROR, "major": Severity.ERROR, "high": Severity.ERROR,
    "critical": Severity.CRITICAL, "crit": Severity.CRITICAL, "fatal": Severity.CRITICAL,
    "emergency": Severity.CRITICAL, "emerg": Severity.CRITICAL, "alert": Severity.CRITICAL,
    "page": Severity.CRITICAL, "disaster": Severity.CRITICAL,
}
_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One value of one series: ``host``/``metric`` name the series."""

    ts: datetime
    host: str
    metric: str
    value: float


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """One process as seen at one poll; the Telemetry pane's process table."""

    ts: datetime
    host: str
    pid: int
    name: str
    user: str
    cpu_pct: float
    mem_pct: float
    rss_bytes: int


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert or a log event. ``status`` is ``firing`` or ``resolved``."""

    ts: datetime
    id: str
    source: str
    severity: Severity
    host: str
    service: str
    title: str
    message: str
    labels: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    status: str = "firing"
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """One CI run (GitHub workflow run, GitLab pipeline, Jenkins build)."""

    ts: datetime
    provider: str
    repo: str
    workflow: str
    run_id: str
    branch: str
    sha: str
    status: str
    conclusion: str
    started_at: datetime | None
    finished_at: datetime | None
    url: str
    actor: str = ""
    event: str = ""
    attempt: int = 1
    committed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PipelineJob:
    """One job of a CI run, with the step that failed if any."""

    ts: datetime
    provider: str
    repo: str
    run_id: str
    job_id: str
    name: str
    status: str
    conclusion: str
    started_at: datetime | None
    finished_at: datetime | None
    url: str
    failed_step: str = ""
    attempt: int = 1


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Change:
    """Something that changed the system: the input of "what changed?"."""

    ts: datetime
    id: str
    kind: ChangeKind
    service: str
    version: str = ""
    sha: str = ""
    author: str = ""
    url: str = ""
    source: str = ""
    status: str = ""  # success, failure, rolled_back... where the system says


@dataclass(frozen=True, slots=True)
class ModelObservation:
    """One prediction of a model, with its features and, once known, its label."""

    ts: datetime
    model: str
    version: str
    record_id: str
    features: dict[str, Any]
    prediction: float | str | None
    score: float | None = None
    label: float | str | None = None


@dataclass(frozen=True, slots=True)
class Annotation:
    """An operator's note or feedback (``kind``: note, actionable, noise, confirm, reject)."""

    ts: datetime
    id: str
    kind: str
    target: str
    text: str
    author: str = ""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """An anomaly episode of one series (``ts`` is its start; ``end`` None while open)."""

    ts: datetime
    series: str
    host: str
    metric: str
    start: datetime
    end: datetime | None
    peak_score: float
    peak_ts: datetime


@dataclass(frozen=True, slots=True)
class NoiseStat:
    """The alert noise figures at one instant."""

    ts: datetime
    alerts: int
    clusters: int
    reduction_ratio: float
    flapping: int
    marked_noise_share: float


def now_utc() -> datetime:
    return datetime.now(UTC)
