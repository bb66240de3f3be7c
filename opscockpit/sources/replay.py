"""A recording as a source: it emits its rows as the virtual clock reaches them.

Replay is not a mode of the UI: the engine, analyzers and panes are the same code as
live; only the rows come from a file and time from a :class:`VirtualClock`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from opscockpit.clock import Clock
from opscockpit.sources.base import Batch, Option, Source
from opscockpit.store import Store
from opscockpit.store.replay_queries import recorded_tables, rows_between


class ReplaySource(Source):
    kind: ClassVar[str] = "replay"
    summary: ClassVar[str] = "rows of a recording, emitted on a virtual clock"
    options: ClassVar[tuple[Option, ...]] = ()
    # Counted in real seconds: at 1000x one poll brings ~100 virtual seconds of rows.
    default_interval_s: ClassVar[float] = 0.1
    default_timeout_s: ClassVar[float] = 30.0

    def __init__(self, name: str, recording: Store, clock: Clock) -> None:
        super().__init__(name, {})
        self.recording = recording
        self.clock = clock
        self.cursor: datetime | None = None  # everything at or before it was emitted
        # Only tables the recording has rows in: an empty table costs a query per poll.
        self.tables = [t for t in recorded_tables() if recording.count(t)]

    def rewind(self) -> None:
        """Start again from the first row (a backward jump rebuilds the state)."""
        self.cursor = None

    async def poll(self, since: datetime | None) -> Batch:
        # A coroutine, so it runs on the event loop and never races a rewind.
        until = self.clock.now()
        if self.cursor is not None and until <= self.cursor:
            return Batch()
        batch = Batch()
        for table in self.tables:
            frame = rows_between(self.recording, table, self.cursor, until)
            if len(frame):
                batch.frames[table] = frame
        self.cursor = until
        return batch
