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

import numpy as np
import pandas as pd

from opscockpit.analysis.data_quality import (
    QualitySettings,
    data_quality_by_window,
    quality_issues,
)
from opscockpit.analysis.drift import (
    DriftSettings,
    dataset_drift,
    drift_by_window,
    drift_onsets,
    onset_index,
    still_active,
)
from opscockpit.analysis.model_performance import (
    HIGHER_IS_BETTER,
    PerformanceSettings,
    Task,
    detect_task,
    performance_by_window,
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
    """The store's ``ModelObservation`` rows (features as JSON) to one column per feature."""
    parsed = [json.loads(text) if isinstance(text, str) else (text or {})
              for text in observations["features"]]
    features = pd.DataFrame.from_records(parsed, index=observations.index)
    base = observations.drop(columns=["features"])
    return pd.concat([base, features.drop(columns=[c for c in features if c in base])], axis=1)


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
        _one(str(model), str(version), rows, _reference_for(reference, model, version), settings)
        for (model, version), rows in frame.groupby(["model", "version"], sort=True)
    ]
    order = list(ModelStatus)
    return sorted(found, key=lambda h: (order.index(h.status), h.model, h.version))


def model_report(
    frame: pd.DataFrame, reference: pd.DataFrame | None = None,
    settings: HealthSettings | None = None,
) -> list[dict[str, Any]]:
    """The report's ``models`` entries (DESIGN.md): plain JSON-ready dicts."""
    return [health_to_dict(h) for h in model_health(frame, reference, settings)]


def health_to_dict(health: ModelHealth) -> dict[str, Any]:
    latest = _latest_per_feature(health.drift, health.onsets)
    return {
        "model": health.model,
        "version": health.version,
        "status": str(health.status),
        "drift": latest,
        "performance": [
            {"window_start": _iso(r.window_start), "metric": r.metric, "value": float(r.value),
             "n": int(r.n)}
            for r in health.performance.itertuples(index=False)
        ],
        "data_quality": _issue_summary(health.issues),
        "rows": health.rows,
        "labelled_rows": health.labelled_rows,
        "reference_rows": health.reference_rows,
        "drifted_features": health.drifted_features,
        "drift_onset": _iso(health.drift_onset),
        "degraded_since": _iso(health.degraded_since),
        "primary_metric": health.primary_metric,
        "band": list(health.band) if health.band else None,
    }


# ---------------------------------------------------------------- one model version


def _one(
    model: str, version: str, rows: pd.DataFrame, reference: pd.DataFrame | None,
    settings: HealthSettings,
) -> ModelHealth:
    if reference is None:
        reference, current = split_reference(rows, settings)
    else:
        current = rows.sort_values("ts", kind="stable")
    columns = _columns(current, reference, settings)
    drift_settings = replace(settings.drift, window=settings.window)
    drift = drift_by_window(current, reference, columns, drift_settings)
    onsets = drift_onsets(drift, drift_settings)
    dataset = dataset_drift(drift, drift_settings.dataset_drift_share)
    quality_settings = replace(settings.quality, window=settings.window)
    quality = data_quality_by_window(current, reference, columns, quality_settings)
    issues = quality_issues(quality, quality_settings)

    labelled = current if "label" in current else current.iloc[:0]
    labelled_rows = int(labelled["label"].notna().sum()) if len(labelled) else 0
    task = _task(current, reference, settings)
    performance = performance_by_window(current, settings.window,
                                        _fixed_task(settings.performance, task))
    ref_performance = performance_by_window(reference, settings.window,
                                            _fixed_task(settings.performance, task))
    metric = _primary_metric(performance, ref_performance, task, settings)
    band = _band(metric, reference, ref_performance, settings, task) if metric else None
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
        model=model, version=version, status=status, rows=len(current),
        labelled_rows=labelled_rows, reference_rows=len(reference),
        drifted_features=drifted_now,
        drift_onset=active["onset"].min() if len(active) else None,
        degraded_since=degraded_since, primary_metric=metric, band=band, sparkline=spark,
        drift=drift, onsets=onsets, dataset=dataset, performance=performance,
        quality=quality, issues=issues,
    )


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


def _latest_per_feature(drift: pd.DataFrame, onsets: pd.DataFrame) -> list[dict[str, Any]]:
    if drift.empty:
        return []
    latest = drift.sort_values("window").groupby("feature", sort=False).tail(1)
    merged = latest.merge(onsets[["feature", "onset", "active"]], on="feature", how="left")
    merged["rank_onset"] = merged["onset"].map(
        lambda t: t.value if isinstance(t, pd.Timestamp) and not pd.isna(t) else np.iinfo(
            np.int64).max)
    merged = merged.sort_values(["drifted", "active", "rank_onset", "statistic"],
                                ascending=[False, False, True, False], kind="stable")
    return [{
        "feature": r.feature, "method": r.method, "statistic": _finite(r.statistic),
        "threshold": float(r.threshold), "drifted": bool(r.drifted),
        "onset": _iso(r.onset), "p_value": _finite(r.p_value),
        "window_start": _iso(r.window_start),
    } for r in merged.itertuples(index=False)]


def _issue_summary(issues: pd.DataFrame) -> list[dict[str, Any]]:
    """One entry per (column, check): how bad at worst and since when; latest first."""
    if issues.empty:
        return []
    out = []
    for (column, check), group in issues.groupby(["column", "check"], sort=False):
        worst = group.loc[group["value"].idxmax()]
        out.append({
            "column": column, "check": check, "value": float(worst["value"]),
            "summary": worst["summary"], "windows": len(group),
            "first_seen": _iso(group["window_start"].min()),
            "last_seen": _iso(group["window_start"].max()),
        })
    return sorted(out, key=lambda d: (d["last_seen"] or "", d["value"]), reverse=True)


def _finite(value: object) -> float | None:
    """JSON has no infinity (chi-square's verdict on an unseen category): null instead."""
    if value is None or pd.isna(value) or not np.isfinite(float(value)):  # type: ignore[arg-type]
        return None
    return float(value)  # type: ignore[arg-type]


def _iso(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat().replace("+00:00", "Z")
