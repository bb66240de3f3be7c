"""Where "now" comes from: the wall clock live, a virtual clock in replay."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    live: bool

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class WallClock:
    live = True

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FrozenClock:
    """A clock that stands still unless advanced: for tests and snapshots."""

    live = True

    def __init__(self, at: datetime) -> None:
        self._now = at

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


MIN_SPEED = 1.0
MAX_SPEED = 10_000.0


class VirtualClock:
    """Virtual time that runs ``speed`` times faster than the wall, and can pause or jump."""

    live = False

    def __init__(self, start: datetime, speed: float = 1.0, *, paused: bool = False) -> None:
        self._anchor_virtual = start
        self._anchor_real = time.monotonic()
        self._speed = _clamp(speed)
        self._paused = paused

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def now(self) -> datetime:
        if self._paused:
            return self._anchor_virtual
        elapsed = time.monotonic() - self._anchor_real
        return self._anchor_virtual + timedelta(seconds=elapsed * self._speed)

    def _rebase(self) -> None:
        self._anchor_virtual = self.now()
        self._anchor_real = time.monotonic()

    def set_speed(self, speed: float) -> None:
        self._rebase()
        self._speed = _clamp(speed)

    def pause(self) -> None:
        self._rebase()
        self._paused = True

    def resume(self) -> None:
        self._anchor_real = time.monotonic()
        self._paused = False

    def jump(self, to: datetime) -> None:
        self._anchor_virtual = to
        self._anchor_real = time.monotonic()

    async def sleep(self, seconds: float) -> None:
        target = self.now() + timedelta(seconds=seconds)
        while self.now() < target:
            remaining = (target - self.now()).total_seconds()
            # Poll at least every 0.1 s of real time so pause, speed and jumps take effect.
            await asyncio.sleep(min(0.1, remaining / self._speed) if not self._paused else 0.1)


def _clamp(speed: float) -> float:
    return min(MAX_SPEED, max(MIN_SPEED, float(speed)))
