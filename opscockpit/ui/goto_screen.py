"""Ask for a time to jump to in a replay: ``HH:MM``, ``HH:MM:SS`` or a full ISO time."""

from __future__ import annotations

from datetime import datetime, time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from opscockpit.records import utc
from opscockpit.replay import ReplayState


def parse_time(text: str, state: ReplayState) -> datetime | None:
    """A clock time means that time on the replay's current day; None if unreadable."""
    text = text.strip()
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        clock = time.fromisoformat(text)
    except ValueError:
        return None
    return state.now.replace(hour=clock.hour, minute=clock.minute, second=clock.second,
                             microsecond=0)


class GotoScreen(ModalScreen[datetime | None]):
    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, state: ReplayState) -> None:
        super().__init__()
        self.state = state

    def compose(self) -> ComposeResult:
        with Vertical(id="goto"):
            yield Static(f"Jump to a time between {self.state.start:%Y-%m-%d %H:%M:%S} and "
                         f"{self.state.end:%H:%M:%S} UTC (HH:MM[:SS] or ISO 8601)")
            yield Input(placeholder=f"{self.state.now:%H:%M:%S}", id="goto-input")
            yield Static("", id="goto-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        when = parse_time(event.value, self.state)
        if when is None:
            self.query_one("#goto-error", Static).update(f"cannot read {event.value!r} as a time")
            return
        self.dismiss(when)

    def action_cancel(self) -> None:
        self.dismiss(None)
