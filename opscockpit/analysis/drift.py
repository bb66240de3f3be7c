"""Drift over time: windows of current data, each tested against the reference, and when a
sustained drift began.

The tests themselves (and Evidently's automatic choice between them) live in
:mod:`opscockpit.analysis.drift_tests`; they are re-exported here so callers keep one import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opscockpit.analysis.drift_tests import (
    METHODS,
    P_VALUE_METHODS,
    DriftSettings,
    Kind,
    PreparedReference,
    TestResult,
    binned_shares,
    chisquare_test,
    choose_method,
    clean,
    column_drift,
    column_kind,
    default_threshold,
    jensenshannon_distance,
    ks_test,
    prepare_reference,
    psi,
    sorted_wasserstein,
    stat_test,
    wasserstein_normed,
    z_test,
)

__all__ = [
    "DRIFT_COLUMNS", "METHODS", "P_VALUE_METHODS", "DriftSettings", "Kind", "PreparedReference",
    "TestResult", "Window", "binned_shares", "chisquare_test", "choose_method", "clean",
    "column_drift", "column_kind", "dataset_drift", "default_threshold", "drift_by_window",
    "drift_onsets", "jensenshannon_distance", "ks_test", "onset_index", "prepare_reference",
    "psi", "sorted_wasserstein", "split_windows", "stat_test", "still_active",
    "wasserstein_normed", "window_bounds", "window_drift", "z_test",
]

DRIFT_COLUMNS = [
    "window", "window_start", "window_end", "feature", "method", "statistic", "threshold",
    "drifted", "p_value", "n", "n_reference",
]

@dataclass(frozen=True, slots=True)
class Window:
    index: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    lo: int  # row positions [lo, hi) in the frame sorted by ts
    hi: int


def window_bounds(ts: pd.Series | None, n_rows: int, window: str | int) -> list[Window]:
    """Non-empty windows over rows already sorted by ``ts``.

    A string is a pandas frequency: fixed lengths ("1h", "7D") are counted from the epoch,
    so a window holds the same rows whatever the data's first day, and calendar ones ("MS",
    "W-MON") follow the calendar; ``end`` is exclusive. An int is a row count: consecutive
    chunks, the last one possibly short, ``end`` the last ts in the chunk.
    """
    if isinstance(window, int):
        if window < 1:
            raise ValueError("a row-count window needs at least one row")
        return [
            Window(i, ts.iloc[lo] if ts is not None else None,
                   ts.iloc[min(lo + window, n_rows) - 1] if ts is not None else None,
                   lo, min(lo + window, n_rows))
            for i, lo in enumerate(range(0, n_rows, window))
        ]
    if ts is None:
        raise ValueError("time windows need a timestamp column")
    if not n_rows:
        return []
    offset = pd.tseries.frequencies.to_offset(window)
    try:
        keys = ts.dt.floor(window)
    except ValueError:
        first = offset.rollback(ts.iloc[0].normalize())
        edges = pd.date_range(first, ts.iloc[-1] + offset, freq=offset)
        keys = pd.Series(edges[np.searchsorted(edges, ts, side="right") - 1], index=ts.index)
    values = keys.to_numpy()
    cuts = np.flatnonzero(values[1:] != values[:-1]) + 1
    los = np.concatenate([[0], cuts])
    his = np.concatenate([cuts, [n_rows]])
    return [Window(i, keys.iloc[lo], keys.iloc[lo] + offset, int(lo), int(hi))
            for i, (lo, hi) in enumerate(zip(los, his, strict=True))]


def split_windows(
    frame: pd.DataFrame, window: str | int, ts: str = "ts"
) -> Iterator[tuple[int, pd.Timestamp | None, pd.Timestamp | None, pd.DataFrame]]:
    """Yield ``(index, start, end, rows)`` per non-empty window in time order (see
    :func:`window_bounds`)."""
    if ts in frame.columns:
        frame = frame.sort_values(ts, kind="stable")
    times = frame[ts] if ts in frame.columns else None
    for w in window_bounds(times, len(frame), window):
        yield w.index, w.start, w.end, frame.iloc[w.lo : w.hi]


def drift_by_window(
    current: pd.DataFrame,
    reference: pd.DataFrame,
    columns: Sequence[str],
    settings: DriftSettings | None = None,
    ts: str = "ts",
) -> pd.DataFrame:
    """One row per (window, column) with the test chosen, its statistic and verdict."""
    settings = settings or DriftSettings()
    prepared = [prepare_reference(reference[c], settings) for c in columns]
    if ts in current.columns:
        current = current.sort_values(ts, kind="stable")
    times = current[ts] if ts in current.columns else None
    windows = [w for w in window_bounds(times, len(current), settings.window)
               if w.hi - w.lo >= settings.min_window_rows]
    rows: list[dict[str, object]] = []
    for ref in prepared:
        column = current[ref.name]
        for w in windows:
            rows += window_drift([ref], w, column.iloc[w.lo : w.hi].to_frame(), settings)
    frame = pd.DataFrame(rows, columns=DRIFT_COLUMNS)
    return frame.sort_values(["window", "feature"], key=_column_order(columns),
                             ignore_index=True)


def window_drift(
    prepared: Sequence[PreparedReference], window: Window, rows: pd.DataFrame,
    settings: DriftSettings,
) -> list[dict[str, object]]:
    """The ``DRIFT_COLUMNS`` rows of one window: each prepared column tested on ``rows``.

    An incremental caller prepares the reference once and calls this as windows close.
    """
    out: list[dict[str, object]] = []
    for ref in prepared:
        result = ref.test(rows[ref.name], settings) if ref.name in rows else None
        if result is None:
            continue
        out.append({
            "window": window.index, "window_start": window.start, "window_end": window.end,
            "feature": ref.name, "method": result.method, "statistic": result.statistic,
            "threshold": result.threshold, "drifted": result.drifted,
            "p_value": result.p_value, "n": window.hi - window.lo,
            "n_reference": len(ref.values),
        })
    return out


def _column_order(columns: Sequence[str]) -> Callable[[pd.Series], pd.Series]:
    rank = {c: i for i, c in enumerate(columns)}

    def key(values: pd.Series) -> pd.Series:
        return values.map(rank) if values.name == "feature" else values

    return key


def dataset_drift(drift: pd.DataFrame, share: float = 0.5) -> pd.DataFrame:
    """Per window: how many columns drifted and whether that makes the dataset drift."""
    columns = ["window", "window_start", "n_features", "n_drifted", "share", "drifted"]
    if drift.empty:
        return pd.DataFrame(columns=columns)
    grouped = drift.groupby("window", sort=True).agg(
        window_start=("window_start", "first"),
        n_features=("feature", "size"),
        n_drifted=("drifted", "sum"),
    ).reset_index()
    grouped["share"] = grouped["n_drifted"] / grouped["n_features"]
    grouped["drifted"] = grouped["share"] >= share
    return grouped[columns]


def onset_index(flags: Sequence[bool], k: int = 3, m: int = 4) -> int | None:
    """Index of the first window of the latest sustained drift, or ``None``.

    A window starts a sustained drift when it drifts and at least ``k`` of the ``m``
    windows from it drift; near the end, where fewer than ``m`` remain, all the remaining
    ones must drift (so a fresh drift shows up early, a lone blip does not). A run of ``m``
    calm windows ends an episode, so a drift that went away and came back is dated anew.
    """
    values = [bool(f) for f in flags]
    n = len(values)
    onset: int | None = None
    calm = 0
    for i, flag in enumerate(values):
        calm = 0 if flag else calm + 1
        if onset is not None and calm >= m:
            onset = None
        if onset is None and flag:
            ahead = values[i : i + m]
            needed = k if len(ahead) == m else len(ahead)
            if sum(ahead) >= min(needed, n - i):
                onset = i
    return onset


def drift_onsets(drift: pd.DataFrame, settings: DriftSettings | None = None) -> pd.DataFrame:
    """Per column: start of its latest sustained drift (``NaT`` when none) and whether the
    drift is still on in the latest windows."""
    settings = settings or DriftSettings()
    rows = []
    for feature, group in drift.sort_values("window").groupby("feature", sort=False):
        flags = group["drifted"].tolist()
        at = onset_index(flags, settings.onset_k, settings.onset_m)
        rows.append({
            "feature": feature,
            "onset": group["window_start"].iloc[at] if at is not None else None,
            "onset_window": int(group["window"].iloc[at]) if at is not None else None,
            "active": at is not None and still_active(flags, settings.onset_k,
                                                      settings.onset_m),
        })
    return pd.DataFrame(rows, columns=["feature", "onset", "onset_window", "active"])


def still_active(flags: Sequence[bool], k: int = 3, m: int = 4) -> bool:
    """Whether at least ``k`` of the last ``m`` windows (all, when fewer) are flagged."""
    tail = [bool(f) for f in flags[-m:]]
    return bool(tail) and sum(tail) >= min(k, len(tail))
