"""Same-phase memory: how far a statistic stood from its baseline one period (a day, a week) ago.

Phases are bins of the wall-clock period keyed by the data's own timestamps, so gaps and
irregular sampling do not shift the phase, and memory is one slot per bin whatever the
length of the history. What is remembered is the deviation from a slow moving baseline (a
moving average spanning one period), not the raw value: otherwise a level shift would come
back as a false "seasonal" anomaly exactly one period later.
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
        self.alpha = min(1.0, 2.0 / (period / max(step, 1e-9) + 1.0))
        self.baseline: float | None = None
        self._values: list[float | None] = [None] * self.bins
        self._stamps: list[float | None] = [None] * self.bins

    def residual(self, ts: float, value: float) -> tuple[float | None, float]:
        """(deviation now minus deviation one period ago or None, deviation now).

        The caller hands the deviation back to :meth:`remember` once it knows whether the
        point was anomalous: an anomaly must not become next period's reference.
        """
        if self.baseline is None:
            self.baseline = value
        else:
            self.baseline += self.alpha * (value - self.baseline)
        deviation = value - self.baseline
        before = self.recall(ts)
        return (None if before is None else deviation - before), deviation

    def remember(self, ts: float, deviation: float, anomalous: bool) -> None:
        before = self.recall(ts)
        self.store(ts, before if anomalous and before is not None else deviation)

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
            "alpha": self.alpha,
            "baseline": self.baseline,
            "values": list(self._values),
            "stamps": list(self._stamps),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PhaseMemory:
        out = cls.__new__(cls)
        out.period = float(state["period"])
        out.bins = int(state["bins"])
        out.width = out.period / out.bins
        out.alpha = float(state["alpha"])
        out.baseline = None if state["baseline"] is None else float(state["baseline"])
        out._values = [None if v is None else float(v) for v in state["values"]]
        out._stamps = [None if v is None else float(v) for v in state["stamps"]]
        return out
