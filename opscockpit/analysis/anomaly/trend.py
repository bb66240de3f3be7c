"""A straight line through the recent history of a statistic, kept in O(1) per point.

Judging a level against the distribution of past levels assumes the past is a sample of
the present. On a series that rises steadily (the morning ramp of a one-day-old series, a
disk that fills, traffic that grows) every new level is a new record, and the record is
always "surprising". :class:`SlidingFit` fits an ordinary least-squares line to the
values of the reference window (the same ``size`` values, ``lag`` behind the present, that
the tails judge against) and says how much of their variance the line explains (R²). A
detector can then ask whether a level is surprising *around the line* too, and do so only
when the line is a good description of the window (a stationary or seasonal series has an
R² near 0 over weeks, so nothing changes for it).

The sums are kept relative to a shift (re-centred every ``size`` values from the window
itself), so large values with a small spread (bytes counters) do not lose the variance to
cancellation and rounding cannot accumulate without bound.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from opscockpit.analysis.anomaly.ring import PackedRing


class SlidingFit:
    """Least-squares line over the last ``size`` values that are at least ``lag`` old."""

    def __init__(self, size: int, lag: int) -> None:
        self.size = size
        self.lag = lag
        self._pending: deque[float] = deque()
        self._ring = PackedRing(size)
        self._shift = 0.0
        self._sx = 0.0  # sum of (x - shift)
        self._sxx = 0.0  # sum of (x - shift)^2
        self._stx = 0.0  # sum of position-in-ring * (x - shift)
        self._since_recentre = 0
        self._line: float | None = None
        self._slope = 0.0
        self._r2 = 0.0

    def __len__(self) -> int:
        return len(self._ring)

    def forecast(self) -> float | None:
        """The line's value at the present point (``lag`` + 1 past the newest fitted one)."""
        return self._line

    def slope(self) -> float:
        """The line's change per value (0 until it has three values)."""
        return self._slope

    def r2(self) -> float:
        """Share of the window's variance the line explains, in [0, 1]."""
        return self._r2

    def _refit(self) -> None:
        # Computed once per value here rather than on each question: the detector asks
        # three of them per point.
        n = len(self._ring)
        if n < 3:
            self._line, self._slope, self._r2 = None, 0.0, 0.0
            return
        mean_t = (n - 1) / 2.0
        var_t = (n * n - 1) * n / 12.0  # sum of (t - mean_t)^2 for t = 0..n-1
        cov = self._stx - mean_t * self._sx
        slope = cov / var_t
        ahead = n - 1 + len(self._pending) + 1 - mean_t
        self._slope = slope
        self._line = self._shift + self._sx / n + slope * ahead
        var_x = self._sxx - self._sx * self._sx / n
        self._r2 = 0.0 if var_x <= 0.0 else min(1.0, max(0.0, cov * cov / (var_t * var_x)))

    def push(self, x: float) -> None:
        self._pending.append(x)
        if len(self._pending) <= self.lag:
            return
        x = self._pending.popleft()
        ring = self._ring
        d = x - self._shift
        self._stx += len(ring) * d
        self._sx += d
        self._sxx += d * d
        left = ring.enter(x)
        if left is not None:
            # The oldest leaves and every remaining value moves one position down (the new
            # one was counted at position len(ring), which is where it now stands).
            old = left - self._shift
            self._sx -= old
            self._sxx -= old * old
            self._stx -= self._sx
        self._since_recentre += 1
        if self._since_recentre >= self.size:
            self._recentre()
        self._refit()

    def _recentre(self) -> None:
        ring = self._ring
        self._shift = sum(ring) / len(ring)
        shift = self._shift
        self._sx = self._sxx = self._stx = 0.0
        for t, x in enumerate(ring):
            d = x - shift
            self._sx += d
            self._sxx += d * d
            self._stx += t * d
        self._since_recentre = 0

    def to_state(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "lag": self.lag,
            "pending": list(self._pending),
            "values": list(self._ring),
            "sums": [self._shift, self._sx, self._sxx, self._stx],
            "since_recentre": self._since_recentre,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SlidingFit:
        out = cls(int(state["size"]), int(state["lag"]))
        out._pending.extend(float(v) for v in state["pending"])
        out._ring = PackedRing(out.size, state["values"])
        out._shift, out._sx, out._sxx, out._stx = (float(v) for v in state["sums"])
        out._since_recentre = int(state["since_recentre"])
        out._refit()
        return out
