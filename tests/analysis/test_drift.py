"""Each drift test against scipy on small arrays, and Evidently's selection rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from opscockpit.analysis.drift import (
    DriftSettings,
    chisquare_test,
    choose_method,
    column_drift,
    column_kind,
    dataset_drift,
    drift_by_window,
    drift_onsets,
    jensenshannon_distance,
    onset_index,
    psi,
    sorted_wasserstein,
    split_windows,
    still_active,
    wasserstein_normed,
    z_test,
)

REF = np.array([1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 7.0])
CUR = np.array([2.0, 3.5, 4.0, 5.5, 6.0, 8.0, 9.0])


def test_ks_matches_scipy() -> None:
    result = column_drift(pd.Series(REF, name="x"), pd.Series(CUR, name="x"), DriftSettings())
    expected = stats.ks_2samp(REF, CUR)
    assert result is not None
    assert result.method == "ks"
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.drifted == (expected.pvalue <= 0.05)


def test_wasserstein_is_normalised_by_reference_population_std() -> None:
    assert wasserstein_normed(REF, CUR) == pytest.approx(
        stats.wasserstein_distance(REF, CUR) / np.std(REF))
    # a constant reference must not divide by zero
    assert wasserstein_normed(np.ones(5), np.ones(5) * 1.001) == pytest.approx(1.0)


_SAMPLES = st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)),
                    min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(_SAMPLES, _SAMPLES)
def test_linear_wasserstein_equals_scipy(u: list[float], v: list[float]) -> None:
    """The merge-based distance used per window gives scipy's answer, ties included."""
    expected = stats.wasserstein_distance(u, v)
    got = sorted_wasserstein(np.sort(u), np.sort(v))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_chisquare_scales_reference_counts_to_current_size() -> None:
    ref = pd.Series(list("aaaabbbccd"))
    cur = pd.Series(list("aabbbbccccdd"))
    statistic, p_value = chisquare_test(ref, cur)
    expected = stats.chisquare([2, 4, 4, 2], np.array([4, 3, 2, 1]) * 12 / 10)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue)


def test_chisquare_unseen_category_is_certain_drift() -> None:
    _, p_value = chisquare_test(pd.Series(list("aabb")), pd.Series(list("abcc")))
    assert p_value == 0.0


def test_z_test_two_proportions() -> None:
    ref = pd.Series([0] * 30 + [1] * 70)
    cur = pd.Series([0] * 50 + [1] * 50)
    z, p_value = z_test(ref, cur)
    p1, p2 = 0.7, 0.5
    pooled = (p1 * 100 + p2 * 100) / 200
    expected_z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert z == pytest.approx(expected_z)
    assert p_value == pytest.approx(2 * stats.norm.sf(abs(expected_z)))
    assert z_test(pd.Series(["a"] * 5), pd.Series(["a"] * 3)) == (0.0, 1.0)


def test_jensenshannon_by_category_natural_log() -> None:
    ref = pd.Series(list("aaab"))
    cur = pd.Series(list("abbb"))
    # Evidently calls scipy without a base: natural log, so at most sqrt(ln 2) ~ 0.83
    assert jensenshannon_distance(ref, cur, "cat") == pytest.approx(
        distance.jensenshannon([0.75, 0.25], [0.25, 0.75]))


def test_jensenshannon_numeric_uses_sturges_bins_on_both_samples() -> None:
    rng = np.random.default_rng(1)
    ref = pd.Series(rng.normal(0, 1, 500))
    cur = pd.Series(rng.normal(0.5, 1, 300))
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    r = np.histogram(ref, edges)[0] / len(ref)
    c = np.histogram(cur, edges)[0] / len(cur)
    assert jensenshannon_distance(ref, cur, "num") == pytest.approx(distance.jensenshannon(r, c))


def test_psi_fills_empty_bins_before_the_log() -> None:
    ref = pd.Series(list("aabbbc"))
    cur = pd.Series(list("aaabbd"))
    r = np.array([2, 3, 1, 0]) / 6
    c = np.array([3, 2, 0, 1]) / 6
    r[r == 0] = 1e-4
    c[c == 0] = 1e-4
    assert psi(ref, cur, "cat") == pytest.approx(float(np.sum((r - c) * np.log(r / c))))


@pytest.mark.parametrize(
    ("n_reference", "n_unique", "kind", "method"),
    [
        (1000, 6, "num", "ks"),
        (1000, 5, "num", "chisquare"),
        (1000, 3, "num", "chisquare"),
        (1000, 2, "num", "z"),
        (1000, 40, "cat", "chisquare"),
        (1000, 2, "cat", "z"),
        (1001, 6, "num", "wasserstein"),
        (1001, 5, "num", "jensenshannon"),
        (1001, 2, "cat", "jensenshannon"),
        (50_000, 40, "cat", "jensenshannon"),
    ],
)
def test_method_selection(n_reference: int, n_unique: int, kind: str, method: str) -> None:
    assert choose_method(n_reference, n_unique, kind, DriftSettings()) == method  # type: ignore[arg-type]


def test_unique_values_counted_over_reference_and_current() -> None:
    ref = pd.Series([1.0, 2.0, 3.0] * 10, name="x")
    cur = pd.Series([4.0, 5.0, 6.0] * 10, name="x")
    result = column_drift(ref, cur, DriftSettings())
    assert result is not None and result.method == "ks"  # 6 values together, 3 alone


def test_kinds() -> None:
    assert column_kind(pd.Series([1.0, 2.0])) == "num"
    assert column_kind(pd.Series([True, False])) == "cat"
    assert column_kind(pd.Series(["a", "b"])) == "cat"
    assert column_kind(pd.Series([1.0, 2.0, "oops"], dtype=object)) == "num"
    assert column_kind(pd.Series([1, 2], name="zip"), categorical=("zip",)) == "cat"


def test_method_and_threshold_overrides() -> None:
    settings = DriftSettings(method="psi", methods={"y": "ks"}, thresholds={"y": 0.5})
    x = column_drift(pd.Series(REF, name="x"), pd.Series(CUR, name="x"), settings)
    y = column_drift(pd.Series(REF, name="y"), pd.Series(CUR, name="y"), settings)
    assert x is not None and x.method == "psi" and x.threshold == 0.1
    assert y is not None and y.method == "ks" and y.threshold == 0.5
    with pytest.raises(ValueError, match="unknown drift method"):
        DriftSettings(method="magic")


def test_missing_values_are_ignored_and_empty_sides_skipped() -> None:
    ref = pd.Series([1.0, np.nan, 2.0, 3.0, 4.0, 5.0, 6.0], name="x")
    cur = pd.Series([np.nan, np.nan], name="x")
    assert column_drift(ref, cur, DriftSettings()) is None


def _frame(values: np.ndarray, start: str = "2024-01-01", freq: str = "h") -> pd.DataFrame:
    ts = pd.date_range(start, periods=len(values), freq=freq, tz="UTC")
    return pd.DataFrame({"ts": ts, "x": values})


def test_time_and_row_windows() -> None:
    frame = _frame(np.arange(72.0))
    daily = list(split_windows(frame, "1D"))
    assert [len(rows) for *_, rows in daily] == [24, 24, 24]
    assert daily[1][1] == pd.Timestamp("2024-01-02", tz="UTC")
    chunks = list(split_windows(frame, 30))
    assert [len(rows) for *_, rows in chunks] == [30, 30, 12]
    assert chunks[1][1] == frame["ts"].iloc[30]
    monthly = list(split_windows(_frame(np.arange(24 * 70.0)), "MS"))
    assert [start.day for _, start, _, _ in monthly] == [1, 1, 1]
    assert monthly[1][1] == pd.Timestamp("2024-02-01", tz="UTC")


def test_drift_frame_onset_and_dataset_drift() -> None:
    rng = np.random.default_rng(7)
    reference = _frame(rng.normal(0, 1, 2000), "2023-12-01")
    reference["c"] = rng.choice(list("ab"), 2000)
    # 1440 rows a day: the normalised Wasserstein distance of same-distribution samples
    # of that size stays well under 0.1 (with 24 a day it would not)
    values = np.concatenate([rng.normal(0, 1, 1440 * 4), rng.normal(1.5, 1, 1440 * 4)])
    current = _frame(values, freq="min")
    current["c"] = rng.choice(list("ab"), len(current))
    drift = drift_by_window(current, reference, ["x", "c"], DriftSettings(window="1D"))
    assert list(drift.columns[:8]) == ["window", "window_start", "window_end", "feature",
                                       "method", "statistic", "threshold", "drifted"]
    x = drift[drift["feature"] == "x"]
    assert x["drifted"].tolist() == [False] * 4 + [True] * 4
    onsets = drift_onsets(drift, DriftSettings()).set_index("feature")
    assert onsets.loc["x", "onset"] == pd.Timestamp("2024-01-05", tz="UTC")
    assert bool(onsets.loc["x", "active"])
    assert pd.isna(onsets.loc["c", "onset"])
    dataset = dataset_drift(drift)
    assert dataset["drifted"].tolist() == [False] * 4 + [True] * 4  # 1 of 2 is half


def test_onset_rules() -> None:
    assert onset_index([False, True, False, False, False, True, True, True]) == 5
    assert onset_index([True, True, False, True, False, False, False, False]) is None
    assert onset_index([True, True, False, True, True]) == 0  # 3 of 4 from the first
    assert onset_index([False, False, False, True]) == 3  # fresh at the end: all remaining
    assert onset_index([True, True, True, False, False, False, False, True, True]) == 7
    assert still_active([False, True, True, True])
    assert not still_active([True, True, False, False])
