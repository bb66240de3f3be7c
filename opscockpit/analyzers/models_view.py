"""The Models pane's view: frozen records of plain values, no DataFrame inside.

Kept apart from the analyzer so the pane can import these types without pulling pandas,
scikit-learn or scipy into the live cockpit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Most serious first: the order of the pane and of the report.
STATUS_ORDER = ("degraded", "drifting", "no labels yet", "healthy")
OUTPUTS = ("prediction", "score")


@dataclass(frozen=True, slots=True)
class DriftPoint:
    """One window of one feature."""

    start: datetime | None
    statistic: float | None
    drifted: bool


@dataclass(frozen=True, slots=True)
class FeatureView:
    """One column's drift: its latest window's test, when the drift began, the statistic per
    window, and reference and current shares over the same bins (for the distribution)."""

    feature: str
    kind: str  # "num" or "cat"
    output: bool  # the model's prediction or score rather than an input
    method: str
    statistic: float | None
    threshold: float
    p_value: float | None
    drifted: bool  # in sustained drift (the report's "drifted")
    onset: datetime | None
    window_drifted: bool  # the latest window over its threshold
    history: tuple[DriftPoint, ...] = ()
    bins: tuple[str, ...] = ()
    reference: tuple[float, ...] = ()
    current: tuple[float, ...] = ()
    current_rows: int = 0

    @property
    def uses_p_value(self) -> bool:
        return self.method in ("ks", "chisquare", "z")


@dataclass(frozen=True, slots=True)
class QualityView:
    column: str
    check: str
    value: float
    summary: str
    windows: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class MetricSeries:
    metric: str
    values: tuple[float, ...]
    starts: tuple[datetime | None, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelView:
    model: str
    version: str
    status: str  # one of STATUS_ORDER
    rows: int
    labelled_rows: int
    reference_rows: int
    reference_from: datetime | None
    reference_to: datetime | None
    window: str  # "5000 rows", "1D"
    windows: int
    drifted_features: int  # inputs drifting in the latest window
    features_total: int  # inputs
    drift_onset: datetime | None
    degraded_since: datetime | None
    metric: str | None  # the primary metric of the sparkline
    metric_value: float | None  # its latest window
    band: tuple[float, float] | None
    sparkline: tuple[float, ...] = ()
    features: tuple[FeatureView, ...] = ()  # drifting first
    quality: tuple[QualityView, ...] = ()
    metrics: tuple[MetricSeries, ...] = ()
    last_seen: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.model} {self.version}".strip()

    @property
    def since(self) -> datetime | None:
        """When it went wrong: degraded since, else the drift onset."""
        return self.degraded_since or self.drift_onset


@dataclass(frozen=True, slots=True)
class ModelsView:
    at: datetime
    models: tuple[ModelView, ...] = ()

    def find(self, model: str, version: str) -> ModelView | None:
        return next((m for m in self.models if (m.model, m.version) == (model, version)), None)
