"""Same-phase memory: what a statistic was one period (a day, a week) ago.

Phases are bins of the wall-clock period keyed by the data's own timestamps, so gaps and
irregular sampling do not shift the phase, and memory is one slot per bin whatever the
length of the history.
"""

from __future__ import annotations

from typing import Any

# A one-minute series would need 10,080 weekly bins; coarser bins keep the state small and
# still resolve the shape of a day.
MAX_BINS = 2016


class PhaseMemory:
    """For each phase bin of ``period`` seconds, the last value stored there and when."""

    def __init__(self, period: float, step: float) -> None:
        self.period = period
        self.bins = max(1, min(MAX_BINS, round(period / max(step, 1e-9))))
        self.width = period / self.bins
        self._values: list[float | None] = [None] * self.bins
        self._stamps: list[float | None] = [None] * self.bins

    def _index(self, ts: float) -> int:
        return int((ts % self.period) // self.width) % self.bins

    def recall(self, ts: float) -> float | None:
        """The value stored about one period before ``ts``, if there is one."""
        i = self._index(ts)
        stamp = self._stamps[i]
        if stamp is None:
            return None
        age = ts - stamp
        # A bin last written half a period or two periods ago is not the same phase anymore
        # (a gap in the data, or a clock jump).
        if not 0.5 * self.period <= age <= 1.5 * self.period:
            return None
        return self._values[i]

    def store(self, ts: float, value: float) -> None:
        i = self._index(ts)
        self._values[i] = value
        self._stamps[i] = ts

    def to_state(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "bins": self.bins,
            "values": list(self._values),
            "stamps": list(self._stamps),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PhaseMemory:
        out = cls.__new__(cls)
        out.period = float(state["period"])
        out.bins = int(state["bins"])
        out.width = out.period / out.bins
        out._values = [None if v is None else float(v) for v in state["values"]]
        out._stamps = [None if v is None else float(v) for v in state["stamps"]]
        return out
