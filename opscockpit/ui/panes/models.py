"""The Models pane: one row per model version, most serious first.

Each row: the status as glyph and word (degraded, drifting, no labels yet, healthy), the
model and version, how many input features drift, and the primary metric per window as a
sparkline with its latest value; a narrow pane folds that into two lines per version.
Zoomed, the list takes the focus and the highlighted version's reference and verdict show
below it; enter drills into its features, and enter again into one feature's distribution.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from opscockpit.analyzers.models_view import ModelsView, ModelView
from opscockpit.ui.glyphs import UNICODE, Glyphs
from opscockpit.ui.panes.models_drill import ModelDrill, ModelScreen
from opscockpit.ui.panes.models_text import columns_for, model_cells, model_detail, subtitle
from opscockpit.ui.panes.table_pane import TablePane
from opscockpit.ui.text_view import TextView


class ModelsPane(TablePane):
    what = "model"
    table_id = "models-table"
    drill_screen = ModelDrill

    DEFAULT_CSS = """
    ModelsPane #models-table {
        height: 1fr; overflow-x: hidden; overflow-y: hidden; scrollbar-size-vertical: 1;
    }
    ModelsPane.-zoomed #models-table { overflow-y: auto; }
    ModelsPane #models-detail {
        dock: bottom; height: auto; max-height: 6; display: none;
        border-top: solid $primary 40%;
    }
    ModelsPane.-zoomed #models-detail { display: block; }
    """

    def __init__(self) -> None:
        super().__init__("Models", id="models")
        self.view: ModelsView | None = None
        self._keys: dict[str, tuple[str, str]] = {}

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    def compose_body(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="models-table", cursor_type="row",
                                           cell_padding=0, show_header=False,
                                           show_cursor=False)
        table.can_focus = False  # the pane holds the focus until it is zoomed
        yield table
        yield TextView("", id="models-detail")

    # --- input from the app ----------------------------------------------------------
    def _refresh(self) -> None:
        if self.view is None:
            return
        width = self._table_width()
        self._width = width
        table = self.query_one("#models-table", DataTable)
        selected = self._selected()
        table.clear(columns=True)
        columns = columns_for(width)
        for i, (key, header, w) in enumerate(columns):
            table.add_column(header, width=w if i == len(columns) - 1 else w + 1, key=key)
        self._keys = {}
        height = 2 if len(columns) == 1 else 1
        for model in self.view.models:
            key = f"{model.model}\x1f{model.version}"
            self._keys[key] = (model.model, model.version)
            table.add_row(*model_cells(model, columns, self.glyphs), key=key, height=height)
        if selected is not None:
            index = next((i for i, m in enumerate(self.view.models)
                          if (m.model, m.version) == selected), 0)
            table.move_cursor(row=index)
        self.border_subtitle = subtitle(self.view, self.glyphs)
        self._show_detail()

    def highlighted(self) -> ModelView | None:
        if self.view is None or not self.view.models:
            return None
        key = self._selected()
        return self.view.find(*key) if key else self.view.models[0]

    def _show_detail(self) -> None:
        model = self.highlighted()
        detail = self.query_one("#models-detail", TextView)
        detail.set_text(model_detail(model, self.glyphs) if model else "")

    def _selected(self) -> tuple[str, str] | None:
        key: tuple[str, str] | None = self._selected_key()
        return key

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    # --- drilling --------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = self._keys.get(str(event.row_key.value))
        model = self.view.find(*key) if self.view is not None and key else None
        if model is not None:
            self.app.push_screen(ModelScreen(model))
