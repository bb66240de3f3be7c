"""NAB scoring on tiny hand-built files whose scores can be worked out on paper."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.nab_scoring import (
    REWARD_LOW_FN,
    REWARD_LOW_FP,
    STANDARD,
    normalised,
    probation_rows,
    scaled_sigmoid,
    score_file,
    window_indices,
)

N = 1000  # probation: 150 rows
WINDOWS = [(400, 499), (700, 799)]


def detections(*rows: int) -> np.ndarray:
    out = np.zeros(N, dtype=bool)
    out[list(rows)] = True
    return out


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_rows(1000) == 150
    assert probation_rows(4032) == 604
    assert probation_rows(22695) == 750


def test_scaled_sigmoid_shape() -> None:
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(3.5) == -1.0
    assert scaled_sigmoid(0.5) == pytest.approx(2 / (1 + math.exp(2.5)) - 1)


def test_perfect_detector_scores_100_and_null_scores_0() -> None:
    perfect = score_file(detections(400, 700), WINDOWS)
    null = score_file(detections(), WINDOWS)
    assert perfect.raw == pytest.approx(2.0)
    assert (perfect.tp, perfect.fp, perfect.fn) == (2, 0, 2 - 2)
    assert null.raw == pytest.approx(-2.0)
    assert normalised([perfect]) == pytest.approx(100.0)
    assert normalised([null]) == pytest.approx(0.0)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    early = score_file(detections(400, 700), WINDOWS)
    with_late_extras = score_file(detections(400, 450, 499, 700, 799), WINDOWS)
    assert with_late_extras.raw == pytest.approx(early.raw)


def test_detection_at_window_middle_and_end() -> None:
    # Row 449 of a 100-row window [400, 499]: y = -(499 - 449 + 1)/100 = -0.51.
    got = score_file(detections(449, 700), WINDOWS)
    expected = scaled_sigmoid(-0.51) / scaled_sigmoid(-1.0) + 1.0
    assert got.raw == pytest.approx(expected)
    last_row = score_file(detections(499, 700), WINDOWS)
    assert last_row.raw == pytest.approx(scaled_sigmoid(-0.01) / scaled_sigmoid(-1.0) + 1.0)


def test_false_positive_before_any_window_costs_full_a_fp() -> None:
    got = score_file(detections(200, 400, 700), WINDOWS)
    assert got.raw == pytest.approx(2.0 - 0.11)
    assert got.fp == 1
    low_fp = score_file(detections(200, 400, 700), WINDOWS, REWARD_LOW_FP)
    assert low_fp.raw == pytest.approx(2.0 - 0.22)


def test_false_positive_after_a_window_is_weighted_by_the_sigmoid() -> None:
    # Row 520 is 21 rows past a window of 100 rows: y = 21/99.
    near = score_file(detections(400, 520, 700), WINDOWS)
    assert near.raw == pytest.approx(2.0 + 0.11 * scaled_sigmoid(21 / 99))
    # Row 980 is 181 rows past the last window: still inside 3 widths, heavier penalty.
    far = score_file(detections(400, 700, 980), WINDOWS)
    assert far.raw == pytest.approx(2.0 + 0.11 * scaled_sigmoid(181 / 99))
    assert far.raw < near.raw
    # Past three window widths the penalty is the full -A_FP.
    long_n = np.zeros(2000, dtype=bool)
    long_n[[400, 1500]] = True
    beyond = score_file(long_n, [(400, 499)])
    assert beyond.raw == pytest.approx(1.0 - 0.11)


def test_detections_in_probation_are_ignored() -> None:
    windows = [(100, 199), (700, 799)]
    got = score_file(detections(50, 120, 700), windows)
    # Row 50 would be a FP and row 120 a TP, but both lie in the first 150 rows.
    assert got.raw == pytest.approx(-1.0 + 1.0)
    assert (got.tp, got.fp, got.fn) == (1, 0, 1)
    # The best a detector can do on a window starting in probation is its first scored row.
    assert got.perfect == pytest.approx(scaled_sigmoid(-50 / 100) / scaled_sigmoid(-1.0) + 1.0)


def test_reward_low_fn_doubles_the_miss_penalty() -> None:
    got = score_file(detections(400), WINDOWS, REWARD_LOW_FN)
    assert got.raw == pytest.approx(1.0 - 2.0)
    assert got.null == pytest.approx(-4.0)


def test_normalisation_sums_raw_scores_over_files() -> None:
    a = score_file(detections(400, 700), WINDOWS, STANDARD)  # +2, null -2, perfect 2
    b = score_file(detections(), WINDOWS, STANDARD)  # -2
    assert normalised([a, b]) == pytest.approx(100 * (0 - -4) / (4 - -4))


def test_window_indices_match_first_row_of_each_timestamp() -> None:
    ts = pd.Series(pd.date_range("2014-01-01", periods=10, freq="5min"))
    got = window_indices(ts, [("2014-01-01 00:10:00", "2014-01-01 00:25:00")])
    assert got == [(2, 5)]
