"""The Telemetry pane: this host's figures, sparklines and its busiest processes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize

from opscockpit.analyzers.anomalies import AnomaliesView
from opscockpit.config import Thresholds
from opscockpit.snapshot import Process, TelemetryView
from opscockpit.ui.glyphs import Glyphs
from opscockpit.ui.panes.base import Pane
from opscockpit.ui.panes.telemetry_text import telemetry_text
from opscockpit.ui.render import human_bytes
from opscockpit.ui.text_view import TextView

SORT_KEYS = {"cpu": "cpu_pct", "mem": "mem_pct"}


class TelemetryPane(Pane):
    def __init__(self, limits: Thresholds, glyphs: Glyphs) -> None:
        super().__init__("Telemetry", id="telemetry")
        self.limits = limits
        self.glyphs = glyphs
        self.view: TelemetryView | None = None
        self.views: tuple[TelemetryView, ...] = ()
        self.host: str | None = None  # the host chosen with `h`; kept across refreshes
        self.anomalies: AnomaliesView | None = None
        self.sort_by = "cpu"

    def compose(self) -> ComposeResult:
        yield TextView("Waiting for the first sample…", id="telemetry-figures")
        yield TextView("", id="processes")

    def show(self, views: tuple[TelemetryView, ...],
             anomalies: AnomaliesView | None = None) -> None:
        self.views = views
        chosen = next((v for v in views if v.host == self.host), views[0] if views else None)
        if chosen == self.view and anomalies == self.anomalies and chosen is not None:
            return  # nothing new: skip the repaint
        self.view = chosen
        self.anomalies = anomalies
        self._refresh_all()

    def select_host(self, host: str) -> None:
        if any(v.host == host for v in self.views):
            self.host = host
            self.show(self.views, self.anomalies)

    def next_host(self) -> None:
        if len(self.views) < 2 or self.view is None:
            return
        hosts = [v.host for v in self.views]
        self.host = hosts[(hosts.index(self.view.host) + 1) % len(hosts)]
        self.show(self.views, self.anomalies)

    def sort(self, key: str) -> None:
        self.sort_by = key
        self._refresh_processes()

    def on_resize(self, event: Resize) -> None:
        self._refresh_all()

    def sorted_processes(self) -> list[Process]:
        if self.view is None:
            return []
        attr = SORT_KEYS[self.sort_by]
        return sorted(self.view.processes, key=lambda p: (-getattr(p, attr), p.pid))

    def _refresh_all(self) -> None:
        figures = self.query_one("#telemetry-figures", TextView)
        if self.view is None:
            figures.set_text("Waiting for the first sample…")
        else:
            name = self.view.host or "imported series"
            count = f" ({[v.host for v in self.views].index(self.view.host) + 1}/" \
                f"{len(self.views)}, h: next)" if len(self.views) > 1 else ""
            self.border_subtitle = name + count
            width = self.content_size.width or 60
            marks = self.anomalies.for_host(self.view.host) if self.anomalies else {}
            figures.set_text(telemetry_text(self.view, width, self.limits, self.glyphs, marks))
        self._refresh_processes()

    def _refresh_processes(self) -> None:
        width = self.content_size.width or 60
        table = Text(no_wrap=True, overflow="ellipsis")
        if len(self.views) > 1:
            table.append_text(hosts_table(self.views, self.view, self.anomalies, width))
        processes = self.sorted_processes()
        if processes:
            if table:
                table.append("\n\n")
            table.append_text(process_table(processes, width, self.sort_by))
        self.query_one("#processes", TextView).set_text(table)


def hosts_table(views: tuple[TelemetryView, ...], shown: TelemetryView | None,
                anomalies: AnomaliesView | None, width: int) -> Text:
    """Every host on one line each: the fleet at a glance, the shown one marked."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{'HOST':<14}{'CPU%':>6}{'MEM%':>6}  ANOMALOUS SERIES", style="bold reverse")
    for view in views:
        marks = anomalies.for_host(view.host) if anomalies else {}
        open_marks = sorted(m.metric for m in marks.values() if m.open)
        pointer = ">" if shown is not None and view.host == shown.host else " "
        cpu = f"{view.latest['cpu_pct']:.0f}" if "cpu_pct" in view.latest else "-"
        mem = f"{view.latest['mem_pct']:.0f}" if "mem_pct" in view.latest else "-"
        text.append(f"\n{pointer}{(view.host or '(series)')[:12]:<13}{cpu:>6}{mem:>6}  ")
        if open_marks:
            text.append(f"{len(open_marks)} open: " + ", ".join(open_marks), style="magenta")
    return text


def process_table(processes: list[Process], width: int, sort_by: str) -> Text:
    """A fixed-width process table; the name takes what width is left."""
    wide = width >= 70
    marker = {"cpu": "CPU%", "mem": "MEM%"}[sort_by]
    heads = [("PID", 7), ("USER", 10), ("CPU%", 6), ("MEM%", 6), ("RSS", 7)]
    if not wide:
        heads = [h for h in heads if h[0] != "USER"]
    text = Text(no_wrap=True, overflow="ellipsis")
    header = "".join(
        f"{(name + ('▼' if name == marker else '')):<{w}}" for name, w in heads) + "NAME"
    text.append(header, style="bold reverse")
    for p in processes:
        cells = [f"{p.pid:<7}", f"{p.user[:9]:<10}", f"{p.cpu_pct:<6.1f}", f"{p.mem_pct:<6.1f}",
                 f"{human_bytes(p.rss_bytes):<7}"]
        if not wide:
            del cells[1]
        text.append("\n" + "".join(cells) + p.name)
    return text
