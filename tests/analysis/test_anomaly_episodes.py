"""Episode tracking: closing on the series' own clock, echoes, strong onsets, plateaus."""

from __future__ import annotations

import json

import pytest

from opscockpit.analysis.anomaly import Episode, EpisodeTracker

T0 = 1_700_000_000.0
THRESHOLD = 0.35


def feed(tracker: EpisodeTracker, scores: list[float], step: float) -> list[int]:
    """Rows on which an episode opens."""
    return [i for i, s in enumerate(scores) if tracker.observe(T0 + step * i, s)]


def closed_at(scores: list[float], step: float) -> tuple[Episode, int]:
    """The one episode ``scores`` make, and the row on which it closed."""
    tracker = EpisodeTracker(THRESHOLD)
    for i, s in enumerate(scores):
        tracker.observe(T0 + step * i, s)
        done = tracker.pop_closed()
        if done:
            (episode,) = done
            return episode, i
    raise AssertionError("the episode never closed")


@pytest.mark.parametrize(
    ("step", "closing_row"),
    [
        (1.0, 6 + 300),  # one-second telemetry: five minutes after the last high score
        (60.0, 7 + 12),  # one-minute metrics: twelve calm points, not an hour
        (300.0, 7 + 12),  # five-minute metrics: an hour, not five
    ],
)
def test_an_episode_closes_after_a_calm_measured_in_points_and_seconds(
    step: float, closing_row: int
) -> None:
    scores = [0.0] * 5 + [0.9, 0.6, 0.3] + [0.0] * 400
    episode, row = closed_at(scores, step)
    # Its end is the last point above release (0.3 at row 7), whenever it closes.
    assert episode.start == T0 + 5 * step and episode.end == T0 + 7 * step
    assert row == closing_row


def test_noise_above_release_does_not_keep_a_dense_series_open() -> None:
    # One point a second, with a release-level blip every 40 seconds: five minutes after the
    # last high score the episode closes.
    scores = [0.0] * 5 + [0.9] + ([0.0] * 39 + [0.2]) * 20
    episode, row = closed_at(scores, 1.0)
    assert row == 5 + 300
    assert episode.end == T0 + 285  # the last blip before it closed


def test_an_echo_within_the_cooldown_opens_nothing_but_a_later_onset_does() -> None:
    tracker = EpisodeTracker(THRESHOLD)
    scores = [0.0] * 5 + [0.9] + [0.0] * 30 + [0.6] + [0.0] * 100 + [0.6] + [0.0] * 30
    # Row 36 is 30 points after the last one above release: an echo of row 5's episode.
    assert feed(tracker, scores, 60.0) == [5, 137]
    assert len(tracker.flush()) == 2


def test_a_strong_onset_is_not_absorbed_by_a_weak_open_episode() -> None:
    tracker = EpisodeTracker(THRESHOLD)
    scores = [0.0] * 10 + [0.38] + [0.2, 0.1] * 20 + [0.0, 1.0, 1.0] + [0.0] * 80
    assert feed(tracker, scores, 60.0) == [10, 52]
    first, second = tracker.flush()
    assert first.peak_score == 0.38 and first.end < second.start
    assert second.start == T0 + 60.0 * 52 and second.peak_score == 1.0


def test_the_rise_of_one_episode_is_not_split() -> None:
    tracker = EpisodeTracker(THRESHOLD)
    scores = [0.0] * 10 + [0.36, 0.3, 0.8, 1.0, 1.0] + [0.0] * 80
    assert feed(tracker, scores, 60.0) == [10]


def test_a_strong_onset_in_the_cooldown_after_a_weak_episode_opens_a_new_one() -> None:
    tracker = EpisodeTracker(THRESHOLD)
    scores = [0.0] * 10 + [0.4] + [0.0] * 20 + [0.95] + [0.0] * 80
    assert feed(tracker, scores, 60.0) == [10, 31]


def test_an_unsettled_series_holds_its_episode_open_for_at_most_an_hour() -> None:
    step = 60.0
    scores = [0.0] * 5 + [1.0] * 3 + [0.0] * 200
    tracker = EpisodeTracker(THRESHOLD)
    rows = []
    for i, s in enumerate(scores):
        tracker.observe(T0 + step * i, s, settled=i > 40)
        rows += [i] * len(tracker.pop_closed())
    assert rows == [41]  # held through the calm until the level settled
    tracker = EpisodeTracker(THRESHOLD)
    for i, s in enumerate(scores):
        tracker.observe(T0 + step * i, s, settled=False)
        rows += [i] * len(tracker.pop_closed())
    assert rows == [41, 7 + 60]  # never settles: a new normal after the cooldown


def test_tracker_state_round_trips_mid_episode() -> None:
    scores = [0.0] * 5 + [0.9, 0.2, 0.1] + [0.0] * 5 + [0.5] + [0.0] * 100
    through = EpisodeTracker(THRESHOLD)
    first = EpisodeTracker(THRESHOLD)
    for i, s in enumerate(scores[:10]):
        through.observe(T0 + i, s)
        first.observe(T0 + i, s)
    restored = EpisodeTracker.from_state(json.loads(json.dumps(first.to_state())))
    for i, s in enumerate(scores[10:], start=10):
        assert through.observe(T0 + i, s) == restored.observe(T0 + i, s)
    assert through.flush() == restored.flush()
