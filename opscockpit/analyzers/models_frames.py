"""Frames in, view out, for the models analyzer: a batch's observations as one wide frame,
and a model version's health as the frozen :class:`ModelView` the pane draws.

Imported by the analyzer only once observations exist (it needs pandas).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from opscockpit.analysis.model_health import HealthSettings, ModelHealth, wide_from_observations
from opscockpit.analysis.model_json import health_to_dict
from opscockpit.analysis.model_tracker import ModelTracker
from opscockpit.analyzers.models_view import (
    OUTPUTS,
    DriftPoint,
    FeatureView,
    MetricSeries,
    ModelView,
    QualityView,
)
from opscockpit.sources.base import Batch

WIDE_PREFIX = "feature:"  # wide feature columns beside the JSON (sources.prediction_ingest)
BASE = ("ts", "model", "version", "record_id", "prediction", "score", "label")


def batch_frame(batch: Batch) -> pd.DataFrame:
    """Every observation of a batch as one wide frame: the ready frame's wide columns when it
    carries them, its JSON otherwise, and the records."""
    parts: list[pd.DataFrame] = []
    frame = batch.frames.get("model_observations")
    if frame is not None and len(frame):
        wide = [c for c in frame.columns if str(c).startswith(WIDE_PREFIX)]
        if wide:
            features = frame[wide].rename(columns=lambda c: str(c)[len(WIDE_PREFIX):])
            parts.append(pd.concat([frame[list(BASE)], features], axis=1))
        else:
            parts.append(wide_from_observations(frame[[*BASE, "features"]]))
    if batch.observations:
        base = pd.DataFrame([{name: getattr(o, name) for name in BASE}
                             for o in batch.observations])
        features = pd.DataFrame.from_records([o.features or {} for o in batch.observations])
        parts.append(pd.concat([base, features.drop(columns=[c for c in features
                                                             if c in base])], axis=1))
    if not parts:
        return pd.DataFrame(columns=list(BASE))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out = out.reset_index(drop=True)
    out["ts"] = pd.to_datetime(out["ts"], utc=True, format="mixed")
    out["model"] = out["model"].astype(str)
    out["version"] = out["version"].fillna("").astype(str)
    return out


def split_label_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions, and late labels (rows with a label and nothing else), apart."""
    features = [c for c in frame.columns if c not in BASE]
    bare = frame["prediction"].isna()
    if features:
        bare &= frame[features].isna().all(axis=1)
    is_label = bare & frame["label"].notna()
    labels = frame.loc[is_label, ["record_id", "label"]].dropna(subset=["record_id"])
    return frame[~is_label], labels.astype({"record_id": str})


def model_view(tracker: ModelTracker, health: ModelHealth, last_seen: Any) -> ModelView:
    """The pane's picture of one version, from the same dict the report writes."""
    entry = health_to_dict(health, stamp=_keep)
    kinds = {ref.name: ref.kind for ref in tracker.base.prepared}
    shapes = {d.feature: d for d in tracker.distributions()}
    history = _history(health.drift)
    features = []
    for item in entry["drift"]:
        name = str(item["feature"])
        shape = shapes.get(name)
        features.append(FeatureView(
            feature=name, kind=kinds.get(name, "num"), output=name in OUTPUTS,
            method=str(item["method"]), statistic=item["statistic"],
            threshold=float(item["threshold"]), p_value=item["p_value"],
            drifted=bool(item["drifted"]), onset=_time(item["onset"]),
            window_drifted=bool(item["window_drifted"]), history=history.get(name, ()),
            bins=shape.bins if shape else (), reference=shape.reference if shape else (),
            current=shape.current if shape else (),
            current_rows=shape.current_rows if shape else 0,
        ))
    features.sort(key=lambda f: (not f.drifted, not f.window_drifted, f.output))
    inputs = [f for f in features if not f.output]
    quality = tuple(QualityView(str(q["column"]), str(q["check"]), float(q["value"]),
                                str(q["summary"]), int(q["windows"]), _time(q["last_seen"]))
                    for q in entry["data_quality"])
    low, high = tracker.reference_range
    return ModelView(
        model=health.model, version=health.version, status=str(health.status),
        rows=tracker.total_rows, labelled_rows=health.labelled_rows,
        reference_rows=health.reference_rows, reference_from=_time(low),
        reference_to=_time(high), window=_window(tracker.settings),
        windows=int(health.quality["window"].nunique()) if len(health.quality) else 0,
        drifted_features=sum(f.drifted for f in inputs), features_total=len(inputs),
        drift_onset=_time(health.drift_onset), degraded_since=_time(health.degraded_since),
        metric=health.primary_metric,
        metric_value=health.sparkline[-1] if health.sparkline else None,
        band=health.band, sparkline=tuple(float(v) for v in health.sparkline),
        features=tuple(features), quality=quality, metrics=_metrics(health.performance),
        last_seen=_time(last_seen),
    )


def waiting_view(model: str, version: str, held: list[pd.DataFrame],
                 settings: HealthSettings) -> ModelView:
    """A version still gathering the rows of its default reference: nothing judged yet."""
    rows = sum(len(h) for h in held)
    labelled = sum(int(h["label"].notna().sum()) for h in held if "label" in h)
    last = max(h["ts"].max() for h in held)
    return ModelView(
        model=model, version=version, status="healthy" if labelled else "no labels yet",
        rows=rows, labelled_rows=labelled, reference_rows=0, reference_from=None,
        reference_to=None, window=f"{_window(settings)} (reference still gathering)",
        windows=0, drifted_features=0, features_total=0, drift_onset=None,
        degraded_since=None, metric=None, metric_value=None, band=None,
        last_seen=_time(last),
    )


def _history(drift: pd.DataFrame) -> dict[str, tuple[DriftPoint, ...]]:
    out: dict[str, tuple[DriftPoint, ...]] = {}
    for name, rows in drift.sort_values("window").groupby("feature", sort=False):
        out[str(name)] = tuple(
            DriftPoint(_time(r.window_start), _finite(r.statistic), bool(r.drifted))
            for r in rows.itertuples(index=False))
    return out


def _metrics(performance: pd.DataFrame) -> tuple[MetricSeries, ...]:
    return tuple(
        MetricSeries(str(metric), tuple(float(v) for v in rows["value"]),
                     tuple(_time(t) for t in rows["window_start"]))
        for metric, rows in performance.sort_values("window").groupby("metric", sort=True))


def _window(settings: HealthSettings) -> str:
    return f"{settings.window} rows" if isinstance(settings.window, int) else str(settings.window)


def _keep(value: object) -> object:
    return value


def _time(value: object) -> datetime | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    return pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
