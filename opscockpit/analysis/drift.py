"""Drift of each column between a reference and each window of current data.

The defaults follow Evidently's automatic test selection so that users who know it get the
same answers here (the column count that decides is the union of reference and current):

* reference of at most 1000 rows: numeric with more than 5 values -> Kolmogorov-Smirnov,
  3-5 values or categorical -> chi-square, at most 2 values -> Z-test for two proportions;
  drift when the p-value is below 0.05 (KS: at or below).
* larger reference: numeric with more than 5 values -> Wasserstein distance divided by the
  reference standard deviation, otherwise Jensen-Shannon distance (natural log, as
  Evidently's call to scipy without a base); drift when the distance reaches 0.1.
* PSI on request; a window drifts as a dataset when at least half of its columns drift.

``statistic`` is the test's own statistic (KS D, chi-square, z, or the distance). For the
three tests the threshold applies to ``p_value``; for the distances to ``statistic``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

Kind = Literal["num", "cat"]
METHODS = ("auto", "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi")
P_VALUE_METHODS = frozenset({"ks", "chisquare", "z"})
# Below this many distinct reference values a numeric column is binned by value, not by
# histogram, in the binned distances (JS, PSI) - the same cut-off Evidently uses.
_BIN_BY_VALUE_MAX = 20
_MIN_STD = 0.001


@dataclass(frozen=True)
class DriftSettings:
    """How drift is measured. ``window`` is a pandas frequency ("1D", "7D", "MS") or a
    number of rows per chunk. ``methods``/``thresholds`` override per column."""

    window: str | int = "1D"
    small_reference_rows: int = 1000
    p_threshold: float = 0.05
    distance_threshold: float = 0.1
    psi_threshold: float = 0.1
    method: str = "auto"
    methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    categorical: tuple[str, ...] = ()
    dataset_drift_share: float = 0.5
    onset_k: int = 3
    onset_m: int = 4
    min_window_rows: int = 1

    def __post_init__(self) -> None:
        for name in (self.method, *self.methods.values()):
            if name not in METHODS:
                raise ValueError(f"unknown drift method {name!r}; known: {', '.join(METHODS)}")
        if not 1 <= self.onset_k <= self.onset_m:
            raise ValueError("onset_k must be between 1 and onset_m")


@dataclass(frozen=True, slots=True)
class TestResult:
    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool


DRIFT_COLUMNS = [
    "window", "window_start", "window_end", "feature", "method", "statistic", "threshold",
    "drifted", "p_value", "n", "n_reference",
]


def column_kind(values: pd.Series, categorical: Sequence[str] = ()) -> Kind:
    """Numeric dtypes are numbers (bools are not); a mostly-numeric object column is too."""
    if values.name in categorical:
        return "cat"
    if pd.api.types.is_bool_dtype(values):
        return "cat"
    if pd.api.types.is_numeric_dtype(values):
        return "num"
    if values.dtype == object:
        present = values.dropna()
        if len(present) and present.map(_is_number).mean() > 0.5:
            return "num"
    return "cat"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def clean(values: pd.Series, kind: Kind) -> pd.Series:
    """Drop what no test can use: missing values, infinities, numbers that are not numbers."""
    if kind == "num":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        return numbers[np.isfinite(numbers.to_numpy())]
    return values.dropna().astype(str)


def choose_method(n_reference: int, n_unique: int, kind: Kind, settings: DriftSettings) -> str:
    """Evidently's automatic selection; ``n_unique`` counts reference and current together."""
    if n_reference <= settings.small_reference_rows:
        if kind == "num" and n_unique > 5:
            return "ks"
        return "chisquare" if n_unique > 2 else "z"
    if kind == "num" and n_unique > 5:
        return "wasserstein"
    return "jensenshannon"


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def chisquare_test(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """Current counts against reference shares scaled to the current size."""
    ref_counts, cur_counts = _aligned_counts(reference, current)
    expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
    # A category never seen in the reference has an expected count of zero: infinite
    # statistic, p-value 0 - which is the right verdict, so silence numpy's complaint.
    with np.errstate(divide="ignore", invalid="ignore"):
        result = stats.chisquare(cur_counts, expected)
    return float(result.statistic), float(np.nan_to_num(result.pvalue, nan=0.0))


def z_test(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """Two-sided Z-test for the share of every value but the first in sort order."""
    keys = sorted(set(reference.unique()) | set(current.unique()))
    if len(keys) <= 1:
        return 0.0, 1.0
    ref_share = float((reference != keys[0]).mean())
    cur_share = float((current != keys[0]).mean())
    n_ref, n_cur = len(reference), len(current)
    pooled = (ref_share * n_ref + cur_share * n_cur) / (n_ref + n_cur)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    if spread == 0:
        return 0.0, 1.0
    z = (ref_share - cur_share) / spread
    return float(z), float(2 * stats.norm.sf(abs(z)))


def wasserstein_normed(reference: np.ndarray, current: np.ndarray) -> float:
    """First Wasserstein distance in units of the reference's (population) std."""
    scale = max(float(np.std(reference)), _MIN_STD)
    return float(stats.wasserstein_distance(reference, current)) / scale


def binned_shares(
    reference: pd.Series, current: pd.Series, kind: Kind, fill_zeros: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin: Sturges histogram on both samples for rich numeric columns, one bin
    per value otherwise. ``fill_zeros`` replaces empty bins by a tiny share (for PSI's log)."""
    if kind == "num" and reference.nunique() > _BIN_BY_VALUE_MAX:
        both = np.concatenate([reference.to_numpy(float), current.to_numpy(float)])
        edges = np.histogram_bin_edges(both, bins="sturges")
        ref = np.histogram(reference.to_numpy(float), edges)[0] / len(reference)
        cur = np.histogram(current.to_numpy(float), edges)[0] / len(current)
    else:
        ref_counts, cur_counts = _aligned_counts(reference, current)
        ref, cur = ref_counts / len(reference), cur_counts / len(current)
    if fill_zeros:
        ref, cur = _fill_zeros(ref), _fill_zeros(cur)
    return ref, cur


def _fill_zeros(shares: np.ndarray) -> np.ndarray:
    smallest = shares[shares > 0].min()
    shares = shares.copy()
    shares[shares == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return shares


def jensenshannon_distance(
    reference: pd.Series, current: pd.Series, kind: Kind, base: float | None = None
) -> float:
    ref, cur = binned_shares(reference, current, kind, fill_zeros=False)
    return float(distance.jensenshannon(ref, cur, base=base))


def psi(reference: pd.Series, current: pd.Series, kind: Kind) -> float:
    ref, cur = binned_shares(reference, current, kind, fill_zeros=True)
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def _aligned_counts(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    ref = reference.value_counts()
    cur = current.value_counts()
    keys = ref.index.union(cur.index)
    return (
        ref.reindex(keys, fill_value=0).to_numpy(float),
        cur.reindex(keys, fill_value=0).to_numpy(float),
    )


def stat_test(
    method: str, reference: pd.Series, current: pd.Series, kind: Kind, threshold: float
) -> TestResult:
    """Run one named test on clean samples (see :func:`clean`)."""
    p_value: float | None = None
    if method == "ks":
        statistic, p_value = ks_test(reference.to_numpy(float), current.to_numpy(float))
        drifted = p_value <= threshold
    elif method == "chisquare":
        statistic, p_value = chisquare_test(reference, current)
        drifted = p_value < threshold
    elif method == "z":
        statistic, p_value = z_test(reference, current)
        drifted = p_value < threshold
    elif method == "wasserstein":
        if kind != "num":
            raise ValueError("wasserstein needs a numeric column")
        statistic = wasserstein_normed(reference.to_numpy(float), current.to_numpy(float))
        drifted = statistic >= threshold
    elif method == "jensenshannon":
        statistic = jensenshannon_distance(reference, current, kind)
        drifted = statistic >= threshold
    elif method == "psi":
        statistic = psi(reference, current, kind)
        drifted = statistic >= threshold
    else:
        raise ValueError(f"unknown drift method {method!r}")
    return TestResult(method, float(statistic), p_value, threshold, bool(drifted))


def default_threshold(method: str, settings: DriftSettings) -> float:
    if method in P_VALUE_METHODS:
        return settings.p_threshold
    if method == "psi":
        return settings.psi_threshold
    return settings.distance_threshold


def column_drift(
    reference: pd.Series, current: pd.Series, settings: DriftSettings, kind: Kind | None = None
) -> TestResult | None:
    """Drift of one column, or ``None`` when either side has no usable value."""
    return prepare_reference(reference, settings, kind).test(current, settings)


@dataclass(frozen=True)
class PreparedReference:
    """What every window's test needs from one reference column, computed once."""

    name: str
    kind: Kind
    values: pd.Series
    ordered: np.ndarray  # sorted numbers (numeric columns), for the Wasserstein distance
    scale: float
    counts: pd.Series  # occurrences per value
    n_unique: int

    def test(self, current: pd.Series, settings: DriftSettings) -> TestResult | None:
        cur = clean(current, self.kind)
        if self.values.empty or cur.empty:
            return None
        method = settings.methods.get(self.name, settings.method)
        if method == "auto":
            # Only "more than 5" matters past 5 values: skip counting the union then.
            n_unique = self.n_unique if self.n_unique > 5 else len(
                set(self.counts.index) | set(cur.unique()))
            method = choose_method(len(self.values), n_unique, self.kind, settings)
        if method == "wasserstein" and self.kind != "num":
            method = "jensenshannon"
        threshold = settings.thresholds.get(self.name, default_threshold(method, settings))
        if method == "wasserstein":
            statistic = sorted_wasserstein(self.ordered, np.sort(cur.to_numpy(float)))
            statistic /= self.scale
            return TestResult(method, statistic, None, threshold, statistic >= threshold)
        return stat_test(method, self.values, cur, self.kind, threshold)


def prepare_reference(
    reference: pd.Series, settings: DriftSettings, kind: Kind | None = None
) -> PreparedReference:
    kind = kind or column_kind(reference, settings.categorical)
    values = clean(reference, kind)
    numbers = np.sort(values.to_numpy(float)) if kind == "num" else np.empty(0)
    counts = values.value_counts(sort=False)
    return PreparedReference(
        name=str(reference.name), kind=kind, values=values, ordered=numbers,
        scale=max(float(np.std(numbers)), _MIN_STD) if len(numbers) else _MIN_STD,
        counts=counts, n_unique=len(counts),
    )


def sorted_wasserstein(u: np.ndarray, v: np.ndarray) -> float:
    """First Wasserstein distance of two *sorted* samples in linear time: the area between
    their empirical CDFs, walked along the merged order (ties add zero-width steps)."""
    both = np.concatenate([u, v])
    # a stable sort of two sorted runs is a merge (timsort), not an n log n sort
    order = np.argsort(both, kind="stable")
    merged = both[order]
    from_u = order < len(u)
    cdf_u = np.cumsum(from_u)[:-1] / len(u)
    cdf_v = np.cumsum(~from_u)[:-1] / len(v)
    return float(np.dot(np.abs(cdf_u - cdf_v), np.diff(merged)))


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
            result = ref.test(column.iloc[w.lo : w.hi], settings)
            if result is None:
                continue
            rows.append({
                "window": w.index, "window_start": w.start, "window_end": w.end,
                "feature": ref.name, "method": result.method, "statistic": result.statistic,
                "threshold": result.threshold, "drifted": result.drifted,
                "p_value": result.p_value, "n": w.hi - w.lo, "n_reference": len(ref.values),
            })
    frame = pd.DataFrame(rows, columns=DRIFT_COLUMNS)
    return frame.sort_values(["window", "feature"], key=_column_order(columns),
                             ignore_index=True)


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
