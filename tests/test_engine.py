from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from opscockpit.clock import WallClock
from opscockpit.engine import Engine, Scheduled
from opscockpit.records import MetricSample
from opscockpit.sources.base import Batch, HealthState, Source, SourceError
from opscockpit.store import Store


class Counting(Source):
    kind = "counting"

    def __init__(self, name: str, delay_s: float = 0.0, fail: Exception | None = None) -> None:
        super().__init__(name)
        self.delay_s = delay_s
        self.fail = fail
        self.calls: list[float] = []
        self.active = 0
        self.max_active = 0

    def poll(self, since: datetime | None) -> Batch:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.calls.append(time.monotonic())
        try:
            time.sleep(self.delay_s)
            if self.fail is not None:
                raise self.fail
            return Batch(metrics=[MetricSample(WallClock().now(), self.name, "n", 1.0)])
        finally:
            self.active -= 1


class AsyncSlow(Source):
    kind = "async_slow"

    async def poll(self, since: datetime | None) -> Batch:
        await asyncio.sleep(10)
        return Batch()


async def _run_for(engine: Engine, seconds: float) -> None:
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(seconds)
    engine.stop()
    await asyncio.wait_for(task, 15)


async def test_slow_source_goes_stale_while_fast_one_keeps_cadence() -> None:
    fast, slow = Counting("fast"), Counting("slow", delay_s=1.0)
    store = Store.open(None)
    engine = Engine(store, [Scheduled(fast, 0.1, 1.0), Scheduled(slow, 0.1, 0.2)], refresh_s=0.05)
    await _run_for(engine, 1.5)
    health = {h.name: h for h in engine.health}
    assert health["fast"].state is HealthState.OK
    assert health["slow"].state is HealthState.STALE
    assert "no answer within 0.2s" in health["slow"].reason
    gaps = [b - a for a, b in zip(fast.calls, fast.calls[1:], strict=False)]
    assert len(fast.calls) >= 8, fast.calls
    assert max(gaps) < 0.5  # the slow one never held the fast one back
    assert slow.max_active == 1  # a stuck poll is waited for, never stacked
    assert store.count("metrics") >= len(fast.calls) - 1


async def test_raising_sources_do_not_stop_the_engine() -> None:
    boom = Counting("boom", fail=RuntimeError("kaput"))
    gone = Counting("gone", fail=SourceError("GitHub answered 500"))
    ok = Counting("ok")
    engine = Engine(Store.open(None),
                    [Scheduled(boom, 0.05, 1), Scheduled(gone, 0.05, 1), Scheduled(ok, 0.05, 1)],
                    refresh_s=0.05)
    await _run_for(engine, 0.6)
    health = {h.name: h for h in engine.health}
    assert health["boom"].state is HealthState.ERROR
    assert health["boom"].reason == "RuntimeError: kaput"
    assert health["gone"].state is HealthState.STALE
    assert health["gone"].reason == "GitHub answered 500"
    assert health["ok"].state is HealthState.OK
    assert len(ok.calls) >= 5


async def test_async_source_is_cancelled_at_its_timeout() -> None:
    engine = Engine(Store.open(None), [Scheduled(AsyncSlow("lazy"), 0.05, 0.1)], refresh_s=0.05)
    await _run_for(engine, 0.4)
    (health,) = engine.health
    assert health.state is HealthState.STALE


async def test_rate_limit_waits_until_reset() -> None:
    limited = Counting("gh", fail=SourceError("rate limited until 12:00:00 UTC",
                                              retry_after_s=30))
    engine = Engine(Store.open(None), [Scheduled(limited, 0.01, 1)], refresh_s=0.05)
    await _run_for(engine, 0.3)
    assert len(limited.calls) == 1
    assert "rate limited" in engine.health[0].reason


async def test_snapshots_are_published_with_telemetry() -> None:
    seen = []
    engine = Engine(Store.open(None), [Scheduled(Counting("web-1"), 0.05, 1)], refresh_s=0.05,
                    on_snapshot=seen.append)
    await _run_for(engine, 0.5)
    assert seen, "no snapshot published"
    last = seen[-1]
    assert last.live and last.telemetry[0].host == "web-1"
    assert last.telemetry[0].latest == {"n": 1.0}
    with pytest.raises(AttributeError):
        last.now = None  # type: ignore[misc]
