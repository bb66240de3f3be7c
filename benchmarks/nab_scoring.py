"""Numenta Anomaly Benchmark scoring, written from NAB's published rules.

A detector marks rows as detections (``True``). Each labelled window earns the weighted scaled
sigmoid of its earliest detection, or ``-A_FN`` if it has none; each detection outside every
window costs ``A_FP`` times the sigmoid of how far it lies past the last window that ended
before it (fully ``A_FP`` when no window precedes it). Rows of the probation period (first 15%
of the file, at most 750 rows) are never scored as detections. True negatives score nothing.
Per-file raw scores are summed and normalised against a detector that never fires (0) and
one that fires once at the start of every window (100).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    a_tp: float
    a_fp: float
    a_fn: float
    a_tn: float = 1.0


STANDARD = Profile("standard", 1.0, 0.11, 1.0)
REWARD_LOW_FP = Profile("reward_low_FP", 1.0, 0.22, 1.0)
REWARD_LOW_FN = Profile("reward_low_FN", 1.0, 0.11, 2.0)
PROFILES: tuple[Profile, ...] = (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)

PROBATION_SHARE = 0.15
PROBATION_CAP = 750


def scaled_sigmoid(y: float) -> float:
    """NAB's 2/(1+e^(5y))-1: 1 at y=-inf, 0 at y=0, -1 far past a window (y > 3)."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


# Weighted TPs are divided by this so that a detection on a window's first row earns A_TP.
_MAX_TP = scaled_sigmoid(-1.0)


def probation_rows(n_rows: int) -> int:
    return int(min(math.floor(PROBATION_SHARE * n_rows), PROBATION_SHARE * 5000))


def window_indices(
    timestamps: pd.Series | pd.DatetimeIndex, windows: Iterable[Sequence[object]]
) -> list[tuple[int, int]]:
    """Row ranges (first, last; inclusive) of windows given as pairs of timestamps.

    NAB locates a window's ends by the first row carrying each timestamp (one NAB file steps
    back an hour once, so the rows are not strictly sorted); a timestamp with no exact row
    falls back to the sorted position.
    """
    ts = pd.DatetimeIndex(pd.to_datetime(timestamps))
    first_row: dict[pd.Timestamp, int] = {}
    for i, t in enumerate(ts):
        first_row.setdefault(t, i)
    out: list[tuple[int, int]] = []
    for start, end in windows:
        t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
        lo = first_row.get(t0, int(ts.searchsorted(t0, side="left")))
        hi = first_row.get(t1, int(ts.searchsorted(t1, side="right")) - 1)
        if hi >= lo:
            out.append((lo, hi))
    return out


@dataclass(frozen=True, slots=True)
class FileScore:
    raw: float
    null: float
    perfect: float
    tp: int
    fp: int
    fn: int


def _row_weights(n_rows: int, windows: Sequence[tuple[int, int]], profile: Profile) -> np.ndarray:
    """What a detection on each row would score under ``profile``."""
    weights = np.empty(n_rows, dtype=float)
    prev_end: int | None = None
    prev_width = 0
    cursor = 0
    for lo, hi in [*windows, (n_rows, n_rows)]:
        for i in range(cursor, min(lo, n_rows)):
            if prev_end is None:
                weights[i] = -profile.a_fp
            else:
                # A one-row window would divide by zero; NAB never has one, treat it as far past.
                y = abs(i - prev_end) / (prev_width - 1) if prev_width > 1 else math.inf
                weights[i] = profile.a_fp * scaled_sigmoid(y)
        if lo >= n_rows:
            break
        width = hi - lo + 1
        for i in range(lo, hi + 1):
            weights[i] = profile.a_tp * scaled_sigmoid(-(hi - i + 1) / width) / _MAX_TP
        prev_end, prev_width, cursor = hi, width, hi + 1
    return weights


def score_file(
    detections: np.ndarray, windows: Sequence[tuple[int, int]], profile: Profile = STANDARD
) -> FileScore:
    """Score one file's boolean detections against its windows (row index ranges, sorted)."""
    det = np.asarray(detections, dtype=bool)
    n_rows = len(det)
    windows = sorted(windows)
    weights = _row_weights(n_rows, windows, profile)
    scorable = np.arange(n_rows) >= probation_rows(n_rows)
    in_window = np.zeros(n_rows, dtype=bool)
    raw = 0.0
    tp = fn = 0
    perfect = 0.0
    for lo, hi in windows:
        in_window[lo : hi + 1] = True
        hits = np.flatnonzero(det[lo : hi + 1] & scorable[lo : hi + 1])
        if hits.size:
            # The earliest detection is the best one; later ones in the same window are free.
            raw += weights[lo + hits[0]]
            tp += 1
        else:
            raw -= profile.a_fn
            fn += 1
        first_scorable = max(lo, probation_rows(n_rows))
        perfect += weights[first_scorable] if first_scorable <= hi else -profile.a_fn
    false_pos = det & scorable & ~in_window
    raw += float(weights[false_pos].sum())
    null = -profile.a_fn * len(windows)
    return FileScore(raw, null, perfect, tp, int(false_pos.sum()), fn)


def normalised(scores: Iterable[FileScore]) -> float:
    """100·(raw − null)/(perfect − null) over a set of files (a category or the corpus)."""
    items = list(scores)
    raw = sum(s.raw for s in items)
    null = sum(s.null for s in items)
    perfect = sum(s.perfect for s in items)
    if perfect == null:
        return float("nan")
    return 100.0 * (raw - null) / (perfect - null)
