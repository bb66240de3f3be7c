"""Performance metrics on tiny cases whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opscockpit.analysis.model_performance import (
    PerformanceSettings,
    classification_metrics,
    detect_task,
    performance_by_window,
    regression_metrics,
)


def test_binary_classification_by_hand() -> None:
    truth = pd.Series([1, 1, 1, 0, 0, 0])
    pred = pd.Series([1, 1, 0, 1, 0, 0])
    score = pd.Series([0.9, 0.8, 0.4, 0.6, 0.3, 0.1])
    got = classification_metrics(truth, pred, score)
    assert got["accuracy"] == pytest.approx(4 / 6)
    assert got["precision"] == pytest.approx(2 / 3)
    assert got["recall"] == pytest.approx(2 / 3)
    assert got["f1"] == pytest.approx(2 / 3)
    # pairs (pos, neg) ranked right: 0.9, 0.8 beat all 3; 0.4 beats 0.3, 0.1 -> 8 of 9
    assert got["roc_auc"] == pytest.approx(8 / 9)


def test_labels_from_different_files_compare_as_one_class() -> None:
    got = classification_metrics(pd.Series(["1", "0", True]), pd.Series([1.0, 0.0, 1]))
    assert got["accuracy"] == 1.0


def test_no_auc_with_one_class_or_without_score() -> None:
    assert "roc_auc" not in classification_metrics(
        pd.Series([1, 1]), pd.Series([1, 0]), pd.Series([0.9, 0.2]))
    assert "roc_auc" not in classification_metrics(pd.Series([1, 0]), pd.Series([1, 0]))


def test_multiclass_is_macro_averaged() -> None:
    got = classification_metrics(pd.Series(list("abcc")), pd.Series(list("abcb")))
    assert got["accuracy"] == 0.75
    # precision a=1, b=1/2, c=1 ; recall a=1, b=1, c=1/2
    assert got["precision"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert got["recall"] == pytest.approx((1 + 1 + 0.5) / 3)


def test_regression_by_hand() -> None:
    got = regression_metrics(pd.Series([1.0, 2.0, 4.0]), pd.Series([2.0, 2.0, 2.0]))
    assert got["mae"] == pytest.approx(1.0)
    assert got["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert got["mape"] == pytest.approx((1 + 0 + 0.5) / 3)


def test_task_detection() -> None:
    assert detect_task(pd.Series([0, 1, 1]), pd.Series([1, 1, 0])) == "classification"
    assert detect_task(pd.Series(["cat", "dog"]), pd.Series(["dog", "dog"])) == "classification"
    assert detect_task(pd.Series([1.5, 2.25, 3.0]), pd.Series([1.0, 2.0, 3.0])) == "regression"
    assert detect_task(pd.Series([1, 2, 3]), pd.Series([1.4, 2.2, 2.9])) == "regression"


def test_by_window_skips_unlabelled_rows_and_windows() -> None:
    ts = pd.date_range("2024-01-01", periods=6, freq="12h", tz="UTC")
    frame = pd.DataFrame({
        "ts": ts, "prediction": [1, 0, 1, 1, 0, 0], "score": [0.9, 0.1, 0.8, 0.7, 0.2, 0.3],
        "label": [1, 0, 0, None, None, None],
    })
    got = performance_by_window(frame, "1D")
    assert list(got.columns) == ["window", "window_start", "metric", "value", "n"]
    day1 = got[got["window"] == 0].set_index("metric")
    assert day1.loc["accuracy", "value"] == 1.0 and day1.loc["accuracy", "n"] == 2
    day2 = got[got["window"] == 1].set_index("metric")
    assert day2.loc["accuracy", "value"] == 0.0 and day2.loc["accuracy", "n"] == 1
    assert set(got["window"]) == {0, 1}
    assert performance_by_window(frame.assign(label=None), "1D").empty
    forced = performance_by_window(frame, "1D", PerformanceSettings(task="regression"))
    assert set(forced["metric"]) == {"mae", "rmse", "mape"}
