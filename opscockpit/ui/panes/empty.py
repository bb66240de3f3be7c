"""A pane with no source behind it says so, and how to add one. Never fake data."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from opscockpit.ui.panes.base import Pane


class EmptyPane(Pane):
    def __init__(self, title: str, *, id: str, what: str, how: str) -> None:
        super().__init__(title, id=id)
        self.what = what
        self.how = how

    def compose(self) -> ComposeResult:
        yield Static(
            f"[b]No {self.what} source is configured.[/b]\n\n{self.how}",
            classes="empty-hint",
        )
