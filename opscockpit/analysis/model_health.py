"""One status per model and version: drift, data quality and performance put together.

Status, most serious first: ``degraded`` (labels show the primary metric out of the band the
reference set), ``drifting`` (a column - inputs, prediction or score - in sustained drift),
``no labels yet`` (nothing to judge performance by, and no drift), ``healthy``.

The performance band is NannyML's idea: the metric on reference windows of the same size,
mean ± 3 standard deviations, so that a 5,000-row window and a daily one of 40 rows each
get the noise they deserve. With fewer than two labelled reference windows it falls back
to the whole reference's value ± ``degradation_tolerance``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import pandas as pd

from opscockpit.analysis.data_quality import (
    QUALITY_COLUMNS,
    ColumnProfile,
    QualitySettings,
    quality_issues,
    reference_profiles,
    window_quality,
)
from opscockpit.analysis.drift import (
    DRIFT_COLUMNS,
    DriftSettings,
    PreparedReference,
    Window,
    dataset_drift,
    drift_onsets,
    onset_index,
    prepare_reference,
    still_active,
    window_bounds,
    window_drift,
)
from opscockpit.analysis.model_performance import (
    HIGHER_IS_BETTER,
    PERFORMANCE_COLUMNS,
    PerformanceSettings,
    Task,
    detect_task,
    performance_by_window,
    window_metrics,
)

FIXED = ("ts", "model", "version", "record_id", "prediction", "score", "label")
OUTPUTS = ("prediction", "score")


class ModelStatus(StrEnum):
    DEGRADED = "degraded"
    DRIFTING = "drifting"
    NO_LABELS = "no labels yet"
    HEALTHY = "healthy"


@dataclass(frozen=True)
class HealthSettings:
    """``window`` applies to drift, quality and performance alike. Without an explicit
    reference frame the reference is the first ``reference_period`` (e.g. "14D") or the first
    ``reference_rows`` of each model version, else its first ``reference_share``."""

    window: str | int = "1D"
    drift: DriftSettings = field(default_factory=DriftSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    reference_rows: int | None = None
    reference_period: str | None = None
    reference_share: float = 0.2
    features: tuple[str, ...] | None = None
    include_outputs: bool = True
    primary_metric: str | None = None
    degradation_sigmas: float = 3.0
    degradation_tolerance: float = 0.02
    drifting_min_features: int = 1


@dataclass(frozen=True)
class ModelHealth:
    model: str
    version: str
    status: ModelStatus
    rows: int
    labelled_rows: int
    reference_rows: int
    drifted_features: int  # in the latest window
    drift_onset: pd.Timestamp | None  # earliest start among the columns drifting now
    degraded_since: pd.Timestamp | None
    primary_metric: str | None
    band: tuple[float, float] | None
    sparkline: list[float]  # primary metric per window, oldest first
    drift: pd.DataFrame  # drift_by_window
    onsets: pd.DataFrame  # drift_onsets
    dataset: pd.DataFrame  # dataset_drift
    performance: pd.DataFrame  # performance_by_window
    quality: pd.DataFrame  # data_quality_by_window
    issues: pd.DataFrame  # quality_issues


def wide_from_observations(observations: pd.DataFrame) -> pd.DataFrame:
    """The store's ``ModelObservation`` rows (features as JSON) to one column per feature.

    The store keeps predictions and labels as text; they come back as numbers (or booleans)
    when every value reads as one, so a regressor's output is tested as a number whether it
    was handed over in a batch or read back.
    """
    parsed = [json.loads(text) if isinstance(text, str) else (text or {})
              for text in observations["features"]]
    features = pd.DataFrame.from_records(parsed, index=observations.index)
    base = typed_outputs(observations.drop(columns=["features"]))
    return pd.concat([base, features.drop(columns=[c for c in features if c in base])], axis=1)


def typed_outputs(frame: pd.DataFrame) -> pd.DataFrame:
    """Predictions and labels read back from the store's text, typed (see typed_text)."""
    frame = frame.copy()
    for column in ("prediction", "label"):
        if column in frame:
            frame[column] = typed_text(frame[column])
    return frame


def typed_text(values: pd.Series) -> pd.Series:
    """Text that is all numbers to floats, all true/false to booleans; else as it is."""
    present = values.dropna()
    if present.empty or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return values
    lowered = present.astype(str).str.strip().str.lower()
    if lowered.isin(("true", "false")).all():
        return values.map(lambda v: None if pd.isna(v) else str(v).strip().lower() == "true"
                          ).astype(object if len(present) < len(values) else bool)
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        return pd.to_numeric(values, errors="coerce").astype("float64").astype(object)
    return values


def split_reference(
    frame: pd.DataFrame, settings: HealthSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference period at the start of one model version's rows, and the rest."""
    frame = frame.sort_values("ts", kind="stable")
    if settings.reference_period is not None:
        cut = frame["ts"].iloc[0] + pd.tseries.frequencies.to_offset(settings.reference_period)
        mask = (frame["ts"] < cut).to_numpy()
        return frame[mask], frame[~mask]
    rows = settings.reference_rows
    if rows is None:
        rows = max(1, int(len(frame) * settings.reference_share))
    return frame.iloc[:rows], frame.iloc[rows:]


def model_health(
    frame: pd.DataFrame, reference: pd.DataFrame | None = None,
    settings: HealthSettings | None = None,
) -> list[ModelHealth]:
    """Health of every (model, version) in the wide frame, worst status first."""
    settings = settings or HealthSettings()
    found = [
        version_health(str(model), str(version), rows,
                       _reference_for(reference, model, version), settings)
        for (model, version), rows in frame.groupby(["model", "version"], sort=True)
    ]
    order = list(ModelStatus)
    return sorted(found, key=lambda h: (order.index(h.status), h.model, h.version))


def model_report(
    frame: pd.DataFrame, reference: pd.DataFrame | None = None,
    settings: HealthSettings | None = None,
) -> list[dict[str, Any]]:
    """The report's ``models`` entries (DESIGN.md): plain JSON-ready dicts."""
    # model_json reads ModelHealth from here: imported late to keep the import one-way.
    from opscockpit.analysis.model_json import health_to_dict

    return [health_to_dict(h) for h in model_health(frame, reference, settings)]


# ---------------------------------------------------------------- one model version


def version_health(
    model: str, version: str, rows: pd.DataFrame, reference: pd.DataFrame | None,
    settings: HealthSettings,
) -> ModelHealth:
    """One version's health from its rows (``reference`` None: split off its start). Rows
    may be empty: the version is then judged on nothing, and says so."""
    if reference is None:
        reference, current = split_reference(rows, settings)
    else:
        current = rows.sort_values("ts", kind="stable")
    base = make_baseline(reference, current, settings)
    times = current.get("ts")
    verdicts = [judge_window(base, w, current.iloc[w.lo : w.hi])
                for w in window_bounds(times, len(current), settings.window)]
    return assemble(model, version, base, verdicts)


@dataclass(frozen=True)
class Baseline:
    """What every window of one model version is judged against, computed once: the
    prepared reference columns, their quality profiles, the task and the reference's own
    performance per window (the band)."""

    reference: pd.DataFrame
    columns: tuple[str, ...]
    prepared: tuple[PreparedReference, ...]
    profiles: dict[str, ColumnProfile]
    task: Task
    ref_performance: pd.DataFrame
    settings: HealthSettings
    drift_settings: DriftSettings
    quality_settings: QualitySettings
    performance_settings: PerformanceSettings


@dataclass(frozen=True)
class WindowVerdict:
    """One window's rows of the drift, quality and performance frames."""

    window: Window
    rows: int
    labelled_rows: int
    drift: list[dict[str, object]]
    quality: list[dict[str, object]]
    performance: list[dict[str, object]]


def make_baseline(reference: pd.DataFrame, current: pd.DataFrame, settings: HealthSettings
                  ) -> Baseline:
    """``current`` only decides the columns and, without reference labels, the task."""
    columns = _columns(current, reference, settings)
    drift_settings = replace(settings.drift, window=settings.window)
    quality_settings = replace(settings.quality, window=settings.window)
    task = _task(current, reference, settings)
    performance_settings = _fixed_task(settings.performance, task)
    return Baseline(
        reference=reference, columns=tuple(columns),
        prepared=tuple(prepare_reference(reference[c], drift_settings) for c in columns),
        profiles=reference_profiles(reference, columns, quality_settings), task=task,
        ref_performance=performance_by_window(reference, settings.window,
                                              performance_settings),
        settings=settings, drift_settings=drift_settings, quality_settings=quality_settings,
        performance_settings=performance_settings,
    )


def judge_window(base: Baseline, window: Window, chunk: pd.DataFrame) -> WindowVerdict:
    """Drift, quality and performance of the rows of one window."""
    drift = window_drift(base.prepared, window, chunk, base.drift_settings) \
        if len(chunk) >= base.drift_settings.min_window_rows else []
    quality = window_quality(chunk, base.profiles, window.index, window.start)
    has_labels = "label" in chunk and "prediction" in chunk
    labelled = chunk["label"].notna() if "label" in chunk else pd.Series(False, chunk.index)
    performance: list[dict[str, object]] = []
    if has_labels and labelled.any():
        n = int((labelled & chunk["prediction"].notna()).sum())
        performance = [
            {"window": window.index, "window_start": window.start, "metric": metric,
             "value": value, "n": n}
            for metric, value in window_metrics(chunk, base.task,
                                                base.performance_settings).items()
        ]
    return WindowVerdict(window, len(chunk), int(labelled.sum()), drift, quality, performance)


def assemble(model: str, version: str, base: Baseline, verdicts: list[WindowVerdict]
             ) -> ModelHealth:
    """One status and its evidence from the windows judged so far, oldest first."""
    settings, drift_settings = base.settings, base.drift_settings
    drift = _frame([r for v in verdicts for r in v.drift], DRIFT_COLUMNS)
    quality = _frame([r for v in verdicts for r in v.quality], QUALITY_COLUMNS)
    performance = _frame([r for v in verdicts for r in v.performance], PERFORMANCE_COLUMNS)
    onsets = drift_onsets(drift, drift_settings)
    dataset = dataset_drift(drift, drift_settings.dataset_drift_share)
    issues = quality_issues(quality, base.quality_settings)
    labelled_rows = sum(v.labelled_rows for v in verdicts)
    metric = _primary_metric(performance, base.ref_performance, base.task, settings)
    band = _band(metric, base.reference, base.ref_performance, settings, base.task) \
        if metric else None
    degraded_since = _degraded_since(performance, metric, band, drift_settings)

    latest_window = drift["window"].max() if len(drift) else None
    drifted_now = int(drift.loc[drift["window"] == latest_window, "drifted"].sum()) \
        if latest_window is not None else 0
    active = onsets[onsets["active"]]
    dataset_now = bool(len(dataset) and dataset["drifted"].iloc[-1])
    if degraded_since is not None:
        status = ModelStatus.DEGRADED
    elif len(active) >= settings.drifting_min_features or dataset_now:
        status = ModelStatus.DRIFTING
    elif labelled_rows == 0:
        status = ModelStatus.NO_LABELS
    else:
        status = ModelStatus.HEALTHY
    spark = performance.loc[performance["metric"] == metric, "value"].astype(float).tolist() \
        if metric else []
    return ModelHealth(
        model=model, version=version, status=status, rows=sum(v.rows for v in verdicts),
        labelled_rows=labelled_rows, reference_rows=len(base.reference),
        drifted_features=drifted_now,
        drift_onset=active["onset"].min() if len(active) else None,
        degraded_since=degraded_since, primary_metric=metric, band=band, sparkline=spark,
        drift=drift, onsets=onsets, dataset=dataset, performance=performance,
        quality=quality, issues=issues,
    )


def _frame(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _reference_for(reference: pd.DataFrame | None, model: object, version: object
                   ) -> pd.DataFrame | None:
    """The explicit reference rows of this version, else of this model, else all of it."""
    if reference is None:
        return None
    if "model" in reference:
        same_model = reference[reference["model"] == model]
        if "version" in reference:
            same = same_model[same_model["version"] == version]
            if len(same):
                return same
        if len(same_model):
            return same_model
    return reference


def _columns(current: pd.DataFrame, reference: pd.DataFrame, settings: HealthSettings
             ) -> list[str]:
    if settings.features is not None:
        features = list(settings.features)
    else:
        features = [c for c in current.columns if c not in FIXED and c in reference]
    if settings.include_outputs:
        features += [c for c in OUTPUTS if c in current and c in reference
                     and current[c].notna().any() and reference[c].notna().any()]
    return features


def _task(current: pd.DataFrame, reference: pd.DataFrame, settings: HealthSettings) -> Task:
    if settings.performance.task != "auto":
        return settings.performance.task
    wanted = ["label", "prediction"]
    both = pd.concat([f[[c for c in wanted if c in f]] for f in (reference, current)],
                     ignore_index=True)
    if "label" not in both or "prediction" not in both or both["label"].isna().all():
        return "classification"
    return detect_task(both["label"], both["prediction"])


def _fixed_task(settings: PerformanceSettings, task: Task) -> PerformanceSettings:
    return replace(settings, task=task)


def _primary_metric(performance: pd.DataFrame, reference: pd.DataFrame, task: Task,
                    settings: HealthSettings) -> str | None:
    if settings.primary_metric:
        return settings.primary_metric
    known = set(performance["metric"]) | set(reference["metric"])
    preference = ("roc_auc", "accuracy") if task == "classification" else ("mae", "rmse")
    return next((m for m in preference if m in known), None)


def _band(metric: str, reference: pd.DataFrame, ref_performance: pd.DataFrame,
          settings: HealthSettings, task: Task) -> tuple[float, float] | None:
    values = ref_performance.loc[ref_performance["metric"] == metric, "value"].astype(float)
    if len(values) >= 2:
        centre, spread = float(values.mean()), float(values.std(ddof=1))
        width = settings.degradation_sigmas * spread
        return centre - width, centre + width
    whole = performance_by_window(reference, max(len(reference), 1),
                                  _fixed_task(settings.performance, task))
    value = whole.loc[whole["metric"] == metric, "value"]
    if value.empty:
        return None
    centre = float(value.iloc[0])
    margin = settings.degradation_tolerance * max(abs(centre), 1e-9)
    return centre - margin, centre + margin


def _degraded_since(performance: pd.DataFrame, metric: str | None,
                    band: tuple[float, float] | None, settings: DriftSettings
                    ) -> pd.Timestamp | None:
    if metric is None or band is None:
        return None
    series = performance[performance["metric"] == metric]
    values = series["value"].to_numpy(float)
    bad = values < band[0] if HIGHER_IS_BETTER.get(metric, True) else values > band[1]
    at = onset_index(bad.tolist(), settings.onset_k, settings.onset_m)
    if at is None or not still_active(bad.tolist(), settings.onset_k, settings.onset_m):
        return None
    return series["window_start"].iloc[at]
