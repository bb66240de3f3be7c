"""The help screen, generated from the action registry."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from opscockpit.ui.actions import key_label, visible_actions


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close"),
    ]

    def __init__(self, readonly: bool, replay: bool = False) -> None:
        super().__init__()
        self.readonly = readonly
        self.replay = replay

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for action in visible_actions(self.readonly, self.replay):
            table.add_row(key_label(action.key), action.description)
        with Vertical(id="help"):
            yield Static("[b]opscockpit keys[/b]", id="help-title")
            yield Static(table)
            yield Static("[dim]esc closes this help[/dim]")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
