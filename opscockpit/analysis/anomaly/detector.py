"""A streaming anomaly detector for one metric series.

Every point updates a handful of statistics, each watching for one way a series goes wrong:

- ``value``: the raw value (spikes, dips, a level that leaves its usual range);
- ``jump``: the value minus a fast moving average (abrupt steps, even on a trend);
- ``level``: the mean of the last few points (small but sustained shifts noise would hide);
- ``spread``: the mean absolute step of the last points (bursts of noise, or a flat line);
- ``weekly`` (and ``daily`` if asked): the mean of the last ``season_span`` points' deviation
  from a one-period moving average, minus the same deviation a period ago (a night that
  looks like a day, a holiday that looks like a Sunday).

Each statistic is judged against its own last ``window`` values (:mod:`.tail`), so no
statistic needs a distribution assumption or a scale, and each adapts: a new level becomes
normal once the window has seen enough of it. The smallest two-sided tail probability,
Bonferroni-corrected over the statistics, is the surprise of the point; its decades
(``-log10 p``) over ten is the score. Cost and memory per point are bounded by ``window``.
The default window, 4000 points, is two weeks at five-minute samples (so a weekly pattern
has been seen twice) and under three days at one a minute: a shorter memory forgets last
week's rare burst and calls the next one new (at 2000 points NAB's realKnownCause raised a
quarter more false alarms and scored 4.6 points lower; at 6000 it began to miss windows).

Trend: ``value`` and ``level`` compare the present with the window's *distribution*, which
on a steadily rising series makes every new record look surprising. Each therefore also
has a trend residual (the statistic minus a least-squares line through its reference
window, :mod:`.trend`) with its own tail; in proportion to how well that line explains the
window (R² of the level from ``GATE_R2[0]``, fully at ``GATE_R2[1]``), a value or level is
only as surprising as it is *around the line*. Over weeks of a stationary or seasonal
series the line explains next to nothing and the statistic is judged as before; a young
series on its morning ramp, or a disk filling, is judged around its trend.

Warm-up: a new series says nothing for its first ``lag`` + 30 points (about 54); from then
until its tails hold 256 values (about 280 points) it raises only gross changes, judged
against the whole range it has shown (:mod:`.tail`); after that it has full sensitivity.
At one point a second that is a minute of silence and under five minutes to full
sensitivity; at one a minute, an hour and under five hours; at five minutes, four and a
half hours and a day. It is counted in points, not time, on purpose: a tail needs that many
values to be estimated, whatever the cadence. (NAB ignores its first 15% of rows, at
least 600 of a two-week file, so the warm-up costs it nothing.)

Episodes (:mod:`.episodes`) open when the score reaches ``1 - sensitivity``; NAB counts the
row where one opens as the detection. They close on the series' own clock, stay open while
the level sits away from where it was before the episode (an incident's plateau, which the
tails learn within a few dozen points), and a much stronger onset splits a weak episode.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from statistics import median
from typing import Any

from opscockpit.analysis.anomaly.episodes import Episode, EpisodeTracker, Stamp
from opscockpit.analysis.anomaly.seasonal import PhaseMemory
from opscockpit.analysis.anomaly.state import dump_detector, load_detector
from opscockpit.analysis.anomaly.tail import RollingTail
from opscockpit.analysis.anomaly.trend import SlidingFit
from opscockpit.records import utc

DEFAULT_SENSITIVITY = 0.65
# Scores are -log10(p) / SCORE_DECADES, clipped to [0, 1]: a score of 0.5 means a point that
# the recent history of the series makes a one-in-100,000 event.
SCORE_DECADES = 10.0
DAY = 86_400.0
WEEK = 7 * DAY
PERIODS = {"daily": DAY, "weekly": WEEK}
# How many inter-arrival gaps fix the sampling step (used only to size the phase bins).
STEP_SAMPLES = 16
# R² of the level's line at which trend residuals start to count, and count fully. Below
# 0.5 the line is a poor description (NAB's two-week files sit there, and score the same
# with or without it); on a clean ramp the level's R² is above 0.9.
GATE_R2 = (0.5, 0.8)


def _seconds(ts: Stamp) -> float:
    if isinstance(ts, datetime):
        return utc(ts).timestamp()
    return float(ts)


def _combine(p: float, q: float, weight: float) -> float:
    """``p`` moved towards ``max(p, q)`` by ``weight`` (geometrically): a gated tail."""
    if q <= p:
        return p
    if weight >= 1.0:
        return q
    return p ** (1.0 - weight) * q**weight


class SeriesDetector:
    """Score each new point of one series in [0, 1]; track the episodes those scores form.

    ``sensitivity`` in (0, 1): an episode opens when the score reaches ``1 - sensitivity``.
    A new series is silent for its first ``lag`` + 30 points, then raises only gross changes
    (beyond several times the range seen so far) until its tails hold 256 values, about
    ``lag`` + 256 points (see :mod:`.tail`).
    """

    def __init__(
        self,
        sensitivity: float = DEFAULT_SENSITIVITY,
        *,
        window: int = 4000,
        tail: int = 16,
        lag: int = 24,
        level_span: int = 12,
        spread_span: int = 24,
        season_span: int = 48,
        jump_alpha: float = 0.2,
        cooldown: int = 60,
        seasons: tuple[str, ...] = ("weekly",),
    ) -> None:
        if not 0.0 < sensitivity < 1.0:
            raise ValueError(f"sensitivity must be in (0, 1), got {sensitivity}")
        self.sensitivity = sensitivity
        self.window = window
        self.tail = tail
        self.lag = lag
        self.level_span = level_span
        self.spread_span = spread_span
        self.season_span = season_span
        self.jump_alpha = jump_alpha
        self.seasons = tuple(seasons)
        self.tracker = EpisodeTracker(1.0 - sensitivity, cooldown=cooldown)
        self.opened = False
        # Which statistic made the last point surprising, e.g. "level high": the "why" of an
        # anomaly for the operator.
        self.reason = ""
        self.count = 0
        self._fast: float | None = None
        self._last: float | None = None
        self._last_seconds: float | None = None
        self._recent: deque[float] = deque(maxlen=level_span)
        self._steps: deque[float] = deque(maxlen=spread_span)
        # The seasonal statistics compare a longer mean than ``level``: a same-phase residual
        # is the difference of two such means, so it carries the noise of both, and what it
        # is for (a holiday, a night shift that did not happen) lasts hours, not minutes.
        # With the 12-point level it missed NAB's nyc_taxi holiday window (peak 0.28); with
        # 24, 48 or 96 points it finds it, at the same false alarms on the other files.
        self._season_recent: deque[float] = deque(maxlen=season_span)
        self._gaps: list[float] = []
        self._step: float | None = None
        self._phases: dict[str, PhaseMemory] = {}
        names = ("value", "jump", "level", "spread", "value~", "level~", *self.seasons)
        self._tails = {name: RollingTail(window, tail, lag=lag) for name in names}
        # One line, through the levels, serves the value too: the level is the mean of the
        # last ``level_span`` values, so it stands (level_span - 1) / 2 points back.
        self._fits = {"level": SlidingFit(window, lag)}
        # Where the level normally lay when the open episode began, as (low, high, slope):
        # the bulk of the level, or of its residual around the line when the line fits
        # (then moved along the line's slope at the time, since the line itself soon learns
        # from the episode). The episode does not close while the level is outside it.
        self._band: list[float] | None = None

    # -- scoring -------------------------------------------------------------------------

    def update(self, ts: Stamp, value: float) -> float:
        """Score ``value`` observed at ``ts`` (then learn from it); 0 for a missing value."""
        self.opened = False
        x = float(value)
        if not math.isfinite(x):
            return 0.0
        seconds = _seconds(ts)
        if self._step is None:
            self._learn_step(seconds)
        tails = self._tails
        level_fit = self._fits["level"]
        level_line = level_fit.forecast()
        value_line = None
        if level_line is not None:
            value_line = level_line + level_fit.slope() * (self.level_span - 1) / 2
        gate = (level_fit.r2() - GATE_R2[0]) / (GATE_R2[1] - GATE_R2[0])
        # The most surprising statistic so far: its p, name and side. (Written out per
        # statistic rather than looped: this is the per-point hot path.)
        best, why, high = 1.0, "", False

        upper, lower = self._judge("value", x, value_line, gate, best)
        p = 2.0 * (upper if upper < lower else lower)
        if p < best:
            best, why, high = p, "value", upper < lower

        fast = self._fast
        if fast is None:
            self._fast = x
        else:
            upper, lower = tails["jump"].judge(x - fast)
            self._fast = fast + self.jump_alpha * (x - fast)
            p = 2.0 * (upper if upper < lower else lower)
            if p < best:
                best, why, high = p, "jump", upper < lower

        if self._last is not None:
            self._steps.append(abs(x - self._last))
        self._last = x
        recent = self._recent
        recent.append(x)
        season_recent = self._season_recent
        season_recent.append(x)
        level: float | None = None
        deviations: dict[str, float] = {}
        if len(recent) == self.level_span:
            level = sum(recent) / self.level_span
            upper, lower = self._judge("level", level, level_line, gate, best)
            level_fit.push(level)
            p = 2.0 * (upper if upper < lower else lower)
            if p < best:
                best, why, high = p, "level", upper < lower
        if self._phases and len(season_recent) == self.season_span:
            season_level = sum(season_recent) / self.season_span
            for name, memory in self._phases.items():
                residual, deviations[name] = memory.residual(seconds, season_level)
                if residual is None:
                    continue
                tail = tails[name]
                if len(tail) < min(self.window, memory.bins):
                    # A same-phase residual is the difference of two noisy deviations;
                    # until its tail has seen a full period of them it only learns. (On
                    # two-week series the weekly statistic voted on one week of memory and
                    # raised most false alarms.)
                    tail.push(residual)
                    continue
                upper, lower = tail.judge(residual)
                p = 2.0 * (upper if upper < lower else lower)
                if p < best:
                    best, why, high = p, name, upper < lower

        if len(self._steps) == self.spread_span:
            upper, lower = tails["spread"].judge(sum(self._steps) / self.spread_span)
            p = 2.0 * (upper if upper < lower else lower)
            if p < best:
                best, why, high = p, "spread", upper < lower

        # Bonferroni over every statistic the detector has, voting yet or not (a young series
        # gets no discount for having fewer).
        p = min(1.0, best * (4 + len(self.seasons)))
        score = min(1.0, -math.log10(p) / SCORE_DECADES) if p < 1.0 else 0.0
        self.reason = f"{why} {'high' if high else 'low'}" if why else ""
        tracker = self.tracker
        anomalous = score >= tracker.release
        for name, deviation in deviations.items():
            self._phases[name].remember(seconds, deviation, anomalous)
        self.count += 1
        self.opened = tracker.observe(ts, score, settled=self._settled(level))
        if self.opened:
            self._band = self._bulk(level_line, gate)
        elif tracker.open is None:
            self._band = None
        return score

    def _judge(
        self, name: str, stat: float, line: float | None, gate: float, best: float
    ) -> tuple[float, float]:
        """Tail probabilities of ``stat``, gated by its residual around ``line``."""
        upper, lower = self._tails[name].judge(stat)
        if line is not None:
            resid_tail = self._tails[name + "~"]
            resid = stat - line
            # The residual only ever makes a point less surprising, so it is judged only
            # when it could matter (a fast path on the common, unsurprising point).
            if gate > 0.0 and 2.0 * min(upper, lower) < best:
                r_upper, r_lower = resid_tail.surprise(resid)
                upper = _combine(upper, r_upper, gate)
                lower = _combine(lower, r_lower, gate)
            resid_tail.push(resid, keep_sorted=gate > 0.0)
        return upper, lower

    def _bulk(self, level_line: float | None, gate: float) -> list[float] | None:
        """Where the level normally lies, as the episode that just opened sees it.

        The bulk of the level's window (or of its residual around the line), widened by its
        own width on each side: "settled" means back among ordinary values, not back to
        the middle of them, which a noisy series misses one point in ten.
        """
        around_line = gate >= 0.5 and level_line is not None
        bulk = self._tails["level~" if around_line else "level"].band()
        if bulk is None:
            return None
        low, high = bulk
        width = high - low
        if around_line and level_line is not None:
            slope = self._fits["level"].slope()
            return [level_line + low - width, level_line + high + width, slope]
        return [low - width, high + width, 0.0]

    def _settled(self, level: float | None) -> bool:
        band = self._band
        if band is None:
            return True
        band[0] += band[2]
        band[1] += band[2]
        return level is None or band[0] <= level <= band[1]

    def _learn_step(self, seconds: float) -> None:
        last = self._last_seconds
        self._last_seconds = seconds
        if last is None or seconds <= last:
            return
        self._gaps.append(seconds - last)
        if len(self._gaps) >= STEP_SAMPLES:
            self._step = step = median(self._gaps)
            self._gaps = []
            for name in self.seasons:
                period = PERIODS[name]
                # A phase bin must hold at least one point and a period several bins.
                if step * 4 <= period:
                    self._phases[name] = PhaseMemory(period, step)

    # -- episodes ------------------------------------------------------------------------

    @property
    def open_episode(self) -> Episode | None:
        return self.tracker.open

    def pop_closed(self) -> list[Episode]:
        return self.tracker.pop_closed()

    # -- persistence ---------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot from which :meth:`from_state` continues exactly."""
        return dump_detector(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeriesDetector:
        """Continue from :meth:`to_state`; ValueError for a state of another version."""
        return load_detector(cls, state)
