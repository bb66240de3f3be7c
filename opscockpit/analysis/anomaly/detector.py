"""A streaming anomaly detector for one metric series.

Every point updates a handful of statistics, each watching for one way a series goes wrong:

- ``value``: the raw value (spikes, dips, a level that leaves its usual range);
- ``jump``: the value minus a fast moving average (abrupt steps, even on a trend);
- ``level``: the mean of the last few points (small but sustained shifts noise would hide);
- ``spread``: the mean absolute step of the last points (bursts of noise, or a flat line);
- ``daily``/``weekly``: the recent level's deviation from a one-period moving average, minus
  the same deviation a day / a week ago (a night that looks like a day, a holiday that
  looks like a weekend).

Each statistic is judged against its own last ``window`` values (:mod:`.tail`), so no
statistic needs a distribution assumption or a scale, and each adapts: a new level becomes
normal once the window has seen enough of it. The smallest two-sided tail probability,
Bonferroni-corrected over the statistics, is the surprise of the point; its decades
(``-log10 p``) over ten is the score. Cost and memory per point are bounded by ``window``.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from statistics import median
from typing import Any

from opscockpit.analysis.anomaly.episodes import Episode, EpisodeTracker, Stamp
from opscockpit.analysis.anomaly.seasonal import PhaseMemory
from opscockpit.analysis.anomaly.tail import RollingTail
from opscockpit.records import utc

DEFAULT_SENSITIVITY = 0.65
# Scores are -log10(p) / SCORE_DECADES, clipped to [0, 1]: a score of 0.5 means a point that
# the recent history of the series makes a one-in-100,000 event.
SCORE_DECADES = 10.0
DAY = 86_400.0
WEEK = 7 * DAY
STATISTICS = ("value", "jump", "level", "spread")
PERIODS = {"daily": DAY, "weekly": WEEK}
# How many inter-arrival gaps fix the sampling step (used only to size the phase bins).
STEP_SAMPLES = 16
STATE_VERSION = 1


def _seconds(ts: Stamp) -> float:
    if isinstance(ts, datetime):
        return utc(ts).timestamp()
    return float(ts)


class SeriesDetector:
    """Score each new point of one series in [0, 1]; track the episodes those scores form.

    ``sensitivity`` in (0, 1): an episode opens when the score reaches ``1 - sensitivity``.
    """

    def __init__(
        self,
        sensitivity: float = DEFAULT_SENSITIVITY,
        *,
        window: int = 2000,
        tail: int = 16,
        lag: int = 24,
        level_span: int = 12,
        spread_span: int = 24,
        jump_alpha: float = 0.2,
        cooldown: int = 60,
        seasons: tuple[str, ...] = ("weekly",),
    ) -> None:
        if not 0.0 < sensitivity < 1.0:
            raise ValueError(f"sensitivity must be in (0, 1), got {sensitivity}")
        self.sensitivity = sensitivity
        self.window = window
        self.level_span = level_span
        self.spread_span = spread_span
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
        self._gaps: list[float] = []
        self._phases: dict[str, PhaseMemory] = {}
        self._deviations: dict[str, float] = {}
        self._tails = {
            name: RollingTail(window, tail, lag=lag) for name in (*STATISTICS, *self.seasons)
        }

    # -- scoring -------------------------------------------------------------------------

    def update(self, ts: Stamp, value: float) -> float:
        """Score ``value`` observed at ``ts`` (then learn from it); 0 for a missing value."""
        self.opened = False
        x = float(value)
        if not math.isfinite(x):
            return 0.0
        seconds = _seconds(ts)
        self._learn_step(seconds)
        stats = self._statistics(seconds, x)
        p_min = 1.0
        self.reason = ""
        for name, stat in stats.items():
            tail = self._tails[name]
            if name in self._phases and len(tail) < min(self.window, self._phases[name].bins):
                # A same-phase residual is the difference of two noisy deviations; until its
                # tail has seen a full period of them it only learns. (On two-week series
                # the weekly statistic voted on one week of memory and raised most false
                # alarms.)
                tail.push(stat)
                continue
            upper, lower = tail.surprise(stat)
            p = 2.0 * min(upper, lower)
            if p < p_min:
                p_min, self.reason = p, f"{name} {'high' if upper < lower else 'low'}"
            tail.push(stat)
        p = min(1.0, p_min * len(self._tails))
        score = min(1.0, -math.log10(p) / SCORE_DECADES) if p < 1.0 else 0.0
        anomalous = score >= self.tracker.release
        for name, deviation in self._deviations.items():
            self._phases[name].remember(seconds, deviation, anomalous)
        self._deviations.clear()
        self.count += 1
        self.opened = self.tracker.observe(ts, score)
        return score

    def _learn_step(self, seconds: float) -> None:
        last = self._last_seconds
        self._last_seconds = seconds
        if last is None or self._phases or seconds <= last:
            return
        self._gaps.append(seconds - last)
        if len(self._gaps) >= STEP_SAMPLES:
            step = median(self._gaps)
            for name in self.seasons:
                period = PERIODS[name]
                # A phase bin must hold at least one point and a period several bins.
                if step * 4 <= period:
                    self._phases[name] = PhaseMemory(period, step)

    def _statistics(self, seconds: float, x: float) -> dict[str, float]:
        stats: dict[str, float] = {"value": x}
        if self._fast is not None:
            stats["jump"] = x - self._fast
            self._fast += self.jump_alpha * (x - self._fast)
        else:
            self._fast = x
        if self._last is not None:
            self._steps.append(abs(x - self._last))
        self._last = x
        self._recent.append(x)
        if len(self._recent) == self.level_span:
            level = sum(self._recent) / self.level_span
            stats["level"] = level
            for name, memory in self._phases.items():
                residual, deviation = memory.residual(seconds, level)
                self._deviations[name] = deviation
                if residual is not None:
                    stats[name] = residual
        if len(self._steps) == self.spread_span:
            stats["spread"] = sum(self._steps) / self.spread_span
        return stats

    # -- episodes ------------------------------------------------------------------------

    @property
    def open_episode(self) -> Episode | None:
        return self.tracker.open

    def pop_closed(self) -> list[Episode]:
        return self.tracker.pop_closed()

    # -- persistence ---------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot from which :meth:`from_state` continues exactly."""
        return {
            "version": STATE_VERSION,
            "sensitivity": self.sensitivity,
            "window": self.window,
            "level_span": self.level_span,
            "spread_span": self.spread_span,
            "jump_alpha": self.jump_alpha,
            "seasons": list(self.seasons),
            "count": self.count,
            "fast": self._fast,
            "last": self._last,
            "last_seconds": self._last_seconds,
            "recent": list(self._recent),
            "steps": list(self._steps),
            "gaps": list(self._gaps),
            "phases": {name: memory.to_state() for name, memory in self._phases.items()},
            "tails": {name: tail.to_state() for name, tail in self._tails.items()},
            "tracker": self.tracker.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeriesDetector:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {state.get('version')!r}")
        out = cls(
            float(state["sensitivity"]),
            window=int(state["window"]),
            level_span=int(state["level_span"]),
            spread_span=int(state["spread_span"]),
            jump_alpha=float(state["jump_alpha"]),
            seasons=tuple(state["seasons"]),
        )
        out.count = int(state["count"])
        out._fast = None if state["fast"] is None else float(state["fast"])
        out._last = None if state["last"] is None else float(state["last"])
        out._last_seconds = None if state["last_seconds"] is None else float(state["last_seconds"])
        out._recent.extend(float(v) for v in state["recent"])
        out._steps.extend(float(v) for v in state["steps"])
        out._gaps = [float(v) for v in state["gaps"]]
        out._phases = {k: PhaseMemory.from_state(v) for k, v in state["phases"].items()}
        out._tails = {k: RollingTail.from_state(v) for k, v in state["tails"].items()}
        out.tracker = EpisodeTracker.from_state(state["tracker"])
        return out
