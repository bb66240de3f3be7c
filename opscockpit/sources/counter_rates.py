"""Per-second rates from monotonically increasing counters, across polls."""

from __future__ import annotations

from collections.abc import Mapping


class CounterRates:
    """Remembers the last reading of each counter and turns the next into a rate.

    A counter that went backwards (a NIC reset, a device re-plugged, a wrap) gives
    no rate for that poll rather than a huge negative or positive spike.
    """

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._last_t: float | None = None

    def update(self, counters: Mapping[str, float], t: float) -> dict[str, float]:
        previous, previous_t = self._last, self._last_t
        self._last, self._last_t = dict(counters), t
        if previous_t is None or t <= previous_t:
            return {}
        dt = t - previous_t
        rates: dict[str, float] = {}
        for key, value in counters.items():
            before = previous.get(key)
            if before is None or value < before:
                continue
            rates[key] = (value - before) / dt
        return rates
