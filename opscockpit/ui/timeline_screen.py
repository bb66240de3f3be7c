"""The timeline: every domain's events in one list, zoomable, filterable, each a jump.

Deploys, anomaly episodes, alert clusters opening and closing, drift onsets, CI failures
and operator notes, as the report's timeline has them (one builder, so they agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

# Which pane an event kind jumps to.
PANE_OF = {"change": "pipelines", "ci_failure": "pipelines", "anomaly": "telemetry",
           "cluster_open": "alerts", "cluster_close": "alerts", "drift": "models",
           "note": "telemetry", "cause": "alerts"}
# A cause jumps to where its candidate lives: a change to its pipeline run, a series to it.
CAUSE_PANE = {"deploy": "pipelines", "config": "pipelines", "model": "models",
              "drift": "models", "anomaly": "telemetry", "symptom": "alerts"}
KIND_LABEL = {"change": "CHANGE", "ci_failure": "CI FAIL", "anomaly": "ANOMALY",
              "cluster_open": "ALERTS", "cluster_close": "RESOLVED", "drift": "DRIFT",
              "note": "NOTE", "cause": "CAUSE"}
KIND_STYLE = {"change": "bold yellow", "ci_failure": "red", "anomaly": "bold magenta",
              "cluster_open": "bold red", "cluster_close": "green", "drift": "cyan",
              "note": "bold", "cause": "bold reverse yellow"}
ZOOMS = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(days=1), None)


@dataclass(frozen=True, slots=True)
class Jump:
    """Where the operator asked to go: a pane and the event's reference."""

    pane: str
    ref: str | None
    ts: datetime


def matches(event: dict[str, Any], query: str) -> bool:
    """Every word of ``query`` appears in the event's kind or summary (case-insensitive)."""
    haystack = f"{event['kind']} {KIND_LABEL.get(event['kind'], '')} {event['summary']}".lower()
    return all(word in haystack for word in query.lower().split())


def visible(events: list[dict[str, Any]], now: datetime, zoom: timedelta | None,
            query: str) -> list[dict[str, Any]]:
    start = None if zoom is None else now - zoom
    return [e for e in events
            if (start is None or _ts(e["ts"]) >= start) and _ts(e["ts"]) <= now
            and (not query or matches(e, query))]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class TimelineScreen(Screen[Jump | None]):
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape", "close", "Back"),
        Binding("plus", "zoom(-1)", "Zoom in"),
        Binding("minus", "zoom(1)", "Zoom out"),
        Binding("slash", "filter", "Filter"),
        Binding("a", "note", "Add note"),
    ]

    def __init__(self, events: list[dict[str, Any]], now: datetime, *, readonly: bool) -> None:
        super().__init__()
        self.events = events
        self.now = now
        self.readonly = readonly
        self.zoom_index = len(ZOOMS) - 1
        self.query_text = ""
        self.shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="timeline"):
            yield Static(id="timeline-head")
            yield OptionList(id="timeline-list")
            yield Input(placeholder="filter: words in kind or text (esc clears)",
                        id="timeline-filter", classes="hidden")
            yield Input(placeholder="note at this time, enter to store", id="timeline-note",
                        classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self._refresh()
        self.query_one(OptionList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "note" and self.readonly)

    def _refresh(self) -> None:
        zoom = ZOOMS[self.zoom_index]
        self.shown = visible(self.events, self.now, zoom, self.query_text)
        span = "everything" if zoom is None else f"last {_human(zoom)}"
        head = Text(f"Timeline · {span} to {self.now:%Y-%m-%d %H:%M:%S} UTC · "
                    f"{len(self.shown)} of {len(self.events)} events", style="bold")
        if self.query_text:
            head.append(f" · filter: {self.query_text}", style="yellow")
        self.query_one("#timeline-head", Static).update(head)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._line(e), id=str(i)) for i, e in enumerate(self.shown)])
        if self.shown:
            options.highlighted = len(self.shown) - 1  # the latest, where the trouble is

    def _line(self, event: dict[str, Any]) -> Text:
        line = Text(overflow="ellipsis")
        line.append(f"{_ts(event['ts']):%H:%M:%S} ", style="dim")
        line.append(f"{KIND_LABEL.get(event['kind'], event['kind']):<9}",
                    style=KIND_STYLE.get(event["kind"], ""))
        line.append(str(event["summary"]))  # untrusted text: plain, never markup
        for sentence in event.get("evidence", [])[:4]:
            line.append(f"\n{'':18}{sentence}", style="dim")
        return line

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        event = self.shown[int(message.option.id or 0)]
        pane = (CAUSE_PANE.get(event.get("cause_kind", ""), "alerts")
                if event["kind"] == "cause" else PANE_OF.get(event["kind"], "telemetry"))
        self.dismiss(Jump(pane, event.get("ref"), _ts(event["ts"])))

    def action_zoom(self, step: int) -> None:
        self.zoom_index = min(len(ZOOMS) - 1, max(0, self.zoom_index + step))
        self._refresh()

    def action_filter(self) -> None:
        box = self.query_one("#timeline-filter", Input)
        box.remove_class("hidden")
        box.value = self.query_text
        box.focus()

    def action_note(self) -> None:
        box = self.query_one("#timeline-note", Input)
        box.remove_class("hidden")
        box.focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        box = message.input
        box.add_class("hidden")
        if box.id == "timeline-filter":
            self.query_text = message.value.strip()
            self._refresh()
        elif box.id == "timeline-note" and message.value.strip():
            from opscockpit.ui.notes import note_at

            self.app.post_message(note_at(self.now, message.value.strip()))
            self.events = [*self.events, {"ts": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                          "kind": "note", "summary": f"note: {message.value}",
                                          "ref": None}]
            self._refresh()
        self.query_one(OptionList).focus()

    def action_close(self) -> None:
        for box in self.query(Input):
            if not box.has_class("hidden"):
                box.add_class("hidden")
                if box.id == "timeline-filter":
                    self.query_text = ""
                    self._refresh()
                self.query_one(OptionList).focus()
                return
        self.dismiss(None)


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
