"""The cockpit app: a thin composition root wiring panes to engine snapshots."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer

from opscockpit.config import Thresholds
from opscockpit.engine import Engine
from opscockpit.recording import Recorder
from opscockpit.replay import Replay
from opscockpit.snapshot import Snapshot
from opscockpit.sources.base import Batch
from opscockpit.store import StoreError
from opscockpit.ui.actions import ACTIONS, bindings
from opscockpit.ui.app_messages import AnnotationRequested, SnapshotReady
from opscockpit.ui.commands import CockpitCommands
from opscockpit.ui.glyphs import UNICODE, Glyphs
from opscockpit.ui.goto_screen import GotoScreen
from opscockpit.ui.help_screen import HelpScreen, pane_keys
from opscockpit.ui.panes.alerts import AlertsPane
from opscockpit.ui.panes.base import Pane
from opscockpit.ui.panes.empty import DomainPane
from opscockpit.ui.panes.models import ModelsPane
from opscockpit.ui.panes.pipelines import PipelinesPane
from opscockpit.ui.panes.telemetry import TelemetryPane
from opscockpit.ui.replay_bar import ReplayBar
from opscockpit.ui.status_bar import StatusBar
from opscockpit.ui.timeline_screen import Jump, TimelineScreen

MUTATING = frozenset(a.action.split("(")[0] for a in ACTIONS if a.mutating)
REPLAY_ONLY = frozenset(a.action.split("(")[0] for a in ACTIONS if a.replay)
__all__ = ["AnnotationRequested", "CockpitApp", "SnapshotReady"]


class CockpitApp(App[int]):
    CSS_PATH = "cockpit.tcss"
    TITLE = "opscockpit"
    COMMANDS = App.COMMANDS | {CockpitCommands}
    BINDINGS: ClassVar[list[BindingType]] = bindings()

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        snapshot: Snapshot | None = None,
        thresholds: Thresholds | None = None,
        theme_name: str = "textual-dark",
        glyphs: Glyphs = UNICODE,
        readonly: bool = False,
        replay: Replay | None = None,
        sources: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.sources = sources or []
        self.recorder: Recorder | None = None
        self.replay = replay
        self.engine = replay.engine if replay is not None else engine
        self.snapshot = snapshot
        self.thresholds = thresholds or Thresholds()
        self.theme_name = theme_name
        self.glyphs = glyphs
        self.readonly = readonly
        self.frozen = False
        self._widgets: tuple[StatusBar, TelemetryPane, AlertsPane, list[DomainPane]] | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(self.glyphs)
        with Container(id="panes"):
            yield TelemetryPane(self.thresholds, self.glyphs)
            yield AlertsPane()
            yield PipelinesPane()
            yield ModelsPane()
        if self.replay is not None:
            yield ReplayBar(self.glyphs)
        yield Footer()

    def on_mount(self) -> None:
        self.theme = self.theme_name
        self.main_screen.query_one(TelemetryPane).focus()
        self._render_snapshot()
        if self.engine is not None:
            engine = self.engine
            engine.on_snapshot = lambda snap: self.post_message(SnapshotReady(snap))
            self.run_worker(engine.run(), name="engine", group="engine", exclusive=True)
        if self.replay is not None:
            self._show_replay()
            self.set_interval(0.25, self._show_replay)

    async def on_unmount(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        self.stop_recording()

    # --- recording ---------------------------------------------------------------
    def start_recording(self, path: Path) -> None:
        """Write every source batch to ``path`` from now on (a recording, not analysed)."""
        if self.engine is None or self.recorder is not None:
            return
        self.recorder = Recorder(path, self.sources)
        self.engine.intake.on_batch = self.recorder.on_batch

    def stop_recording(self) -> Path | None:
        if self.recorder is None or self.engine is None:
            return None
        self.engine.intake.on_batch = None
        recorder, self.recorder = self.recorder, None
        recorder.close()
        return recorder.path

    def action_toggle_recording(self) -> None:
        if self.recorder is not None:
            path = self.stop_recording()
            self.notify(f"recording stopped: {path}")
        else:
            path = Path.cwd() / f"opscockpit-recording-{datetime.now():%Y%m%d-%H%M%S}.duckdb"
            try:
                self.start_recording(path)
            except StoreError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"recording to {path}")
        self._render_snapshot()

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.snapshot = message.snapshot
        if not self.frozen:
            self._render_snapshot()

    async def on_annotation_requested(self, message: AnnotationRequested) -> None:
        if self.readonly:
            self.notify("read-only: notes and feedback are not stored", severity="warning")
            return
        if self.engine is None:
            self.notify("no store to write to", severity="warning")
            return
        await self.engine.ingest(Batch(annotations=[message.annotation]), self.engine.clock.now())
        self.notify(f"{message.annotation.kind} stored")

    def _render_snapshot(self) -> None:
        if not self.screen_stack:
            return
        widgets = self._cockpit_widgets()
        if widgets is None:
            return  # shutting down: the cockpit's widgets are already gone
        status, telemetry, alerts, domain_panes = widgets
        snap = self.snapshot
        status.show(snap, frozen=self.frozen, recording=self.recorder is not None)
        telemetry.show(snap.telemetry if snap else (),
                       snap.views.get("anomalies") if snap else None)
        for pane in domain_panes:
            pane.show(snap.views.get(pane.id or "") if snap else None)
        alerts.show_cause(snap.views.get("root_cause") if snap else None)

    def _cockpit_widgets(
        self,
    ) -> tuple[StatusBar, TelemetryPane, AlertsPane, list[DomainPane]] | None:
        """The widgets a snapshot fills, found once: querying the DOM on every refresh
        cost as much as painting the status line."""
        found = self._widgets
        if found is None or not found[0].is_attached:
            screen = self.main_screen
            if not screen.query(StatusBar):
                return None
            found = self._widgets = (screen.query_one(StatusBar), screen.query_one(TelemetryPane),
                                     screen.query_one(AlertsPane), list(screen.query(DomainPane)))
        return found

    @property
    def main_screen(self) -> Screen[object]:
        """The cockpit's own screen, even while help, a drill-down or the timeline is on top."""
        return self.screen_stack[0]

    # --- actions -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Mutating actions are hidden and refused in read-only mode."""
        if action in REPLAY_ONLY and self.replay is None:
            return False
        if action == "toggle_recording" and (self.replay is not None or self.engine is None):
            return False
        return not (self.readonly and action in MUTATING)

    def _panes(self) -> list[Pane]:
        return [p for p in self.main_screen.query(Pane) if p.display]

    def _focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None and not isinstance(node, Pane):
            node = node.parent  # type: ignore[assignment]
        return node

    def _move_focus(self, step: int) -> None:
        panes = self._panes()
        if not panes:
            return
        current = self._focused_pane()
        index = panes.index(current) if current in panes else -1
        panes[(index + step) % len(panes)].focus()

    def action_focus_next_pane(self) -> None:
        self._move_focus(1)

    def action_focus_previous_pane(self) -> None:
        self._move_focus(-1)

    def action_zoom(self) -> None:
        pane = self._focused_pane()
        if pane is None:
            return
        grid = self.main_screen.query_one("#panes")
        for other in self.main_screen.query(Pane):
            other.set_class(other is pane, "-zoomed")
        grid.add_class("zoomed")
        pane.zoom_changed(True)

    def action_unzoom(self) -> None:
        grid = self.main_screen.query_one("#panes")
        grid.remove_class("zoomed")
        for pane in self.main_screen.query(Pane):
            if pane.has_class("-zoomed"):
                pane.remove_class("-zoomed")
                pane.zoom_changed(False)
                pane.focus()

    @property
    def zoomed(self) -> str | None:
        if not self.main_screen.query_one("#panes").has_class("zoomed"):
            return None
        return next((p.id for p in self.main_screen.query(Pane) if p.has_class("-zoomed")), None)

    def action_sort_processes(self, key: str) -> None:
        self.main_screen.query_one(TelemetryPane).sort(key)

    def action_next_host(self) -> None:
        self.main_screen.query_one(TelemetryPane).next_host()

    def action_toggle_freeze(self) -> None:
        self.frozen = not self.frozen
        self._render_snapshot()

    # --- timeline and export --------------------------------------------------------
    def action_timeline(self) -> None:
        if self.engine is None:
            self.notify("no store behind this view", severity="warning")
            return
        self.run_worker(self._load_timeline, thread=True, exclusive=True, group="timeline")

    def _load_timeline(self) -> None:
        from opscockpit.report.builder import build_report

        assert self.engine is not None
        now = self.engine.clock.now()
        events = build_report(self.engine.store, None, now)["timeline"]
        self.call_from_thread(self._open_timeline, events, now)

    def _open_timeline(self, events: list[dict[str, object]], now: datetime) -> None:
        self.push_screen(TimelineScreen(events, now, readonly=self.readonly), self._jump)

    def _jump(self, jump: Jump | None) -> None:
        if jump is None:
            return
        if self.replay is not None:
            self.replay.jump(jump.ts)
            self._replay_changed()
        if jump.pane == "telemetry" and jump.ref and "/" in jump.ref:
            self.main_screen.query_one(TelemetryPane).select_host(jump.ref.split("/", 1)[0])
        self.action_unzoom()
        self.main_screen.query_one(f"#{jump.pane}", Pane).focus()

    def action_export(self) -> None:
        if self.engine is None:
            self.notify("no store behind this view", severity="warning")
            return
        self.notify("writing the report…", timeout=2)
        self.run_worker(self._export, thread=True, exclusive=True, group="export")

    def _export(self) -> None:
        from opscockpit.report.export import export_report

        assert self.engine is not None
        paths = export_report(self.engine.store, self.engine.clock.now(), Path.cwd())
        self.call_from_thread(self.notify, "report written: " + ", ".join(p.name for p in paths))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            pane = self._focused_pane()
            keys = (str(pane.border_title), pane_keys(pane)) if pane is not None else None
            self.push_screen(HelpScreen(self.readonly, replay=self.replay is not None,
                                        pane_keys=keys))

    # --- replay ------------------------------------------------------------------
    def _show_replay(self) -> None:
        if self.replay is None:
            return
        # query, not query_one: the timer may tick once more while the app shuts down.
        for bar in self.main_screen.query(ReplayBar):
            bar.show(self.replay.state())

    def _replay_changed(self) -> None:
        self._show_replay()
        if self.engine is not None:
            self.engine.request_snapshot()

    def action_replay_pause(self) -> None:
        if self.replay is not None:
            self.replay.toggle_pause()
            self._replay_changed()

    def action_replay_faster(self) -> None:
        if self.replay is not None:
            self.replay.faster()
            self._replay_changed()

    def action_replay_slower(self) -> None:
        if self.replay is not None:
            self.replay.slower()
            self._replay_changed()

    def action_replay_step(self, seconds: int) -> None:
        if self.replay is not None:
            self.replay.step(seconds)
            self._replay_changed()

    def action_replay_next_event(self) -> None:
        if self.replay is not None:
            if self.replay.next_event() is None:
                self.notify("no event after this time")
            self._replay_changed()

    def action_replay_goto(self) -> None:
        if self.replay is not None:
            self.push_screen(GotoScreen(self.replay.state()), self._goto)

    def _goto(self, to: datetime | None) -> None:
        if self.replay is not None and to is not None:
            self.replay.jump(to)
            self._replay_changed()
