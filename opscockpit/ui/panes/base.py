"""What every pane shares: a focusable bordered box that can be zoomed."""

from __future__ import annotations

from textual.containers import Vertical


class Pane(Vertical, can_focus=True):
    """A cockpit pane; ``title`` shows in its border."""

    DEFAULT_CLASSES = "pane"

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id)
        self.border_title = title

    def zoom_changed(self, zoomed: bool) -> None:
        """Called when the pane is zoomed to full screen or back; may move focus inside."""
