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

    def __init__(self, readonly: bool, replay: bool = False,
                 pane_keys: tuple[str, list[tuple[str, str]]] | None = None) -> None:
        """``pane_keys``: the focused pane's title and its own (key, description) pairs."""
        super().__init__()
        self.readonly = readonly
        self.replay = replay
        self.pane_keys = pane_keys

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for action in visible_actions(self.readonly, self.replay):
            table.add_row(key_label(action.key), action.description)
        with Vertical(id="help"):
            yield Static("[b]opscockpit keys[/b]", id="help-title")
            yield Static(table)
            if self.pane_keys and self.pane_keys[1]:
                title, keys = self.pane_keys
                pane_table = Table.grid(padding=(0, 2))
                pane_table.add_column(style="bold")
                pane_table.add_column()
                for key, description in keys:
                    pane_table.add_row(key, description)
                yield Static(f"\n[b]{title} pane[/b]")
                yield Static(pane_table)
            yield Static("[dim]esc closes this help[/dim]")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def pane_keys(widget: object) -> list[tuple[str, str]]:
    """The visible bindings a pane (and its children) declare: their keys in the help."""
    from textual.binding import Binding

    seen: dict[str, str] = {}
    for cls in type(widget).__mro__:
        for binding in getattr(cls, "BINDINGS", []) or []:
            if isinstance(binding, Binding) and binding.description:
                seen.setdefault(key_label(binding.key), binding.description)
    return list(seen.items())
