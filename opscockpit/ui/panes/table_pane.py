"""A domain pane whose body is a table: compact when small, a focusable list when zoomed.

The Pipelines and Models panes share this: the table only takes focus, a cursor and a
header once zoomed, drill-down screens on top follow each new view, and a resize
redraws so columns fit the width.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.events import Resize
from textual.screen import Screen
from textual.widgets import DataTable

from opscockpit.ui.panes.empty import DomainPane


class TablePane(DomainPane):
    table_id: ClassVar[str] = ""
    drill_screen: ClassVar[type[Screen[Any]]] = Screen  # screens that follow each new view
    fallback_width: ClassVar[int] = 30

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(title, id=id)
        self.view: Any = None
        self.zoomed = False
        self._width = 0

    def render_view(self, view: Any) -> None:
        if view == self.view and self._width == self._table_width():
            self._unchanged()
            return
        self.view = view
        self._refresh()
        for screen in self.app.screen_stack:
            if isinstance(screen, self.drill_screen):
                screen.update_view(view)  # type: ignore[attr-defined]

    def zoom_changed(self, zoomed: bool) -> None:
        self.zoomed = zoomed
        table = self.query_one(f"#{self.table_id}", DataTable)
        table.can_focus = zoomed
        table.show_cursor = zoomed
        table.show_header = zoomed
        self._refresh()
        if zoomed and self.view is not None:
            table.focus()

    def on_resize(self, event: Resize) -> None:
        self._refresh()

    def _selected_key(self) -> Any:
        """What the highlighted row stands for (``self._keys`` maps row keys to it)."""
        table = self.query_one(f"#{self.table_id}", DataTable)
        if not table.row_count:
            return None
        try:
            row_key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key
        except Exception:  # no cursor yet
            return None
        return getattr(self, "_keys", {}).get(str(row_key.value))

    def _table_width(self) -> int:
        return max(10, (self.content_size.width or self.fallback_width)
                   - (1 if self.zoomed else 0))

    def _unchanged(self) -> None:
        """Called when a view arrives that changes nothing drawn."""

    def _refresh(self) -> None:
        raise NotImplementedError
