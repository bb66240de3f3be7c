"""A Static for text that is rebuilt every refresh but mostly keeps its shape."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


class TextView(Static):
    """Repaints only when its text changes, and lays the screen out again only when its
    height may have: a full layout pass was a tenth of the live view's cost, for figures
    that change every second while their lines stay put."""

    _shown: Text | str | None = None

    def set_text(self, text: Text | str) -> None:
        shown = self._shown
        if shown is not None and text == shown:
            return
        self._shown = text
        self.update(text, layout=shown is None or not self._same_shape(shown, text))

    def _same_shape(self, before: Text | str, after: Text | str) -> bool:
        """Same number of lines, none that can wrap: the height cannot change."""
        old = before.plain if isinstance(before, Text) else before
        new = after.plain if isinstance(after, Text) else after
        if old.count("\n") != new.count("\n"):
            return False
        if isinstance(after, Text) and after.no_wrap:
            return True
        width = self.content_size.width
        # Zero width: not laid out (hidden, or a zoomed pane's sibling); showing it lays out.
        return width == 0 or all(cell_len(line) <= width for line in new.split("\n"))
