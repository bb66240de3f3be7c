"""How surprising a value is against the last ``size`` values of the same statistic.

Each statistic a detector watches is judged by its own recent history rather than by a
Gaussian assumption. Inside the bulk the tail probability is the conformal rank (values at
least as extreme, plus one, over n + 1). In the tails, a value that fewer than ``repeats``
past values reach is judged by an exponential tail (peaks over threshold, GPD with shape 0)
fitted to the ``tail`` most extreme values. The tail scale comes from their median excess,
so one past anomaly does not hide the next for a whole window, while an event that keeps
recurring becomes normal. The window is bounded: the cost per value does not grow with
history.

A young window (fewer than ``MIN_FOR_TAIL`` values) cannot support a fitted tail, but it can
still see a gross change: from ``MIN_YOUNG`` values on, a value beyond the whole window's
range is judged by an exponential tail whose scale is that entire range (the most
conservative scale the window offers). Beating it takes a value several ranges past every
value seen so far, such as a latency that goes from 80 ms to 900 ms, not a busy minute.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right, insort
from collections import deque
from typing import Any

from opscockpit.analysis.anomaly.ring import PackedRing

# Extrapolating a tail from a handful of values would turn the first moderate excursion of a
# young series into an alarm; below this many values only ranks are used. With 64 the
# "tail" was the top quarter of the window and the exponential fitted to it was far too
# confident (NAB AWS files lost 5 points to it). 512 scores the same on NAB; 256 keeps a new
# series silent for half as long.
MIN_FOR_TAIL = 256
# Below this many values even the whole-range tail is not trusted: only ranks are used.
MIN_YOUNG = 30
# Floored so that a constant history followed by a change is very surprising but finite.
P_FLOOR = 1e-12
# The tail scale is never taken below this share of the bulk's spread (k-th smallest to k-th
# largest value), so that a quantised or clustered tail does not make the next small step
# look impossible.
FLOOR_SHARE = 0.02
_LN2 = math.log(2.0)


def _median(values: list[float], lo: int, hi: int) -> float:
    mid = (lo + hi) // 2
    if (hi - lo) % 2:
        return values[mid]
    return 0.5 * (values[mid - 1] + values[mid])


def _exp_tail(distance: float, scale: float, k: int, n: int) -> float:
    if scale <= 0.0:
        # A flat tail and a flat bulk: the series was constant, any step off it is news.
        return P_FLOOR
    return max(P_FLOOR, (k / (n + 1)) * math.exp(-distance / scale))


class RollingTail:
    """Two-sided tail probabilities of a value against a sliding window of past values."""

    def __init__(self, size: int, tail: int = 16, repeats: int = 3, lag: int = 0) -> None:
        self.size = size
        self.tail = tail
        self.repeats = repeats
        self.lag = lag
        # The last ``lag`` values wait here before they join the reference window, so a slow
        # drift is judged against what came before it rather than against its own start.
        self._pending: deque[float] = deque()
        # The window twice, as packed doubles: in arrival order, and sorted.
        self._ring = PackedRing(size)
        self._sorted = array("d")
        # A window nobody asks about can skip its sorted copy (see ``push``).
        self._stale = False

    def __len__(self) -> int:
        return len(self._ring)

    def surprise(self, x: float) -> tuple[float, float]:
        """Tail probabilities (upper, lower) of ``x`` before it joins the window."""
        if self._stale:
            self._resort()
        values = self._sorted
        n = len(values)
        if n == 0:
            return 1.0, 1.0
        above = n - bisect_left(values, x)
        below = bisect_right(values, x)
        upper = (above + 1) / (n + 1)
        lower = (below + 1) / (n + 1)
        if n < MIN_FOR_TAIL:
            if n >= MIN_YOUNG and (above == 0 or below == 0):
                return self._young(x, upper, lower)
            return upper, lower
        k = min(self.tail, n // 4)
        top, bottom = values[n - 1 - k], values[k]
        floor = FLOOR_SHARE * (top - bottom)
        if above < self.repeats and x > top:
            scale = max(floor, (_median(values, n - k, n) - top) / _LN2)
            upper = min(upper, _exp_tail(x - top, scale, k, n))
        if below < self.repeats and x < bottom:
            scale = max(floor, (bottom - _median(values, 0, k)) / _LN2)
            lower = min(lower, _exp_tail(bottom - x, scale, k, n))
        return upper, lower

    def _young(self, x: float, upper: float, lower: float) -> tuple[float, float]:
        values = self._sorted
        low, high = values[0], values[-1]
        scale = high - low
        if x > high:
            upper = min(upper, _exp_tail(x - high, scale, 1, len(values)))
        elif x < low:
            lower = min(lower, _exp_tail(low - x, scale, 1, len(values)))
        return upper, lower

    def band(self) -> tuple[float, float] | None:
        """The bulk of the window (``tail`` values cut from each end), None when empty."""
        if self._stale:
            self._resort()
        n = len(self._sorted)
        if n == 0:
            return None
        k = min(self.tail, n // 4)
        return self._sorted[k], self._sorted[n - 1 - k]

    def judge(self, x: float) -> tuple[float, float]:
        """:meth:`surprise` of ``x``, then :meth:`push` it (the detector's hot path).

        A value inside the bulk of a grown window is answered from its ranks alone, without
        the call into :meth:`surprise` (same result, most points take this path).
        """
        values = self._sorted
        n = len(values)
        if self._stale or n < MIN_FOR_TAIL:
            result = self.surprise(x)
        else:
            k = self.tail if self.tail < n // 4 else n // 4
            if values[k] <= x <= values[n - 1 - k]:
                above = n - bisect_left(values, x)
                below = bisect_right(values, x)
                result = (above + 1) / (n + 1), (below + 1) / (n + 1)
            else:
                result = self.surprise(x)
        values = self._sorted  # surprise() may have rebuilt it
        pending = self._pending
        pending.append(x)
        if len(pending) > self.lag:
            x = pending.popleft()
            insort(values, x)
            old = self._ring.enter(x)
            if old is not None:
                del values[bisect_left(values, old)]
        return result

    def push(self, x: float, keep_sorted: bool = True) -> None:
        """Add ``x`` (it joins the window ``lag`` values later).

        ``keep_sorted=False`` drops the sorted copy until the next question: a window that is
        rarely asked (a trend residual on a series without a trend) then costs two deque
        operations per value, and one sort when it is asked again.
        """
        pending = self._pending
        pending.append(x)
        if len(pending) <= self.lag:
            return
        x = pending.popleft()
        old = self._ring.enter(x)
        if not keep_sorted:
            if not self._stale:
                self._stale = True
                self._sorted = array("d")
            return
        if self._stale:
            self._resort()
        else:
            insort(self._sorted, x)
            if old is not None:
                del self._sorted[bisect_left(self._sorted, old)]

    def _resort(self) -> None:
        self._sorted = array("d", sorted(self._ring))
        self._stale = False

    def to_state(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "tail": self.tail,
            "repeats": self.repeats,
            "lag": self.lag,
            "pending": list(self._pending),
            "values": list(self._ring),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RollingTail:
        out = cls(int(state["size"]), int(state["tail"]), int(state["repeats"]), int(state["lag"]))
        out._pending.extend(float(v) for v in state["pending"])
        out._ring = PackedRing(out.size, state["values"])
        out._resort()
        return out
