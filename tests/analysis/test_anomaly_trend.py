"""The detector on trends, young series and the sample incident: what an operator sees."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opscockpit.analysis.anomaly import Episode, SeriesDetector

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "incident" / "metrics.csv"
T0 = 1_700_000_000.0
MINUTE = 60.0


def at(hhmm: str) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(2026, 3, 14, hours, minutes, tzinfo=UTC)


def sample_episodes() -> dict[str, list[tuple[Episode, datetime | None]]]:
    """Each series of the sample incident: its episodes and when each closed (None: open)."""
    frame = pd.read_csv(SAMPLE)
    frame["ts"] = pd.to_datetime(frame["timestamp"], utc=True)
    out: dict[str, list[tuple[Episode, datetime | None]]] = {}
    for (host, metric), rows in frame.groupby(["host", "metric"]):
        detector = SeriesDetector()
        found: list[tuple[Episode, datetime | None]] = []
        for ts, value in zip(rows["ts"], rows["value"], strict=True):
            stamp = ts.to_pydatetime()
            detector.update(stamp, float(value))
            found += [(episode, stamp) for episode in detector.pop_closed()]
        if detector.open_episode is not None:
            found.append((detector.open_episode, None))
        out[f"{host}/{metric}"] = found
    return out


def test_sample_incident_episodes_start_with_the_incident_and_close_after_it() -> None:
    # The story (scripts/make_sample_incident.py): a daily rise all morning, the bad deploy
    # bites at 10:05, the rollback at 11:00 recovers by 11:04.
    episodes = sample_episodes()
    for series, found in episodes.items():
        if series.startswith("db-1/"):
            continue  # no incident there; a noise episode is allowed, not required
        for episode, _ in found:
            assert episode.start >= at("10:04"), (series, episode)
    for host in ("web-1", "web-2", "api-1", "api-2"):
        for metric in ("latency_ms", "error_rate_pct"):
            found = episodes[f"{host}/{metric}"]
            assert all(episode.start >= at("10:00") for episode, _ in found), found
            for episode, closed in found:
                assert closed is not None and closed < at("11:40"), (host, metric, episode)
        latency = episodes[f"{host}/latency_ms"]
        assert any(at("10:04") <= ep.start <= at("10:10") for ep, _ in latency), latency
        # One episode for the whole incident, plateau included: it ends after the recovery.
        assert any(ep.end >= at("11:04") for ep, _ in latency), latency


def morning(seed: int) -> np.ndarray:
    """04:00-12:00 of one-minute latency on the rising half of its day, as in the sample."""
    rng = np.random.default_rng(seed)
    minutes = 240 + np.arange(480)
    daily = np.sin(minutes / 1440 * 2 * np.pi - np.pi / 2)
    return 80 * (1 + 0.1 * daily) + rng.normal(0, 4.8, len(minutes))


def disk_filling(seed: int) -> np.ndarray:
    """A day of one-minute disk usage growing steadily."""
    rng = np.random.default_rng(seed)
    return 40 + 0.02 * np.arange(1440) + rng.normal(0, 0.5, 1440)


@pytest.mark.parametrize("shape", [morning, disk_filling])
def test_a_smooth_trend_with_noise_raises_nothing(shape) -> None:  # type: ignore[no-untyped-def]
    reasons = []
    scored = 0
    for seed in range(8):
        detector = SeriesDetector()
        values = shape(seed)
        scored += len(values) - 280  # a new series is silent for about 280 points
        for i, value in enumerate(values):
            detector.update(T0 + MINUTE * i, float(value))
            if detector.opened:
                reasons.append(detector.reason)
    # Every new level is a record of the series' short life; none of them is an anomaly.
    # (Before the trend residuals, five of eight mornings and every disk raised "level
    # high" or "value high".) What is left is the noise floor of the other statistics
    # (mostly "spread"), about one false alarm per 1,600 points as on plain noise.
    assert not [r for r in reasons if r.split()[0] in {"value", "level"}], reasons
    assert len(reasons) <= scored / 1000, reasons


def test_a_level_shift_on_a_trend_is_still_found() -> None:
    values = disk_filling(3)
    values[1000:] += 5.0  # ten noise sigmas, on top of the ramp
    detector = SeriesDetector()
    opened = []
    for i, value in enumerate(values):
        detector.update(T0 + MINUTE * i, float(value))
        if detector.opened:
            opened.append(i)
    assert any(1000 <= i <= 1005 for i in opened), opened


def test_a_weak_episode_followed_by_a_strong_onset_gives_two_episodes() -> None:
    # One-second telemetry: a spike makes a mild episode, which a minute and a half later
    # is still open (five calm minutes close it) when the real incident starts.
    rng = np.random.default_rng(2)
    values = rng.normal(50, 1, 1000)
    values[700] += 6.5
    values[800:900] += 30
    detector = SeriesDetector()
    found = []
    for i, value in enumerate(values):
        detector.update(T0 + i, float(value))
        found += detector.pop_closed()
    assert detector.open_episode is not None
    weak, strong = [*found, detector.open_episode]
    assert weak.start == T0 + 700 and weak.peak_score < 0.7 and weak.end < T0 + 800
    assert strong.start == T0 + 800 and strong.peak_score == 1.0


def test_a_young_series_raises_a_gross_change_but_not_its_noise() -> None:
    rng = np.random.default_rng(4)
    quiet = 80 + rng.normal(0, 5, 280)
    detector = SeriesDetector()
    for i, value in enumerate(quiet):
        detector.update(T0 + MINUTE * i, float(value))
        assert not detector.opened, i
    broken = 80 + rng.normal(0, 5, 200)
    broken[90:] += 900  # an hour and a half after the series appeared
    detector = SeriesDetector()
    opened = []
    for i, value in enumerate(broken):
        detector.update(T0 + MINUTE * i, float(value))
        if detector.opened:
            opened.append(i)
    assert opened == [90]


def test_restored_detector_continues_bit_identically_inside_an_episode() -> None:
    frame = pd.read_csv(SAMPLE)
    rows = frame[(frame["host"] == "api-2") & (frame["metric"] == "latency_ms")]
    epoch = pd.Timestamp(0, tz="UTC")
    stamps = (pd.to_datetime(rows["timestamp"], utc=True) - epoch) / pd.Timedelta(seconds=1)
    points = list(zip(stamps.tolist(), rows["value"].astype(float).tolist(), strict=True))
    cut = next(i for i, (ts, _) in enumerate(points) if ts >= at("10:30").timestamp())
    through, first = SeriesDetector(), SeriesDetector()
    for ts, value in points[:cut]:
        through.update(ts, value)
        first.update(ts, value)
    assert first.open_episode is not None  # the state carries an open episode and its band
    restored = SeriesDetector.from_state(json.loads(json.dumps(first.to_state())))
    for ts, value in points[cut:]:
        assert through.update(ts, value) == restored.update(ts, value), ts
        assert through.opened == restored.opened
        assert through.pop_closed() == restored.pop_closed()
    assert json.dumps(through.to_state()) == json.dumps(restored.to_state())


def test_a_state_of_another_version_is_refused() -> None:
    state = SeriesDetector().to_state()
    state["version"] = 1
    with pytest.raises(ValueError, match="version 1"):
        SeriesDetector.from_state(state)


def bytes_counter(seed: int) -> np.ndarray:
    """A day of a one-minute counter near 10^12 that rises steadily: a trend line whose sums
    lose their variance to rounding (not re-centred) would judge it a storm of records."""
    rng = np.random.default_rng(seed)
    return 1e12 + 3.0 + 50.0 * np.arange(1440) + rng.normal(0, 20, 1440)


def test_a_large_counter_rising_steadily_raises_nothing_on_value_or_level() -> None:
    for seed in range(4):
        detector = SeriesDetector()
        reasons = []
        for i, value in enumerate(bytes_counter(seed)):
            detector.update(T0 + MINUTE * i, float(value))
            if detector.opened:
                reasons.append(detector.reason)
        assert not [r for r in reasons if r.split()[0] in {"value", "level"}], reasons
