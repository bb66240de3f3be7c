"""Turning a stream of per-point anomaly scores into episodes: one event per incident.

An episode opens on the first score at or above ``threshold`` and stays open while scores
keep coming back above ``release`` (a lower bar, so a flickering score makes one episode,
not many). Its ``end`` is the last point above ``release``.

Closing and re-opening are separate questions, answered on different clocks:

- **Closing** is about the operator: an episode closes once the score has stayed below
  ``release`` for ``quiet`` points *and* below ``threshold`` for ``quiet_seconds`` of the
  series' own time. The point count keeps a sparse series (five-minute samples) from
  closing on one calm sample; the duration keeps a dense one (one-second telemetry) from
  closing on a calm minute. (The duration is measured against ``threshold``, not
  ``release``: at one point a second, noise crosses ``release`` every minute or so and an
  episode would never close.) One-minute data closes after 12 calm minutes, five-minute
  data after an hour, one-second data after 5 minutes.
- **A plateau holds its episode**: a detector learns a new level within a few dozen points,
  so an hour-long incident plateau stops scoring long before it ends. While the caller
  says the series has not ``settled`` back among its pre-episode values, the episode stays
  open through the calm, for at most ``cooldown`` points and ``hold_seconds`` (after that
  the plateau is the new normal, and the episode ends where the scores last said so).
- **Re-opening** is about not crying wolf twice: for ``cooldown`` points after the last
  point above ``release`` (closed episode or not) the series is still "hot", and a new
  score above ``threshold`` there is an echo of the last incident, not news: it opens
  nothing and only keeps the series hot. NAB, which counts each opening as a detection,
  scores an echo that opens a new episode as a false positive.
- **A stronger onset is never absorbed**: a score that is a new onset (the previous point
  was below ``threshold``, the episode is at least ``quiet`` points old) and at least
  ``STRONG_MARGIN`` above the open (or last) episode's peak closes the weaker episode and
  opens a new one, so a mild wobble an hour before an incident does not swallow it. As
  scores are capped at 1, only episodes peaking at or below ``1 - STRONG_MARGIN`` can be
  split or re-opened this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opscockpit.records import utc

Stamp = datetime | float

# Scores are tenths of decades of improbability: 0.3 more is 1000 times less likely.
STRONG_MARGIN = 0.3
DEFAULT_COOLDOWN = 60
DEFAULT_QUIET = 12
DEFAULT_QUIET_SECONDS = 300.0
DEFAULT_HOLD_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Episode:
    start: Stamp
    end: Stamp
    peak_score: float
    peak_ts: Stamp


def _seconds(ts: Stamp) -> float:
    # Naive datetimes are UTC, as everywhere in opscockpit (not local time, whose DST
    # change would stretch or shrink a calm spell by an hour).
    return utc(ts).timestamp() if isinstance(ts, datetime) else float(ts)


def _dump_stamp(ts: Stamp) -> Any:
    if isinstance(ts, datetime):
        return {"iso": ts.isoformat()}
    return ts


def _load_stamp(raw: Any) -> Stamp:
    if isinstance(raw, dict):
        return datetime.fromisoformat(raw["iso"])
    return float(raw)


def _dump_episode(ep: Episode) -> dict[str, Any]:
    return {
        "start": _dump_stamp(ep.start),
        "end": _dump_stamp(ep.end),
        "peak_score": ep.peak_score,
        "peak_ts": _dump_stamp(ep.peak_ts),
    }


def _load_episode(raw: dict[str, Any]) -> Episode:
    return Episode(
        _load_stamp(raw["start"]),
        _load_stamp(raw["end"]),
        float(raw["peak_score"]),
        _load_stamp(raw["peak_ts"]),
    )


class EpisodeTracker:
    """Hysteresis over scores: ``observe`` each point, then read ``closed`` and ``open``."""

    def __init__(
        self,
        threshold: float,
        release: float | None = None,
        cooldown: int = DEFAULT_COOLDOWN,
        quiet: int = DEFAULT_QUIET,
        quiet_seconds: float = DEFAULT_QUIET_SECONDS,
        hold_seconds: float = DEFAULT_HOLD_SECONDS,
    ) -> None:
        self.threshold = threshold
        self.release = threshold * 0.5 if release is None else release
        self.cooldown = cooldown
        self.quiet = quiet
        self.quiet_seconds = quiet_seconds
        self.hold_seconds = hold_seconds
        self.closed: list[Episode] = []
        self._open: Episode | None = None
        # Points since the last score above ``release`` (None: never), the peak of the
        # episode that point belonged to, points since the open episode started, whether
        # the previous point was above ``threshold``, and (in seconds) when the open
        # episode last scored above ``threshold``.
        self._since_active: int | None = None
        self._last_peak = 0.0
        self._age = 0
        self._was_high = False
        self._last_high = 0.0

    @property
    def open(self) -> Episode | None:
        return self._open

    def observe(self, ts: Stamp, score: float, settled: bool = True) -> bool:
        """Feed one point; True when this point opens a new episode.

        ``settled=False`` says the series still sits away from where it was before the
        episode (an incident's plateau, which the scores stop calling surprising once the
        detector has learnt it): the episode then stays open through the calm until the
        series settles, or until the calm has lasted ``cooldown`` points and
        ``hold_seconds`` (then the plateau is the new normal).
        """
        high = score >= self.threshold
        onset = high and not self._was_high
        self._was_high = high
        current = self._open
        if current is not None:
            self._age += 1
        if high and self._strong(score, onset, current):
            if current is not None:
                self.closed.append(current)
            return self._start(ts, score)
        hot = self._since_active is not None and self._since_active < self.cooldown
        if high or (score >= self.release and (current is not None or hot)):
            self._since_active = 0
            if current is not None:
                if high:
                    self._last_high = _seconds(ts)
                peak, peak_ts = current.peak_score, current.peak_ts
                if score > peak:
                    peak, peak_ts = score, ts
                self._open = Episode(current.start, ts, peak, peak_ts)
                self._last_peak = peak
                return False
            if high and not hot:
                return self._start(ts, score)
            return False
        if self._since_active is not None:
            self._since_active += 1
        if current is not None and self._since_active is not None:
            now = _seconds(ts)
            calm = now - _seconds(current.end)
            waited = (
                self._since_active >= self.quiet and now - self._last_high >= self.quiet_seconds
            )
            new_normal = self._since_active >= self.cooldown and calm >= self.hold_seconds
            if waited and (settled or new_normal):
                self.closed.append(current)
                self._open = None
        return False

    def _strong(self, score: float, onset: bool, current: Episode | None) -> bool:
        if not onset or self._since_active is None:
            return False
        if current is None and self._since_active >= self.cooldown:
            return False  # cold again: the ordinary rules open an episode anyway
        if current is not None and self._age < self.quiet:
            return False  # still the rise of the episode that is open
        return score >= self._last_peak + STRONG_MARGIN

    def _start(self, ts: Stamp, score: float) -> bool:
        self._open = Episode(ts, ts, score, ts)
        self._last_high = _seconds(ts)
        self._since_active = 0
        self._last_peak = score
        self._age = 0
        return True

    def pop_closed(self) -> list[Episode]:
        """Hand over the episodes closed since the last call (the engine turns them to events)."""
        out, self.closed = self.closed, []
        return out

    def flush(self) -> list[Episode]:
        """Close the open episode (end of a batch or a replay) and return all closed ones."""
        if self._open is not None:
            self.closed.append(self._open)
            self._open = None
        return self.pop_closed()

    def to_state(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "release": self.release,
            "cooldown": self.cooldown,
            "quiet": self.quiet,
            "quiet_seconds": self.quiet_seconds,
            "hold_seconds": self.hold_seconds,
            "closed": [_dump_episode(ep) for ep in self.closed],
            "open": None if self._open is None else _dump_episode(self._open),
            "since_active": self._since_active,
            "last_peak": self._last_peak,
            "age": self._age,
            "was_high": self._was_high,
            "last_high": self._last_high,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EpisodeTracker:
        out = cls(
            float(state["threshold"]),
            float(state["release"]),
            int(state["cooldown"]),
            int(state["quiet"]),
            float(state["quiet_seconds"]),
            float(state["hold_seconds"]),
        )
        out.closed = [_load_episode(raw) for raw in state["closed"]]
        out._open = None if state["open"] is None else _load_episode(state["open"])
        since = state["since_active"]
        out._since_active = None if since is None else int(since)
        out._last_peak = float(state["last_peak"])
        out._age = int(state["age"])
        out._was_high = bool(state["was_high"])
        out._last_high = float(state["last_high"])
        return out
