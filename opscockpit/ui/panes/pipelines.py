"""The Pipelines pane: the DORA strip, then one row per pipeline, worst first.

Each row: the latest run's status (glyph and word), the pipeline, its failure rate, the
strip of its last runs and, as width allows, branch, duration sparkline and figures.
Zoomed, the list takes the focus; enter drills into the pipeline's runs, then a run's
jobs. A CI source that fails keeps the last data on screen and says why on top.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from opscockpit.analyzers.pipelines import PipeKey, PipelineLine, PipelinesView
from opscockpit.sources.base import HealthState, SourceHealth
from opscockpit.ui.glyphs import UNICODE, Glyphs
from opscockpit.ui.panes.empty import CONFIG_HINT
from opscockpit.ui.panes.pipelines_drill import PipelineDrill, RunsScreen
from opscockpit.ui.panes.pipelines_text import (
    CI_KINDS,
    columns_for,
    dora_text,
    health_text,
    pipeline_cells,
    pipeline_detail,
)
from opscockpit.ui.panes.table_pane import TablePane
from opscockpit.ui.text_view import TextView


class PipelinesPane(TablePane):
    what = "CI pipeline"
    table_id = "pipelines-table"
    drill_screen = PipelineDrill
    fallback_width = 40

    DEFAULT_CSS = """
    PipelinesPane #pipelines-dora, PipelinesPane #pipelines-health,
    PipelinesPane #pipelines-detail { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    PipelinesPane #pipelines-table {
        height: 1fr; overflow-x: hidden; overflow-y: hidden; scrollbar-size-vertical: 1;
        background: transparent;
    }
    PipelinesPane #pipelines-none { color: $text-muted; }
    PipelinesPane.-zoomed #pipelines-table { overflow-y: auto; }
    PipelinesPane #pipelines-detail {
        dock: bottom; height: auto; max-height: 6; display: none;
        border-top: solid $primary 40%;
    }
    PipelinesPane.-zoomed #pipelines-detail { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy_url", "Copy run URL", show=False),
    ]

    def __init__(self) -> None:
        super().__init__("Pipelines", id="pipelines")
        self.view: PipelinesView | None = None
        self.health: tuple[SourceHealth, ...] = ()
        self._keys: dict[str, PipeKey] = {}

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    def compose_body(self) -> ComposeResult:
        yield TextView("", id="pipelines-dora")
        yield TextView("", id="pipelines-health")
        table: DataTable[Text] = DataTable(
            id="pipelines-table", cursor_type="row", cell_padding=0, show_header=False,
            show_cursor=False,
        )
        table.can_focus = False  # the pane holds the focus until it is zoomed
        yield table
        yield TextView("", id="pipelines-none")
        yield TextView("", id="pipelines-detail")

    # --- input from the app ----------------------------------------------------------
    def show(self, view: Any) -> None:
        snapshot = getattr(self.app, "snapshot", None)
        self.health = tuple(snapshot.health) if snapshot is not None else ()
        super().show(view)
        if view is None:
            self._show_waiting()

    def _unchanged(self) -> None:
        self._show_health()  # a source's health can change while its data does not

    def _refresh(self) -> None:
        self._show_health()
        if self.view is None:
            return
        view = self.view
        width = self._table_width()
        self._width = width
        self.query_one("#pipelines-dora", TextView).set_text(dora_text(view.dora, width))
        table = self.query_one("#pipelines-table", DataTable)
        none = self.query_one("#pipelines-none", TextView)
        # Deploys known (a deploy tool, a recording) but no CI runs: say so, no empty grid.
        table.display = bool(view.pipelines)
        none.display = not view.pipelines
        if not view.pipelines:
            deploys = view.dora.deployments + view.dora.failed_deployments if view.dora else 0
            none.set_text(f"No CI runs yet; DORA from {deploys} deploy"
                        f"{'' if deploys == 1 else 's'} in the changes.")
        selected = self._selected_key()
        table.clear(columns=True)
        columns = columns_for(width)
        for i, (key, header, w) in enumerate(columns):
            table.add_column(header, width=w if i == len(columns) - 1 else w + 1, key=key)
        self._keys = {}
        for line in view.pipelines:
            row_key = "|".join(line.key)
            self._keys[row_key] = line.key
            table.add_row(*pipeline_cells(line, columns, self.glyphs, view.at), key=row_key)
        if selected is not None:
            index = next((i for i, p in enumerate(view.pipelines) if p.key == selected), 0)
            table.move_cursor(row=index)
        self._subtitle()
        self._show_detail()

    def highlighted(self) -> PipelineLine | None:
        if self.view is None:
            return None
        key = self._selected_key()
        if key is None:
            return self.view.pipelines[0] if self.view.pipelines else None
        return self.view.find(key)

    def _show_detail(self) -> None:
        line = self.highlighted()
        detail = self.query_one("#pipelines-detail", TextView)
        if line is None or self.view is None:
            detail.set_text("")
            return
        detail.set_text(pipeline_detail(line, self.view.at, self.glyphs))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def action_copy_url(self) -> None:
        line = self.highlighted()
        url = line.history[0].url if line is not None and line.history else ""
        if not url:
            self.notify("no run URL to copy", severity="warning")
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"run URL copied (OSC 52): {url}", timeout=4)

    def _subtitle(self) -> None:
        view = self.view
        if view is None:
            self.border_subtitle = ""
            return
        g = self.glyphs
        parts = [f"{g.crit} {view.failing} failing" if view.failing else f"{g.ok} none failing",
                 f"{view.running} running"]
        if view.flaky:
            parts.append(f"{len(view.flaky)} flaky")
        self.border_subtitle = " · ".join(parts)

    def _show_health(self) -> None:
        text = health_text(self.health, self.glyphs)
        widget = self.query_one("#pipelines-health", TextView)
        widget.display = text is not None
        if text is not None:
            widget.set_text(text)

    def _show_waiting(self) -> None:
        """No runs yet: say which CI source is being waited for, and why if it fails."""
        ci = [h for h in self.health if h.kind in CI_KINDS]
        hint = self.query_one(f"#{self.id}-hint", TextView)
        if not ci:
            hint.set_text(f"[b]No {self.what} source is configured.[/b]\n\n{CONFIG_HINT}")
            return
        text = Text("No runs yet.\n", style="bold")
        for h in ci:
            state = "waiting" if h.state in (HealthState.OK, HealthState.STARTING) else h.state
            text.append(f"{h.name}: {state}")
            if h.reason:
                text.append(f" ({h.reason})", style="dim")
            text.append("\n")
        hint.set_text(text)

    # --- drilling --------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.view is None:
            return
        key = self._keys.get(str(event.row_key.value))
        line = self.view.find(key) if key else None
        if line is not None:
            self.app.push_screen(RunsScreen(line))
