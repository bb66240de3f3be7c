"""How well a model does per window, once its labels have arrived.

Classifiers: accuracy, precision, recall, F1 (binary on the positive class, macro for more
classes) and ROC AUC when a score exists and both classes are in the window. Regressors:
MAE, RMSE, MAPE. Rows without a label are left out; a window without any yields nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn import metrics

from opscockpit.analysis.drift import split_windows

Task = Literal["classification", "regression"]
PERFORMANCE_COLUMNS = ["window", "window_start", "metric", "value", "n"]
# Which way is better, so a drop can be told from a rise.
HIGHER_IS_BETTER: Mapping[str, bool] = {
    "accuracy": True, "precision": True, "recall": True, "f1": True, "roc_auc": True,
    "mae": False, "rmse": False, "mape": False,
}
_MAX_CLASSES = 20


@dataclass(frozen=True)
class PerformanceSettings:
    task: Literal["auto", "classification", "regression"] = "auto"
    positive_label: str | float | bool | None = None


def detect_task(labels: pd.Series, predictions: pd.Series) -> Task:
    """Text, booleans, or a few whole numbers that predictions also stay within: classes."""
    present = labels.dropna()
    if present.empty:
        return "classification"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.isna().any() or pd.api.types.is_bool_dtype(present):
        return "classification"
    classes = set(numbers.unique())
    whole = bool(np.all(np.mod(numbers.to_numpy(float), 1) == 0))
    predicted = set(pd.to_numeric(predictions.dropna(), errors="coerce").unique())
    if whole and len(classes) <= _MAX_CLASSES and predicted <= classes | {np.nan}:
        return "classification"
    return "regression"


def positive_class(classes: list[object], given: object = None) -> object:
    """The given label, else 1/True when present, else the last in sort order."""
    if given is not None:
        return given
    for candidate in (1, True, "1", "true", "yes", "positive"):
        if candidate in classes:
            return candidate
    return sorted(classes, key=str)[-1]


def classification_metrics(
    y_true: pd.Series, y_pred: pd.Series, score: pd.Series | None = None,
    positive: object = None,
) -> dict[str, float]:
    truth, pred = _as_classes(y_true), _as_classes(y_pred)
    classes = sorted(set(truth) | set(pred), key=str)
    binary = len(classes) <= 2
    out = {"accuracy": float(metrics.accuracy_score(truth, pred))}
    if binary:
        pos = positive_class(classes, _as_class(positive) if positive is not None else None)
        kwargs: dict[str, object] = {"pos_label": pos, "average": "binary"}
    else:
        kwargs = {"average": "macro"}
    # One call for the three (each separate call re-checks and re-counts the same arrays).
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        truth, pred, zero_division=0, **kwargs)
    out["precision"], out["recall"], out["f1"] = float(precision), float(recall), float(f1)
    if binary and score is not None:
        scored = score.notna().to_numpy()
        hits = (truth.to_numpy() == pos)[scored]
        if 0 < hits.sum() < len(hits):
            out["roc_auc"] = float(metrics.roc_auc_score(hits, score.to_numpy(float)[scored]))
    return out


def regression_metrics(y_true: pd.Series, y_pred: pd.Series) -> dict[str, float]:
    truth = pd.to_numeric(y_true, errors="coerce").to_numpy(float)
    pred = pd.to_numeric(y_pred, errors="coerce").to_numpy(float)
    ok = np.isfinite(truth) & np.isfinite(pred)
    truth, pred = truth[ok], pred[ok]
    if not len(truth):
        return {}
    return {
        "mae": float(metrics.mean_absolute_error(truth, pred)),
        "rmse": float(np.sqrt(metrics.mean_squared_error(truth, pred))),
        "mape": float(metrics.mean_absolute_percentage_error(truth, pred)),
    }


def window_metrics(
    rows: pd.DataFrame, task: Task, settings: PerformanceSettings
) -> dict[str, float]:
    """Metrics of one set of labelled rows (``label``, ``prediction``, ``score``)."""
    labelled = rows[rows["label"].notna() & rows["prediction"].notna()]
    if labelled.empty:
        return {}
    if task == "regression":
        return regression_metrics(labelled["label"], labelled["prediction"])
    score = labelled["score"] if "score" in labelled and labelled["score"].notna().any() else None
    return classification_metrics(labelled["label"], labelled["prediction"], score,
                                  settings.positive_label)


def performance_by_window(
    frame: pd.DataFrame, window: str | int, settings: PerformanceSettings | None = None,
    ts: str = "ts",
) -> pd.DataFrame:
    """One row per (window, metric); ``n`` is the number of labelled rows behind it."""
    settings = settings or PerformanceSettings()
    if frame.empty or "label" not in frame or frame["label"].isna().all():
        return pd.DataFrame(columns=PERFORMANCE_COLUMNS)
    task: Task = (detect_task(frame["label"], frame["prediction"])
                  if settings.task == "auto" else settings.task)
    rows: list[dict[str, object]] = []
    for index, start, _, chunk in split_windows(frame, window, ts):
        n = int((chunk["label"].notna() & chunk["prediction"].notna()).sum())
        for metric, value in window_metrics(chunk, task, settings).items():
            rows.append({"window": index, "window_start": start, "metric": metric,
                         "value": value, "n": n})
    return pd.DataFrame(rows, columns=PERFORMANCE_COLUMNS)


def _as_classes(values: pd.Series) -> pd.Series:
    # Few distinct labels, many rows: convert each distinct value once.
    raw = values.to_numpy()
    lookup = {value: _as_class(value) for value in pd.unique(raw)}
    return pd.Series([lookup[v] if v in lookup else _as_class(v) for v in raw])


def _as_class(value: object) -> object:
    """1, 1.0, True and "1" are one class whichever file or column they came from."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | float | np.number):
        number = float(value)
        return int(number) if number.is_integer() else number
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number
