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
  0.3 (``STRONG_MARGIN``) above the open (or last) episode's peak closes the weaker episode and
  opens a new one, so a mild wobble an hour before an incident does not swallow it. As
  scores are capped at 1, only episodes peaking at or below 0.7 can be
  split or re-opened this way.

The rules run compiled (``_kernel.c``, inside the detector's per-point work); this module
gives them their Python face: episodes carry the caller's own stamps (datetimes or epoch
seconds), which the kernel knows only as point ordinals.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opscockpit.analysis.anomaly import _kernel
from opscockpit.records import utc

Stamp = datetime | float

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


def stamp_seconds(ts: Stamp) -> float:
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


def dump_episodes(episodes: list[Episode]) -> list[dict[str, Any]]:
    return [
        {
            "start": _dump_stamp(ep.start),
            "end": _dump_stamp(ep.end),
            "peak_score": ep.peak_score,
            "peak_ts": _dump_stamp(ep.peak_ts),
        }
        for ep in episodes
    ]


def load_episodes(raw: list[dict[str, Any]]) -> list[Episode]:
    return [
        Episode(
            _load_stamp(r["start"]),
            _load_stamp(r["end"]),
            float(r["peak_score"]),
            _load_stamp(r["peak_ts"]),
        )
        for r in raw
    ]


class EpisodeStamps:
    """The stamps of the points an open episode refers to, by ordinal.

    The kernel names an episode's start, end and peak by the ordinal of their point; a
    point of the current call is looked up in that call's stamps (``base`` is the ordinal
    of its first one), an earlier one in what :meth:`hold` kept of the open episode.
    """

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[int, Stamp] = {}

    def __bool__(self) -> bool:
        return bool(self._held)

    def _stamp(self, ordinal: int, base: int, stamps: Sequence[Stamp]) -> Stamp:
        return stamps[ordinal - base] if ordinal >= base else self._held[ordinal]

    def episode(self, raw: Sequence[float], base: int, stamps: Sequence[Stamp]) -> Episode:
        start, end, peak, peak_at = raw[:4]
        return Episode(self._stamp(int(start), base, stamps), self._stamp(int(end), base, stamps),
                       float(peak), self._stamp(int(peak_at), base, stamps))

    def hold(self, raw_open: Sequence[float] | None, base: int, stamps: Sequence[Stamp]) -> None:
        """Keep the stamps the open episode (or none) refers to, and forget the rest."""
        if raw_open is None:
            self._held = {}
            return
        points = {int(raw_open[0]), int(raw_open[1]), int(raw_open[3])}
        self._held = {o: self._stamp(o, base, stamps) for o in points}

    def clear(self) -> None:
        self._held = {}

    def knows(self, raw_open: Sequence[float] | None) -> bool:
        """Whether every point the open episode (or none) refers to has its stamp here."""
        if raw_open is None:
            return True
        return {int(raw_open[0]), int(raw_open[1]), int(raw_open[3])} <= self._held.keys()

    def to_state(self) -> list[list[Any]]:
        return [[o, _dump_stamp(ts)] for o, ts in sorted(self._held.items())]

    @classmethod
    def from_state(cls, raw: list[list[Any]]) -> EpisodeStamps:
        out = cls()
        out._held = {int(o): _load_stamp(ts) for o, ts in raw}
        return out


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
        self._memory = bytearray(_kernel.tracker_size())
        _kernel.tracker_init(self._memory, threshold, self.release, cooldown, quiet,
                             quiet_seconds, hold_seconds)
        self._seen = 0
        self._stamps = EpisodeStamps()

    @property
    def open(self) -> Episode | None:
        raw = _kernel.tracker_open(self._memory)
        return None if raw is None else self._stamps.episode(raw, self._seen, ())

    def observe(self, ts: Stamp, score: float, settled: bool = True) -> bool:
        """Feed one point; True when this point opens a new episode.

        ``settled=False`` says the series still sits away from where it was before the
        episode (an incident's plateau, which the scores stop calling surprising once the
        detector has learnt it): the episode then stays open through the calm until the
        series settles, or until the calm has lasted ``cooldown`` points and
        ``hold_seconds`` (then the plateau is the new normal).
        """
        at = self._seen
        opened, closings = _kernel.tracker_observe(self._memory, at, stamp_seconds(ts),
                                                   float(score), settled)
        self._seen = at + 1
        stamps = (ts,)
        for raw in closings:
            self.closed.append(self._stamps.episode(raw, at, stamps))
        self._stamps.hold(_kernel.tracker_open(self._memory), at, stamps)
        return bool(opened)

    def pop_closed(self) -> list[Episode]:
        """Hand over the episodes closed since the last call."""
        out, self.closed = self.closed, []
        return out

    def flush(self) -> list[Episode]:
        """Close the open episode (end of a batch or a replay) and return all closed ones."""
        raw = _kernel.tracker_close(self._memory)
        if raw is not None:
            self.closed.append(self._stamps.episode(raw, self._seen, ()))
            self._stamps.clear()
        return self.pop_closed()

    def to_state(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "release": self.release,
            "cooldown": self.cooldown,
            "quiet": self.quiet,
            "quiet_seconds": self.quiet_seconds,
            "hold_seconds": self.hold_seconds,
            "memory": base64.b64encode(bytes(self._memory)).decode(),
            "seen": self._seen,
            "stamps": self._stamps.to_state(),
            "closed": dump_episodes(self.closed),
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
        memory = base64.b64decode(state["memory"])
        if len(memory) != len(out._memory):
            raise ValueError("episode tracker state of another build")
        out._memory[:] = memory
        out._seen = int(state["seen"])
        out._stamps = EpisodeStamps.from_state(state["stamps"])
        out.closed = load_episodes(state["closed"])
        if not out._stamps.knows(_kernel.tracker_open(out._memory)):
            raise ValueError("episode tracker state is damaged (its episode does not add up)")
        return out
