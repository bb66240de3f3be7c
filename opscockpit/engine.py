"""Schedules sources, appends their batches to the store, publishes snapshots.

Each source polls in its own task; the next poll is scheduled when the last one
ended, so a slow source never stacks up and never holds the others back. A poll
that overruns its timeout marks the source stale; the engine still waits for that
call to finish before polling again, rather than starting a second one beside it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from opscockpit.analyzers.base import Analyzer
from opscockpit.clock import Clock, WallClock
from opscockpit.intake import Intake, default_analyzers
from opscockpit.snapshot import Snapshot
from opscockpit.sources.base import Batch, HealthState, Source, SourceError, SourceHealth
from opscockpit.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0
SAVE_EVERY_S = 300.0


@dataclass(slots=True)
class Scheduled:
    source: Source
    interval_s: float
    timeout_s: float


class Engine:
    def __init__(
        self,
        store: Store,
        sources: list[Scheduled],
        *,
        clock: Clock | None = None,
        refresh_s: float = 1.0,
        retention: timedelta | None = None,
        broken: list[SourceHealth] | None = None,
        analyzers: list[Analyzer] | None = None,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        on_batch: Callable[[Batch], None] | None = None,
        real_time_sources: bool = False,
    ) -> None:
        self.store = store
        self.sources = sources
        self.intake = Intake(
            store, analyzers if analyzers is not None else default_analyzers(), on_batch
        )
        self.clock = clock or WallClock()
        self.refresh_s = refresh_s
        self.retention = retention
        self.on_snapshot = on_snapshot
        # Replay sources poll on the wall clock: their interval is not virtual time.
        self.real_time_sources = real_time_sources
        self._health: dict[str, SourceHealth] = {
            s.source.name: SourceHealth(s.source.name, s.source.kind, HealthState.STARTING)
            for s in sources
        }
        for item in broken or []:
            self._health[item.name] = item
        self._dirty = asyncio.Event()
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.last_snapshot: Snapshot | None = None

    # --- lifecycle -------------------------------------------------------------
    async def run(self) -> None:
        """Poll every source and publish snapshots until :meth:`stop`."""
        await asyncio.to_thread(self.intake.restore)
        self._tasks = [asyncio.create_task(self._poll_loop(s)) for s in self.sources]
        self._tasks.append(asyncio.create_task(self._publish_loop()))
        if self.retention is not None and self.clock.live and not self.store.read_only:
            self._tasks.append(asyncio.create_task(self._retention_loop(self.retention)))
        if self.clock.live and not self.store.read_only:
            self._tasks.append(asyncio.create_task(self._save_loop()))
        try:
            await self._stopped.wait()
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for scheduled in self.sources:
                try:
                    scheduled.source.close()
                except Exception as exc:  # closing must not mask the shutdown
                    log.warning("closing %s failed: %s", scheduled.source.name, exc)
            self.intake.save()

    def stop(self) -> None:
        self._stopped.set()

    @property
    def health(self) -> tuple[SourceHealth, ...]:
        return tuple(self._health[k] for k in sorted(self._health))

    # --- polling ---------------------------------------------------------------
    async def _poll_loop(self, scheduled: Scheduled) -> None:
        source = scheduled.source
        since: datetime | None = None
        failures = 0
        while not self._stopped.is_set():
            started = time.monotonic()
            poll_time = self.clock.now()
            wait_s = scheduled.interval_s
            try:
                batch = await self._poll_once(scheduled, since)
                rows = await self.ingest(batch, poll_time)
            except TimeoutError:
                failures += 1
                self._mark(source, HealthState.STALE,
                           f"no answer within {scheduled.timeout_s:g}s", started)
            except SourceError as exc:
                failures += 1
                self._mark(source, HealthState.STALE, str(exc), started)
                if exc.retry_after_s is not None:
                    wait_s = max(wait_s, exc.retry_after_s)
            except Exception as exc:  # any plugin bug becomes health, never a crash
                failures += 1
                self._mark(source, HealthState.ERROR, f"{type(exc).__name__}: {exc}", started)
                log.debug("source %s raised", source.name, exc_info=True)
            else:
                failures = 0
                since = poll_time
                self._mark(source, HealthState.OK, "", started, rows=rows, ok_at=poll_time)
                self._dirty.set()
            if failures:
                wait_s = max(wait_s, _backoff(scheduled.interval_s, failures))
            if self.real_time_sources:
                await asyncio.sleep(wait_s)
            else:
                await self.clock.sleep(wait_s)

    def request_snapshot(self) -> None:
        """Publish a fresh snapshot soon (the clock moved: a replay jumped or paused)."""
        self._dirty.set()

    def reset(self, store: Store, analyzers: list[Analyzer]) -> None:
        """Start over on a fresh store and analyzers (a replay jumping backwards)."""
        self.store = store
        self.intake = Intake(store, analyzers, self.intake.on_batch)
        self._dirty.set()

    async def ingest(self, batch: Batch, now: datetime, origin: str = "live") -> int:
        """Store a batch and run the analyzers over it; derived rows are stored too."""
        return await asyncio.to_thread(self.intake.accept, batch, now, origin)

    async def _poll_once(self, scheduled: Scheduled, since: datetime | None) -> Batch:
        source = scheduled.source
        if inspect.iscoroutinefunction(source.poll):
            return await asyncio.wait_for(source.poll(since), scheduled.timeout_s)  # type: ignore[arg-type]
        call = asyncio.ensure_future(asyncio.to_thread(source.poll, since))
        try:
            result = await asyncio.wait_for(asyncio.shield(call), scheduled.timeout_s)
        except TimeoutError:
            self._mark(source, HealthState.STALE,
                       f"no answer within {scheduled.timeout_s:g}s", time.monotonic())
            # Never start a second call beside a stuck one: wait for it to end.
            await asyncio.wait([call])
            raise
        if not isinstance(result, Batch):
            raise TypeError(f"poll returned {type(result).__name__}, not a Batch")
        return result

    def _mark(
        self,
        source: Source,
        state: HealthState,
        reason: str,
        started: float,
        *,
        rows: int = 0,
        ok_at: datetime | None = None,
    ) -> None:
        previous = self._health.get(source.name) or SourceHealth(source.name, source.kind, state)
        self._health[source.name] = replace(
            previous,
            state=state,
            reason=reason,
            last_ok=ok_at or previous.last_ok,
            last_poll_s=time.monotonic() - started,
            rows=previous.rows + rows,
        )
        if state is not HealthState.OK:
            self._dirty.set()

    # --- publishing ------------------------------------------------------------
    async def _publish_loop(self) -> None:
        while not self._stopped.is_set():
            await self._dirty.wait()
            self._dirty.clear()
            snapshot = await asyncio.to_thread(self.snapshot)
            self.last_snapshot = snapshot
            if self.on_snapshot is not None:
                self.on_snapshot(snapshot)
            await asyncio.sleep(self.refresh_s)

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        views = self.intake.views(now)
        return Snapshot(
            now=now,
            live=self.clock.live,
            health=self.health,
            views=views,
            readonly=self.store.read_only,
        )

    async def _save_loop(self) -> None:
        """Save what the analyzers learned now and then, so a crash does not lose it."""
        while not self._stopped.is_set():
            await asyncio.sleep(SAVE_EVERY_S)
            await asyncio.to_thread(self.intake.save)

    async def _retention_loop(self, keep: timedelta) -> None:
        while not self._stopped.is_set():
            deleted = await asyncio.to_thread(self.store.apply_retention, self.clock.now(), keep)
            if deleted:
                log.info("retention removed %d live rows older than %s", deleted, keep)
            await asyncio.sleep(600)


def _backoff(interval_s: float, failures: int) -> float:
    """Exponential backoff with jitter, so many sources do not retry in lockstep."""
    base = min(MAX_BACKOFF_S, interval_s * (2 ** min(failures, 10)))
    return base * random.uniform(0.8, 1.2)
