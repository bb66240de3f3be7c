"""A streaming anomaly detector for one metric series.

Every point updates a handful of statistics, each watching for one way a series goes wrong:

- ``value``: the raw value (spikes, dips, a level that leaves its usual range);
- ``jump``: the value minus a fast moving average (abrupt steps, even on a trend);
- ``level``: the mean of the last few points (small but sustained shifts noise would hide);
- ``spread``: the mean absolute step of the last points (bursts of noise, or a flat line);
- ``drift``: the mean of the last ``season_span`` points (a change too slow or too small
  for the level, which forgets it in a dozen points: a temperature running low for a
  day, a host busier for hours than it has been for weeks); it waits ``season_span``
  points before joining its window (so it is judged against means it shares no point
  with), is judged around the trend line like ``level`` (``drift~``), and only learns until
  its window holds 1,024 values (a mean of 48 points changes slowly: a few hundred of them
  are a handful of independent values, too few for a tail);
- ``weekly`` (and ``daily`` if asked): the mean of the last ``season_span`` points' deviation
  from a one-period moving average, minus the same deviation a period ago (a night that
  looks like a day, a holiday that looks like a Sunday).

Each statistic is judged against its own last ``window`` values, so no statistic needs a
distribution assumption or a scale, and each adapts: a new level becomes normal once the
window has seen enough of it. Inside the bulk of a window the tail probability is the
conformal rank (values at least as extreme, plus one, over n + 1). Beyond it, a value that
fewer than three past values reach is judged by an exponential tail (peaks over threshold,
GPD with shape 0) fitted to the ``tail`` most extreme values, its scale from their median
excess (so one past anomaly does not hide the next for a whole window, while an event that
keeps recurring becomes normal), never below 2 % of the bulk's spread (so a quantised tail
does not make the next small step look impossible). The smallest two-sided tail
probability, Bonferroni-corrected over the statistics (every one the detector has, voting
yet or not, so a young series gets no discount for having fewer; but the drift only once
it votes, so the many series shorter than its learning never pay for it), is the surprise
of the point; its decades (``-log10 p``) over ten, clipped to [0, 1], is the score (0.5:
a point the recent history makes a one-in-100,000 event). Cost and memory per point are
bounded by ``window``. The default window, 4000 points, is two weeks at five-minute samples (so a
weekly pattern has been seen twice) and under three days at one a minute: a shorter memory
forgets last week's rare burst and calls the next one new (at 2000 points NAB's
realKnownCause raised a quarter more false alarms and scored 4.6 points lower; at 6000 it
began to miss windows). The last ``lag`` values of a statistic wait before they join its
window, so a slow drift is judged against what came before it, not against its own start.

Trend: ``value`` and ``level`` compare the present with the window's *distribution*, which
on a steadily rising series makes every new record look surprising. Each therefore also
has a trend residual (the statistic minus a least-squares line through the level's
reference window, kept in O(1) per point with sums re-centred every window so bytes
counters keep their variance) with its own tail; in proportion to how well that line
explains the window (R² of the level from 0.5, fully at 0.8: below 0.5 the line is a poor
description, and NAB's two-week files sit there and score the same with or without it; on
a clean ramp the level's R² is above 0.9), a value or level is only as surprising as it is
*around the line*. Over weeks of a
stationary or seasonal series the line explains next to nothing and the statistic is
judged as before; a young series on its morning ramp, or a disk filling, is judged around
its trend.

Seasons: phases are bins of the wall-clock period keyed by the data's own timestamps (at
most 2016 per period), so gaps and irregular sampling do not shift the phase. What a bin
remembers is the deviation from a one-period moving average, not the raw value (else a
level shift would come back as a "seasonal" anomaly a period later), and an anomalous
point leaves the bin's memory as it was (an incident must not become next week's normal).
A bin written less than half or more than one and a half periods ago is not the same
phase. Until its tail has seen a full period of residuals the seasonal statistic only
learns (on two-week series it voted on one week of memory and raised most false alarms).
It compares a 48-point mean rather than the 12-point level: a same-phase residual is the
difference of two such means, so it carries the noise of both, and what it is for (a
holiday, a night shift that did not happen) lasts hours (with the 12-point level it missed
NAB's nyc_taxi holiday window).

Warm-up: a new series says nothing for its first ``lag`` + 30 points (about 54); from then
until its tails hold 256 values (about 280 points) it raises only gross changes, judged
by an exponential tail whose scale is the whole range it has shown (a latency going from
80 ms to 900 ms, not a busy minute); after that it has full sensitivity. At one point a
second that is a minute of silence and under five minutes to full sensitivity; at one a
minute, an hour and under five hours; at five minutes, four and a half hours and a day. It
is counted in points, not time, on purpose: a tail needs that many values to be
estimated, whatever the cadence. (NAB ignores its first 15% of rows, at least 600 of a
two-week file, so the warm-up costs it nothing.)

Episodes (:mod:`.episodes`) open when the score reaches ``1 - sensitivity``; NAB counts the
row where one opens as the detection. They close on the series' own clock, stay open while
the level sits away from where it was before the episode (the bulk of the level's window,
or of its residual around the line when the line fits, widened by its own width on each
side and moved along the line's slope), and a much stronger onset splits a weak episode.

The per-point work is compiled (``_kernel.c``): a point costs about a microsecond, so a
fleet's live telemetry, an ingest of months of history and a replay all go through this
same code. Each statistic's window is kept sorted with two small buffers of arrivals and
departures merged in every 128 points, instead of shifting half the window per point.
"""

from __future__ import annotations

import base64
import sys
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opscockpit.analysis.anomaly import _kernel
from opscockpit.analysis.anomaly.episodes import (
    DEFAULT_HOLD_SECONDS,
    DEFAULT_QUIET,
    DEFAULT_QUIET_SECONDS,
    Episode,
    EpisodeStamps,
    Stamp,
    dump_episodes,
    load_episodes,
    stamp_seconds,
)

DEFAULT_SENSITIVITY = 0.65
DAY = 86_400
PERIODS = {"daily": DAY, "weekly": 7 * DAY}
# The statistics, in the kernel's order (the reason of an anomaly names one of them).
STATISTICS = ("value", "jump", "level", "spread", "value~", "level~", "drift", "drift~")
# 5: the drift statistic's windows joined the kernel's memory (4: the packed memory; v3
# was JSON lists of Python objects).
STATE_VERSION = 5
# Points scored per call into the kernel: bounds the scratch buffers of a long batch.
CHUNK = 8192

_OPENED, _OPEN_AFTER = 1, 1 << 6


@dataclass(slots=True)
class Scored:
    """What :meth:`SeriesDetector.update_many` found, by position in the batch."""

    scores: array  # array('d'), one per point
    opened: list[tuple[int, str]] = field(default_factory=list)  # (position, reason)
    closed: list[tuple[int, Episode]] = field(default_factory=list)  # (position, episode)


def _reason(flags: int, names: tuple[str, ...]) -> str:
    why = (flags >> 1) & 0xF
    if not why:
        return ""
    return f"{names[why - 1]} {'high' if flags & (1 << 5) else 'low'}"


def _doubles(values: Any) -> Any:
    """A contiguous float64 buffer over ``values`` (no copy for float64 arrays)."""
    if isinstance(values, array) and values.typecode == "d":
        return values
    try:
        view = memoryview(values)
    except TypeError:
        return array("d", (float(v) for v in values))
    if view.format == "d" and view.c_contiguous:
        return view
    return array("d", (float(v) for v in view.tolist()))


class SeriesDetector:
    """Score each new point of one series in [0, 1]; track the episodes those scores form.

    ``sensitivity`` in (0, 1): an episode opens when the score reaches ``1 - sensitivity``.
    A new series is silent for its first ``lag`` + 30 points, then raises only gross changes
    (beyond several times the range seen so far) until its tails hold 256 values, about
    ``lag`` + 256 points.
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
        unknown = [s for s in seasons if s not in PERIODS]
        if unknown:
            raise ValueError(f"unknown season {unknown[0]!r} (known: daily, weekly)")
        self.sensitivity = sensitivity
        self.window = window
        self.tail = tail
        self.lag = lag
        self.level_span = level_span
        self.spread_span = spread_span
        self.season_span = season_span
        self.jump_alpha = jump_alpha
        self.cooldown = cooldown
        self.seasons = tuple(seasons)
        params = (
            sensitivity, jump_alpha, window, tail, lag, level_span, spread_span, season_span,
            cooldown, DEFAULT_QUIET, DEFAULT_QUIET_SECONDS, DEFAULT_HOLD_SECONDS,
            [PERIODS[s] for s in self.seasons],
        )
        size, _ = _kernel.sizes(*params)
        self._arena = bytearray(size)
        _kernel.init(self._arena, *params)
        self._names = STATISTICS + self.seasons
        # Whether the last point opened an episode, and which statistic made it surprising
        # (e.g. "level high": the "why" of an anomaly for the operator).
        self.opened = False
        self.reason = ""
        self._seen = 0
        self._stamps = EpisodeStamps()
        self._closed: list[Episode] = []

    @property
    def count(self) -> int:
        """Points scored so far (missing values are not)."""
        return int(_kernel.status(self._arena)[1])

    def window_len(self, statistic: str) -> int:
        """How many values a statistic's window holds (it learns before it votes)."""
        return int(_kernel.window_len(self._arena, self._names.index(statistic)))

    # -- scoring -------------------------------------------------------------------------

    def update(self, ts: Stamp, value: float) -> float:
        """Score ``value`` observed at ``ts`` (then learn from it).

        A missing value (NaN, infinite, or beyond ±1e150, where no metric lives) scores 0
        and leaves the detector as it was.
        """
        at = self._seen
        score, flags, closings = _kernel.score_one(self._arena, stamp_seconds(ts), float(value))
        self._seen = at + 1
        self.opened = bool(flags & _OPENED)
        self.reason = _reason(flags, self._names)
        stamps = (ts,)
        for raw in closings:
            self._closed.append(self._stamps.episode(raw, at, stamps))
        if flags & _OPEN_AFTER:
            self._stamps.hold(_kernel.status(self._arena)[3], at, stamps)
        elif self._stamps:
            self._stamps.clear()
        return score

    def update_many(
        self, seconds: Any, values: Any, stamps: Sequence[Stamp] | None = None
    ) -> Scored:
        """Score a run of points of this series at once (same scores as :meth:`update`).

        ``seconds``: each point's time in epoch seconds (what :meth:`update` makes of its
        stamp); ``stamps``: the stamps episodes should carry, by position (default the
        seconds themselves). The episodes it closes are handed over in the result only
        (:meth:`pop_closed` is for :meth:`update`).
        """
        secs, vals = _doubles(seconds), _doubles(values)
        n = len(vals)
        if len(secs) != n:
            raise ValueError(f"{len(secs)} times for {n} values")
        marks: Sequence[Stamp] = stamps if stamps is not None else secs
        base = self._seen
        out = Scored(array("d", bytes(8 * n)))
        opened = array("i", bytes(8 * min(n, CHUNK)))
        closed = array("d", bytes(40 * min(n, CHUNK)))
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            n_opened, n_closed = _kernel.score(self._arena, secs[lo:hi], vals[lo:hi],
                                               memoryview(out.scores)[lo:hi], opened, closed)
            for k in range(n_opened):
                out.opened.append((lo + opened[2 * k], _reason(opened[2 * k + 1], self._names)))
            for k in range(n_closed):
                raw = closed[5 * k : 5 * k + 5]
                out.closed.append((int(raw[4]) - base, self._stamps.episode(raw, base, marks)))
        self._seen = base + n
        if n:
            _, _, last, raw_open = _kernel.status(self._arena)
            self.opened = bool(out.opened) and out.opened[-1][0] == n - 1
            self.reason = _reason(last, self._names)
            self._stamps.hold(raw_open, base, marks)
        return out

    # -- episodes ------------------------------------------------------------------------

    @property
    def open_episode(self) -> Episode | None:
        raw = _kernel.status(self._arena)[3]
        return None if raw is None else self._stamps.episode(raw, self._seen, ())

    def pop_closed(self) -> list[Episode]:
        out, self._closed = self._closed, []
        return out

    # -- persistence ---------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot from which :meth:`from_state` continues exactly."""
        return {
            "version": STATE_VERSION,
            "sensitivity": self.sensitivity,
            "window": self.window,
            "tail": self.tail,
            "lag": self.lag,
            "level_span": self.level_span,
            "spread_span": self.spread_span,
            "season_span": self.season_span,
            "jump_alpha": self.jump_alpha,
            "cooldown": self.cooldown,
            "seasons": list(self.seasons),
            "byteorder": sys.byteorder,
            "memory": base64.b64encode(zlib.compress(_kernel.dump(self._arena), 1)).decode(),
            "seen": self._seen,
            "reason": self.reason,
            "stamps": self._stamps.to_state(),
            "closed": dump_episodes(self._closed),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeriesDetector:
        """Continue from :meth:`to_state`; ValueError for a state of another version."""
        version = state.get("version")
        if version != STATE_VERSION:
            raise ValueError(
                f"unsupported anomaly detector state version {version!r} (this build reads "
                f"{STATE_VERSION}); start the series afresh"
            )
        if state["byteorder"] != sys.byteorder:
            raise ValueError("anomaly detector state saved on a machine of another byte order")
        out = cls(
            float(state["sensitivity"]),
            window=int(state["window"]),
            tail=int(state["tail"]),
            lag=int(state["lag"]),
            level_span=int(state["level_span"]),
            spread_span=int(state["spread_span"]),
            season_span=int(state["season_span"]),
            jump_alpha=float(state["jump_alpha"]),
            cooldown=int(state["cooldown"]),
            seasons=tuple(state["seasons"]),
        )
        try:
            memory = zlib.decompress(base64.b64decode(state["memory"]))
        except (ValueError, zlib.error) as exc:
            raise ValueError(f"anomaly detector state is damaged ({exc})") from exc
        _kernel.load(out._arena, memory)
        out._seen = int(state["seen"])
        out.reason = str(state["reason"])
        out._stamps = EpisodeStamps.from_state(state["stamps"])
        out._closed = load_episodes(state["closed"])
        seen, _, _, raw_open = _kernel.status(out._arena)
        if seen != out._seen or not out._stamps.knows(raw_open):
            raise ValueError("anomaly detector state is damaged (its episode does not add up)")
        return out

