"""Turning a stream of per-point anomaly scores into episodes: one event per incident.

An episode opens on the first score at or above ``threshold`` and stays open while scores
keep coming back above ``release`` (a lower bar, so a flickering score makes one episode,
not many). It closes after ``cooldown`` points in a row below ``release``; its ``end`` is
the last point that was above ``release``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

Stamp = datetime | float


@dataclass(frozen=True, slots=True)
class Episode:
    start: Stamp
    end: Stamp
    peak_score: float
    peak_ts: Stamp


def _dump_stamp(ts: Stamp) -> Any:
    if isinstance(ts, datetime):
        return {"iso": ts.isoformat()}
    return ts


def _load_stamp(raw: Any) -> Stamp:
    if isinstance(raw, dict):
        return datetime.fromisoformat(raw["iso"])
    return float(raw)


class EpisodeTracker:
    """Hysteresis over scores: ``observe`` each point, then read ``closed`` and ``open``."""

    def __init__(self, threshold: float, release: float | None = None, cooldown: int = 12):
        self.threshold = threshold
        self.release = threshold * 0.5 if release is None else release
        self.cooldown = cooldown
        self.closed: list[Episode] = []
        self._open: Episode | None = None
        self._quiet = 0

    @property
    def open(self) -> Episode | None:
        return self._open

    def observe(self, ts: Stamp, score: float) -> bool:
        """Feed one point; True when this point opens a new episode."""
        current = self._open
        if current is None:
            if score >= self.threshold:
                self._open = Episode(ts, ts, score, ts)
                self._quiet = 0
                return True
            return False
        if score >= self.release:
            peak, peak_ts = current.peak_score, current.peak_ts
            if score > peak:
                peak, peak_ts = score, ts
            self._open = Episode(current.start, ts, peak, peak_ts)
            self._quiet = 0
            return False
        self._quiet += 1
        if self._quiet >= self.cooldown:
            self.closed.append(current)
            self._open = None
            self._quiet = 0
        return False

    def pop_closed(self) -> list[Episode]:
        """Hand over the episodes closed since the last call (the engine turns them to events)."""
        out, self.closed = self.closed, []
        return out

    def flush(self) -> list[Episode]:
        """Close the open episode (end of a batch or a replay) and return all closed ones."""
        if self._open is not None:
            self.closed.append(self._open)
            self._open = None
            self._quiet = 0
        return self.pop_closed()

    def to_state(self) -> dict[str, Any]:
        def dump(ep: Episode) -> dict[str, Any]:
            return {
                "start": _dump_stamp(ep.start),
                "end": _dump_stamp(ep.end),
                "peak_score": ep.peak_score,
                "peak_ts": _dump_stamp(ep.peak_ts),
            }

        return {
            "threshold": self.threshold,
            "release": self.release,
            "cooldown": self.cooldown,
            "closed": [dump(ep) for ep in self.closed],
            "open": None if self._open is None else dump(self._open),
            "quiet": self._quiet,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EpisodeTracker:
        def load(raw: dict[str, Any]) -> Episode:
            return Episode(
                _load_stamp(raw["start"]),
                _load_stamp(raw["end"]),
                float(raw["peak_score"]),
                _load_stamp(raw["peak_ts"]),
            )

        out = cls(float(state["threshold"]), float(state["release"]), int(state["cooldown"]))
        out.closed = [load(raw) for raw in state["closed"]]
        out._open = None if state["open"] is None else load(state["open"])
        out._quiet = int(state["quiet"])
        return out
