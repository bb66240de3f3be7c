"""The Telemetry pane: this host's figures, sparklines and its busiest processes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import DataTable, Static

from opscockpit.config import Thresholds
from opscockpit.snapshot import TelemetryView
from opscockpit.ui.glyphs import Glyphs
from opscockpit.ui.panes.base import Pane
from opscockpit.ui.panes.telemetry_text import telemetry_text
from opscockpit.ui.render import human_bytes

SORT_KEYS = {"cpu": "cpu_pct", "mem": "mem_pct"}


class TelemetryPane(Pane):
    def __init__(self, limits: Thresholds, glyphs: Glyphs) -> None:
        super().__init__("Telemetry", id="telemetry")
        self.limits = limits
        self.glyphs = glyphs
        self.view: TelemetryView | None = None
        self.sort_by = "cpu"

    def compose(self) -> ComposeResult:
        yield Static("Waiting for the first sample…", id="telemetry-figures")
        table: DataTable[str] = DataTable(id="processes", cursor_type="none", zebra_stripes=True)
        table.can_focus = False
        yield table

    def show(self, view: TelemetryView | None) -> None:
        self.view = view
        self._refresh_figures()
        self._refresh_processes()

    def sort(self, key: str) -> None:
        self.sort_by = key
        self._refresh_processes()

    def on_resize(self, event: Resize) -> None:
        self._refresh_figures()
        self._refresh_processes()

    def _refresh_figures(self) -> None:
        figures = self.query_one("#telemetry-figures", Static)
        if self.view is None:
            figures.update("Waiting for the first sample…")
            return
        self.border_subtitle = self.view.host
        width = self.content_size.width or 60
        figures.update(telemetry_text(self.view, width, self.limits, self.glyphs))

    def _refresh_processes(self) -> None:
        table = self.query_one("#processes", DataTable)
        wide = (self.content_size.width or 60) >= 70
        columns = ["PID", "USER", "CPU%", "MEM%", "RSS", "NAME"] if wide else [
            "PID", "CPU%", "MEM%", "RSS", "NAME"]
        table.clear(columns=True)
        marker = {"cpu": "CPU%", "mem": "MEM%"}[self.sort_by]
        table.add_columns(*[c + ("▼" if c == marker else "") for c in columns])
        if self.view is None:
            return
        attr = SORT_KEYS[self.sort_by]
        for p in sorted(self.view.processes, key=lambda p: getattr(p, attr), reverse=True):
            row = [str(p.pid), p.user[:10], f"{p.cpu_pct:5.1f}", f"{p.mem_pct:5.1f}",
                   human_bytes(p.rss_bytes), p.name]
            table.add_row(*(row if wide else row[:1] + row[2:]))
