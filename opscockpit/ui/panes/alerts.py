"""The Alerts pane: the alert storm as a handful of clusters, and what the operator made of it.

One row per cluster (severity glyph and word, flapping/growing/resolved marker, operator
verdict, size, arrivals sparkline, hosts, first/last seen, the template with its variable
slots highlighted), under a line of noise figures. Columns appear as the width affords
them. ``enter`` zooms the pane; zoomed, the list has focus and ``enter`` drills into a
cluster. ``/`` filters (``sev>=warn host=web* text``); ``a``/``n``/``k`` mark the
highlighted cluster actionable / noise / acknowledged (with a note).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from opscockpit.analyzers.alerts_view import AlertsView, ClusterView
from opscockpit.analyzers.root_cause import RootCauseView
from opscockpit.ui.glyphs import UNICODE, Glyphs
from opscockpit.ui.panes.alerts_drill import (
    MARK_BINDINGS,
    ClusterScreen,
    readonly,
    request_feedback,
)
from opscockpit.ui.panes.alerts_filter import AlertFilter, FilterError, parse_filter
from opscockpit.ui.panes.alerts_text import cluster_row, column_header, noise_header
from opscockpit.ui.panes.empty import DomainPane
from opscockpit.ui.text_view import TextView

FILTER_HINT = "sev>=warn host=web* service=api status=open text"
TALL = 12  # content rows from which the column names are worth a line


class FilterInput(Input):
    """The ``/`` line; escape closes it without touching the filter."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    class Cancelled(Message):
        pass

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class AlertsPane(DomainPane):
    what = "alert"
    DEFAULT_CSS = """
    AlertsPane #alerts-noise { height: 1; }
    AlertsPane #alerts-columns { height: 1; display: none; }
    AlertsPane #alerts-filter { display: none; }
    AlertsPane #alerts-list {
        height: 1fr; background: transparent; scrollbar-size-vertical: 1;
    }
    AlertsPane #alerts-list:focus { background-tint: $foreground 0%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        *MARK_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__("Alerts", id="alerts")
        self.view: AlertsView | None = None
        self.filter = AlertFilter()
        self.zoomed = False

    def compose_body(self) -> ComposeResult:
        yield TextView(id="alerts-noise")
        yield TextView(id="alerts-cause")
        yield FilterInput(placeholder=FILTER_HINT, id="alerts-filter", compact=True)
        yield TextView(id="alerts-columns")
        yield OptionList(id="alerts-list", compact=True)

    # --- showing -----------------------------------------------------------------
    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    def render_view(self, view: AlertsView) -> None:
        if view is self.view:
            return  # the analyzer hands out the same view until something changed
        self.view = view
        self._refresh()

    def show_cause(self, view: RootCauseView | None) -> None:
        """The likely cause of the worst incident now, with its first piece of evidence."""
        line = self.query_one("#alerts-cause", TextView)
        top = view.top if view is not None else None
        line.display = top is not None
        if top is None:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("likely cause ", style="bold yellow")
        text.append(top.summary)  # built from untrusted alert text: plain, never markup
        text.append(f" ({top.score:.2f})", style="dim")
        if top.evidence:
            text.append("\n  " + top.evidence[0], style="dim")
        line.set_text(text)

    def visible_clusters(self) -> list[ClusterView]:
        if self.view is None:
            return []
        return [c for c in self.view.clusters if self.filter.matches(c)]

    def selected(self) -> ClusterView | None:
        option = self.query_one("#alerts-list", OptionList).highlighted_option
        if option is None or self.view is None:
            return None
        return next((c for c in self.view.clusters if c.id == option.id), None)

    def on_resize(self, event: Resize) -> None:
        self._refresh()

    def zoom_changed(self, zoomed: bool) -> None:
        self.zoomed = zoomed
        self._refresh()
        if zoomed:
            self.query_one("#alerts-list", OptionList).focus()

    def _refresh(self) -> None:
        if self.view is None:
            return
        width = max(20, (self.content_size.width or 60) - 1)  # a column for the scrollbar
        clusters = self.visible_clusters()
        self.query_one("#alerts-noise", TextView).set_text(noise_header(
            self.view.noise, width, self.glyphs, len(clusters), len(self.view.clusters)))
        columns = self.query_one("#alerts-columns", TextView)
        columns.display = self.zoomed or self.content_size.height >= TALL
        columns.set_text(column_header(width))
        self.border_subtitle = (f"/{self.filter.text} {len(clusters)}/{len(self.view.clusters)}"
                                if not self.filter.empty else "")
        listing = self.query_one("#alerts-list", OptionList)
        keep = listing.highlighted_option.id if listing.highlighted_option else None
        options = [Option(cluster_row(c, width, self.glyphs), id=c.id) for c in clusters]
        if not options:
            empty = "No cluster matches the filter." if self.view.clusters else "No alerts yet."
            options = [Option(empty, id="-none-", disabled=True)]
        listing.set_options(options)
        ids = [c.id for c in clusters]
        if ids:
            listing.highlighted = ids.index(keep) if keep in ids else 0

    # --- keys --------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mark":
            # Mutating: only on a row the operator moved to (the list has focus), never on
            # whatever happens to be first while the pane is merely focused in the grid.
            listing = self.query_one("#alerts-list", OptionList)
            return not readonly(self) and self.view is not None and listing.has_focus
        if action == "filter":
            return self.view is not None
        return True

    def action_filter(self) -> None:
        line = self.query_one("#alerts-filter", FilterInput)
        line.value = self.filter.text
        line.display = True
        line.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "alerts-filter":
            return
        event.stop()
        try:
            self.filter = parse_filter(event.value)
        except FilterError as exc:
            self.notify(str(exc), severity="error")
            return
        self._close_filter()
        self._refresh()

    def on_filter_input_cancelled(self, event: FilterInput.Cancelled) -> None:
        event.stop()
        self._close_filter()

    def _close_filter(self) -> None:
        self.query_one("#alerts-filter", FilterInput).display = False
        if self.zoomed:
            self.query_one("#alerts-list", OptionList).focus()
        else:
            self.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "alerts-list":
            return
        event.stop()
        cluster = self.selected()
        if cluster is not None:
            self.app.push_screen(ClusterScreen(cluster, self.glyphs))

    def action_mark(self, kind: str) -> None:
        cluster = self.selected()
        if cluster is None:
            self.notify("No cluster selected", severity="warning")
            return
        request_feedback(self, cluster.id, kind)
