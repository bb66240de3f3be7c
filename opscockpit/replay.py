"""Drive a replay: the virtual clock, jumps, steps and the scrubber's event marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from opscockpit.clock import MAX_SPEED, VirtualClock
from opscockpit.engine import Engine, Scheduled
from opscockpit.intake import default_analyzers
from opscockpit.sources.replay import ReplaySource
from opscockpit.store import Store, StoreError
from opscockpit.store.replay_queries import event_times, next_event_after, recorded_span

SPEEDS = (1.0, 10.0, 60.0, 300.0, 1000.0, 3000.0, MAX_SPEED)


@dataclass(frozen=True, slots=True)
class ReplayState:
    start: datetime
    end: datetime
    now: datetime
    speed: float
    paused: bool
    marks: tuple[float, ...]  # each event's position in [0, 1] along the span

    @property
    def position(self) -> float:
        span = (self.end - self.start).total_seconds()
        return 0.0 if span <= 0 else min(1.0, max(0.0,
                                                  (self.now - self.start).total_seconds() / span))


class Replay:
    """Owns the recording, the virtual clock, the working store and the engine."""

    def __init__(self, recording: Store, *, speed: float = 60.0, at: datetime | None = None,
                 paused: bool = False) -> None:
        start, end = recorded_span(recording)
        if start is None or end is None:
            raise StoreError(f"recording {recording.path} holds no rows to replay")
        self.recording = recording
        self.start, self.end = start, end
        self.clock = VirtualClock(at or start, speed, paused=paused)
        self.source = ReplaySource("replay", recording, self.clock)
        self.engine = Engine(Store.open(None), [Scheduled(self.source, 0.1, 30.0)],
                             clock=self.clock, real_time_sources=True)
        span = max(1.0, (end - start).total_seconds())
        self._events = event_times(recording)
        self.marks = tuple((t - start).total_seconds() / span for t in self._events)

    def state(self) -> ReplayState:
        return ReplayState(self.start, self.end, min(self.clock.now(), self.end),
                           self.clock.speed, self.clock.paused, self.marks)

    def toggle_pause(self) -> None:
        if self.clock.paused:
            self.clock.resume()
        else:
            self.clock.pause()

    def faster(self) -> None:
        self.clock.set_speed(next((s for s in SPEEDS if s > self.clock.speed), SPEEDS[-1]))

    def slower(self) -> None:
        self.clock.set_speed(next((s for s in reversed(SPEEDS) if s < self.clock.speed),
                                  SPEEDS[0]))

    def step(self, seconds: float = 10.0) -> None:
        """Pause and move ``seconds`` of virtual time (negative steps go back)."""
        self.clock.pause()
        self.jump(self.clock.now() + timedelta(seconds=seconds))

    def jump(self, to: datetime) -> None:
        to = min(max(to, self.start), self.end)
        if self.source.cursor is not None and to < self.source.cursor:
            # The past cannot be un-learned: rebuild the state up to ``to`` from scratch.
            self.source.rewind()
            self.engine.reset(Store.open(None), default_analyzers())
        self.clock.jump(to)

    def next_event(self) -> datetime | None:
        after = next_event_after(self.recording, self.clock.now())
        if after is not None:
            self.jump(after)
        return after

    def at_end(self) -> bool:
        return self.clock.now() >= self.end
