"""A domain pane shows its view, or says honestly that no source feeds it. Never fake data."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical

from opscockpit.ui.panes.base import Pane
from opscockpit.ui.text_view import TextView

CONFIG_HINT = (
    "Add a [sources.NAME] table to config.toml (README, Sources), or `opscockpit ingest`.\n"
    "`opscockpit sources` lists the adapters."
)


class DomainPane(Pane):
    """Shows ``#<id>-hint`` until a view arrives, then the pane's own body."""

    what: str = ""

    def compose(self) -> ComposeResult:
        yield TextView(f"[b]No {self.what} source is configured.[/b]\n\n{CONFIG_HINT}",
                     classes="empty-hint", id=f"{self.id}-hint")
        with Vertical(classes="pane-body", id=f"{self.id}-body"):
            yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def show(self, view: Any) -> None:
        has_view = view is not None
        self.query_one(f"#{self.id}-hint").display = not has_view
        self.query_one(f"#{self.id}-body").display = has_view
        if has_view:
            self.render_view(view)

    def render_view(self, view: Any) -> None:
        """Fill the body from ``view``; panes override this."""
