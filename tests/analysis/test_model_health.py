"""Per model/version status, on constructed data and on NannyML's car loan set."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from opscockpit.analysis.model_health import (
    HealthSettings,
    ModelStatus,
    model_health,
    model_report,
    split_reference,
    wide_from_observations,
)
from opscockpit.sources.prediction_files import (
    ColumnMap,
    join_labels,
    read_labels,
    read_predictions,
    to_observations,
)
from tests.conftest import require_dataset

# Enough rows a day that same-distribution days stay under the 0.1 Wasserstein threshold
# (at 500 a day a calm day reaches it now and then, as it would in Evidently).
PER_DAY = 2000


def _version(model: str, version: str, days: int, shift_from: int | None,
             labels: bool, worse_from: int | None, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * PER_DAY
    ts = pd.date_range("2024-01-01", periods=n, freq=pd.Timedelta(days=1) / PER_DAY, tz="UTC")
    x = rng.normal(0, 1, n)
    if shift_from is not None:
        x[shift_from * PER_DAY:] += 2.0
    truth = (rng.random(n) < 0.5).astype(int)
    pred = truth.copy()
    flip = rng.random(n) < 0.05
    if worse_from is not None:
        flip[worse_from * PER_DAY:] = rng.random(n - worse_from * PER_DAY) < 0.3
    pred[flip] = 1 - pred[flip]
    return pd.DataFrame({
        "ts": ts, "model": model, "version": version, "record_id": [f"{version}-{i}"
                                                                    for i in range(n)],
        "prediction": pred, "score": np.nan,
        "label": truth.astype(float) if labels else np.nan, "x": x,
        "c": rng.choice(list("abc"), n),
    })


def test_statuses_and_report_shape() -> None:
    frame = pd.concat([
        _version("m", "1", 10, None, True, None, 1),
        _version("m", "2", 10, 6, False, None, 2),
        _version("m", "3", 10, None, False, None, 3),
        _version("n", "1", 10, None, True, 6, 4),
    ], ignore_index=True)
    settings = HealthSettings(window="1D", reference_period="3D")
    by_key = {(h.model, h.version): h for h in model_health(frame, None, settings)}
    assert by_key["m", "1"].status == ModelStatus.HEALTHY
    assert by_key["m", "2"].status == ModelStatus.DRIFTING
    assert by_key["m", "2"].drift_onset == pd.Timestamp("2024-01-07", tz="UTC")
    assert by_key["m", "3"].status == ModelStatus.NO_LABELS
    assert by_key["n", "1"].status == ModelStatus.DEGRADED
    assert by_key["n", "1"].degraded_since == pd.Timestamp("2024-01-07", tz="UTC")
    assert by_key["n", "1"].primary_metric == "accuracy"
    assert len(by_key["n", "1"].sparkline) == 7

    report = model_report(frame, None, settings)
    assert [r["status"] for r in report] == ["degraded", "drifting", "no labels yet", "healthy"]
    entry = report[1]
    assert {"model", "version", "status", "drift", "performance", "data_quality"} <= set(entry)
    first = entry["drift"][0]
    assert {"feature", "method", "statistic", "threshold", "drifted", "onset"} <= set(first)
    assert first["feature"] == "x" and first["onset"] == "2024-01-07T00:00:00Z"
    assert set(report[0]["performance"][0]) >= {"window_start", "metric", "value"}
    json.dumps(report, allow_nan=False)  # plain JSON all the way down


def test_unseen_category_gives_valid_json() -> None:
    ts = pd.date_range("2024-01-01", periods=6, freq="h", tz="UTC")
    frame = pd.DataFrame({"ts": ts, "model": "a", "version": "1", "record_id": list("abcdef"),
                          "prediction": 1.0, "score": np.nan, "label": None,
                          "colour": ["red", "blue", "red", "green", "green", "blue"]})
    report = model_report(frame, None, HealthSettings(window=3, reference_rows=3))
    drift = report[0]["drift"][0]
    # chi-square's statistic is infinite when a category was never expected
    assert drift["method"] == "chisquare" and drift["drifted"] and drift["statistic"] is None
    json.dumps(report, allow_nan=False)


def test_reference_choices() -> None:
    frame = _version("m", "1", 4, None, True, None, 5)
    ref, cur = split_reference(frame, HealthSettings(reference_rows=100))
    assert len(ref) == 100 and len(cur) == len(frame) - 100
    ref, cur = split_reference(frame, HealthSettings(reference_period="1D"))
    assert len(ref) == PER_DAY
    ref, _ = split_reference(frame, HealthSettings())
    assert len(ref) == 4 * PER_DAY // 5  # first fifth by default
    explicit = _version("m", "1", 2, None, True, None, 6)
    health = model_health(frame, explicit, HealthSettings(window="1D"))[0]
    assert health.reference_rows == len(explicit) and health.rows == len(frame)


def test_wide_round_trip_through_observations() -> None:
    frame = _version("m", "1", 1, None, True, None, 7).head(3)
    wide = wide_from_observations(to_observations(frame))
    assert wide["x"].tolist() == frame["x"].tolist()
    assert wide["c"].tolist() == frame["c"].tolist()


def test_car_loan_shift_found_at_the_documented_row() -> None:
    root = require_dataset("drift/nannyml_synthetic_car_loan")
    columns = ColumnMap(default_model="car_loan", default_version="1")
    reference = read_predictions(root / "synthetic_car_loan_reference.csv.gz",
                                 ColumnMap(default_model="car_loan", default_version="1",
                                           label="repaid")).frame
    analysis = read_predictions(root / "synthetic_car_loan_analysis.csv.gz", columns)
    assert analysis.errors == [] and len(analysis.frame) == 50_000
    current = join_labels(analysis.frame,
                          read_labels(root / "synthetic_car_loan_analysis_target.csv.gz"))
    health = model_health(current, reference, HealthSettings(window=5000))[0]
    drift = health.drift
    # chunks 0-4 look like the reference: no drift at all
    assert not drift.loc[drift["window"] < 5, "drifted"].any()
    onsets = health.onsets.set_index("feature")
    documented = current["ts"].iloc[25_000]  # analysis row 25,000, 2019-03-31
    for feature in ("car_value", "repaid_loan_on_prev_car"):
        assert onsets.loc[feature, "onset"] == documented
        assert onsets.loc[feature, "active"]
    for calm in ("debt_to_income_ratio", "driver_tenure", "size_of_downpayment"):
        assert pd.isna(onsets.loc[calm, "onset"])
    assert health.status == ModelStatus.DEGRADED
    assert health.degraded_since == documented
    accuracy = health.performance[health.performance["metric"] == "accuracy"]["value"]
    assert accuracy.iloc[:5].min() > 0.935 and accuracy.iloc[5:].max() < 0.93
