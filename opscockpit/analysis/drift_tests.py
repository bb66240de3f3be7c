"""The drift tests: one column of a reference against one sample of current data.

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

from collections.abc import Mapping, Sequence
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
        if not len(present):
            return "cat"
        # pandas names a column's value types in C; walk the values only when they mix.
        inferred = pd.api.types.infer_dtype(present, skipna=True)
        if inferred in _NUMBER_TYPES:
            return "num"
        if inferred in ("string", "boolean", "bytes", "empty"):
            return "cat"
        if np.mean([_is_number(v) for v in present.to_numpy()]) > 0.5:
            return "num"
    return "cat"


_NUMBER_TYPES = frozenset({"floating", "integer", "mixed-integer-float", "decimal"})


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
    # Merge v into u where each value goes (a binary search per value of the smaller
    # sample, then one linear insert): twice as fast as a stable sort of both.
    at = np.searchsorted(u, v, side="right")
    merged = np.insert(u, at, v)
    # How many values of v are at or before each step; integer cumsum (float cumsum is
    # several times slower), then the exact counts as floats. No BLAS dot at the end: on a
    # busy machine its threads cost more than the sum itself.
    slots = at + np.arange(len(v))
    from_v = np.zeros(len(merged) - 1, dtype=np.int64)
    from_v[slots[slots < len(from_v)]] = 1
    seen_v = np.cumsum(from_v).astype(np.float64)
    seen_u = np.arange(1.0, len(merged)) - seen_v
    gaps = np.abs(seen_u / len(u) - seen_v / len(v))
    gaps *= np.diff(merged)
    return float(gaps.sum())
