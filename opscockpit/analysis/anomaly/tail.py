"""How surprising a value is against the last ``size`` values of the same statistic.

Each statistic a detector watches is judged by its own recent history rather than by a
Gaussian assumption: inside the observed range the tail probability is the conformal rank
(count of values at least as extreme, plus one, over n + 1); beyond the observed extreme an
exponential tail fitted to the top ``tail`` values (peaks over threshold, GPD with shape 0)
extrapolates. The window is bounded, so the cost per value does not grow with history.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from typing import Any

# Extrapolating an exponential tail from a handful of values would turn the first moderate
# excursion of a young series into an alarm; below this many values only ranks are used.
MIN_FOR_TAIL = 64
# Probabilities are floored so that a constant history followed by a change gives a large but
# finite surprise.
P_FLOOR = 1e-12


class RollingTail:
    """Two-sided tail probabilities of a value against a sliding window of past values."""

    def __init__(self, size: int, tail: int = 16) -> None:
        self.size = size
        self.tail = tail
        self._ring: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._ring)

    def surprise(self, x: float) -> tuple[float, float]:
        """Tail probabilities (upper, lower) of ``x`` before it joins the window."""
        n = len(self._sorted)
        if n == 0:
            return 1.0, 1.0
        values = self._sorted
        upper = (n - bisect_left(values, x) + 1) / (n + 1)
        lower = (bisect_right(values, x) + 1) / (n + 1)
        if n >= MIN_FOR_TAIL:
            k = min(self.tail, n - 1)
            if x > values[-1]:
                threshold = values[n - 1 - k]
                excess = sum(values[n - k :]) / k - threshold
                upper = self._beyond(x - threshold, excess, k, n, x - values[-1])
            elif x < values[0]:
                threshold = values[k]
                excess = threshold - sum(values[:k]) / k
                lower = self._beyond(threshold - x, excess, k, n, values[0] - x)
        return upper, lower

    @staticmethod
    def _beyond(distance: float, excess: float, k: int, n: int, past_extreme: float) -> float:
        if excess <= 0.0:
            # The top of the window is flat (a pinned or constant series): any step past it
            # is as surprising as the floor allows.
            return P_FLOOR if past_extreme > 0.0 else 1.0 / (n + 1)
        p = (k / (n + 1)) * math.exp(-distance / excess)
        return max(P_FLOOR, min(p, 1.0 / (n + 1)))

    def push(self, x: float) -> None:
        self._ring.append(x)
        insort(self._sorted, x)
        if len(self._ring) > self.size:
            old = self._ring.popleft()
            del self._sorted[bisect_left(self._sorted, old)]

    def to_state(self) -> dict[str, Any]:
        return {"size": self.size, "tail": self.tail, "values": list(self._ring)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RollingTail:
        out = cls(int(state["size"]), int(state["tail"]))
        out._ring.extend(float(v) for v in state["values"])
        out._sorted = sorted(out._ring)
        return out
