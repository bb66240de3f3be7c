"""A fixed Models view for Pilot and snapshot tests: four versions, one of each status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from opscockpit.analyzers.models_view import (
    DriftPoint,
    FeatureView,
    MetricSeries,
    ModelsView,
    ModelView,
    QualityView,
)
from opscockpit.snapshot import Snapshot
from tests.ui.fixtures import AT, fixed_snapshot

START = datetime(2019, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)


def _history(values: list[float], threshold: float) -> tuple[DriftPoint, ...]:
    return tuple(DriftPoint(START + i * WEEK, v, v >= threshold) for i, v in enumerate(values))


def _feature(name: str, kind: str, method: str, values: list[float], drifted: bool,
             bins: tuple[str, ...], reference: tuple[float, ...], current: tuple[float, ...],
             output: bool = False) -> FeatureView:
    threshold = 0.1
    return FeatureView(
        feature=name, kind=kind, output=output, method=method, statistic=values[-1],
        threshold=threshold, p_value=None, drifted=drifted,
        onset=START + 5 * WEEK if drifted else None, window_drifted=values[-1] >= threshold,
        history=_history(values, threshold), bins=bins, reference=reference,
        current=current, current_rows=5000)


CAR_VALUE = _feature(
    "car_value", "num", "wasserstein", [0.02, 0.03, 0.02, 0.01, 0.03, 0.9, 0.93, 0.92, 0.94,
                                        0.93], True,
    ("10.3k", "17.4k", "24.4k", "31.5k", "38.5k", "45.6k", "52.6k", "59.7k"),
    (0.30, 0.22, 0.16, 0.12, 0.09, 0.06, 0.03, 0.02),
    (0.02, 0.10, 0.13, 0.14, 0.16, 0.18, 0.15, 0.12))
SALARY = _feature(
    "salary_range", "cat", "jensenshannon", [0.01, 0.01, 0.02, 0.01, 0.01, 0.15, 0.16, 0.15,
                                             0.15, 0.16], True,
    ("0 - 20K €", "20K - 40K €", "40K - 60K €", "60K+ €"), (0.40, 0.30, 0.20, 0.10),
    (0.22, 0.28, 0.26, 0.24))
TENURE = _feature(
    "driver_tenure", "num", "wasserstein", [0.01, 0.02, 0.01, 0.02, 0.01, 0.02, 0.01, 0.02,
                                            0.01, 0.02], False,
    ("0.05", "0.63", "1.21", "1.79", "2.37"), (0.2, 0.2, 0.2, 0.2, 0.2),
    (0.21, 0.19, 0.2, 0.2, 0.2))
SCORE = _feature("score", "num", "wasserstein", [0.02] * 5 + [0.13] * 5, True,
                 ("0", "0.25", "0.5", "0.75"), (0.3, 0.2, 0.2, 0.3), (0.25, 0.2, 0.2, 0.35),
                 output=True)

CAR_LOAN = ModelView(
    model="car_loan", version="3", status="degraded", rows=50_000, labelled_rows=50_000,
    reference_rows=50_000, reference_from=datetime(2018, 1, 1, tzinfo=UTC),
    reference_to=datetime(2018, 10, 30, tzinfo=UTC), window="5000 rows", windows=10,
    drifted_features=2, features_total=3, drift_onset=START + 5 * WEEK,
    degraded_since=START + 5 * WEEK, metric="roc_auc", metric_value=0.958,
    band=(0.963, 0.979),
    sparkline=(0.971, 0.970, 0.976, 0.968, 0.970, 0.960, 0.959, 0.959, 0.963, 0.958),
    features=(CAR_VALUE, SALARY, SCORE, TENURE),
    quality=(QualityView("salary_range", "new_categories", 1.0,
                         "new categories (1): 60K+ €", 5, START + 9 * WEEK),),
    metrics=(MetricSeries("accuracy", (0.942, 0.942, 0.95, 0.944, 0.941, 0.915, 0.916, 0.914,
                                       0.922, 0.912)),
             MetricSeries("roc_auc", (0.971, 0.970, 0.976, 0.968, 0.970, 0.960, 0.959, 0.959,
                                      0.963, 0.958))),
    last_seen=START + 10 * WEEK)
FRAUD_2 = replace(
    CAR_LOAN, model="fraud", version="2", status="drifting", labelled_rows=0, metric=None,
    metric_value=None, band=None, sparkline=(), degraded_since=None, drifted_features=1,
    features=(SALARY, replace(CAR_VALUE, drifted=False, window_drifted=False, onset=None)),
    features_total=2, metrics=(), quality=())
FRAUD_1 = replace(
    CAR_LOAN, model="fraud", version="1", status="healthy", drifted_features=0,
    degraded_since=None, drift_onset=None, metric="accuracy", metric_value=0.93,
    band=(0.9, 0.96), sparkline=(0.93, 0.94, 0.92, 0.93, 0.94, 0.93), features=(TENURE,),
    features_total=1, quality=())
RANKER = replace(
    FRAUD_2, model="ranker", version="", status="no labels yet", drifted_features=0,
    drift_onset=None, features=(TENURE,), features_total=1)

MODELS = ModelsView(at=AT, models=(CAR_LOAN, FRAUD_2, RANKER, FRAUD_1))


def models_snapshot() -> Snapshot:
    base = fixed_snapshot()
    return replace(base, views={**base.views, "models": MODELS})
