from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from opscockpit.engine import Engine
from opscockpit.replay import Replay
from opscockpit.store import Store
from opscockpit.ui.app import CockpitApp
from opscockpit.ui.timeline_screen import TimelineScreen, matches, visible
from tests.replay.fixtures import STEP_S, T0, make_recording
from tests.replay.test_replay_ui import _until_shown

SIZE = (80, 24)
EVENTS = [
    {"ts": "2026-03-14T09:53:20Z", "kind": "change", "summary": "deploy of api 2.4.0",
     "ref": "deploy-1"},
    {"ts": "2026-03-14T09:55:00Z", "kind": "anomaly", "summary": "anomaly on api-1/cpu_pct",
     "ref": "api-1/cpu_pct"},
]


def test_filter_and_zoom_are_pure() -> None:
    now = T0 + timedelta(hours=1)
    assert [e["kind"] for e in visible(EVENTS, now, None, "")] == ["change", "anomaly"]
    assert [e["kind"] for e in visible(EVENTS, now, timedelta(minutes=6), "")] == ["anomaly"]
    assert matches(EVENTS[0], "DEPLOY api") and not matches(EVENTS[0], "db")
    assert visible(EVENTS, T0 + timedelta(minutes=54), None, "") == EVENTS[:1]


async def _open_timeline(pilot, app: CockpitApp) -> TimelineScreen:  # type: ignore[no-untyped-def]
    await pilot.press("t")
    for _ in range(100):
        await pilot.pause(0.05)
        if isinstance(app.screen, TimelineScreen):
            return app.screen
    raise AssertionError("the timeline never opened")


async def test_timeline_lists_every_domain_and_jumps(tmp_path: Path) -> None:
    recording = Store.open(make_recording(tmp_path / "rec.duckdb"), read_only=True)
    at = T0 + timedelta(minutes=79)
    session = Replay(recording, speed=60.0, paused=True, at=at)
    app = CockpitApp(replay=session)
    async with app.run_test(size=SIZE) as pilot:
        await _until_shown(pilot, app, at)
        screen = await _open_timeline(pilot, app)
        kinds = {e["kind"] for e in screen.events}
        assert {"change", "anomaly", "cluster_open"} <= kinds, kinds
        options = screen.query_one("#timeline-list")
        text = "\n".join(str(options.get_option_at_index(i).prompt)
                         for i in range(options.option_count))
        assert "CHANGE   deploy of api 2.4.0" in text
        await pilot.press("slash", *"change", "enter")
        assert [e["kind"] for e in screen.shown] == ["change"]
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)
        assert app.focused is not None and app.focused.id == "pipelines"
        assert session.state().now == T0 + timedelta(seconds=320 * STEP_S)


async def test_a_note_is_stored_as_an_annotation() -> None:
    store = Store.open(None)
    engine = Engine(store, [])
    app = CockpitApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_timeline(pilot, app)
        await pilot.press("a", *"rolled back api", "enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if store.count("annotations"):
                break
        notes = store.window("annotations")
        assert notes["text"].tolist() == ["rolled back api"]
        assert notes["kind"].tolist() == ["note"]
        assert any(e["kind"] == "note" for e in screen.events)


async def test_read_only_hides_notes() -> None:
    app = CockpitApp(Engine(Store.open(None), []), readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_timeline(pilot, app)
        assert screen.check_action("note", ()) is False


def test_timeline_look(snap_compare, tmp_path: Path) -> None:
    recording = Store.open(make_recording(tmp_path / "rec.duckdb"), read_only=True)
    at = T0 + timedelta(minutes=79)
    session = Replay(recording, speed=60.0, paused=True, at=at)

    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        await _until_shown(pilot, pilot.app, at)
        await _open_timeline(pilot, pilot.app)
        await pilot.pause(0.2)

    assert snap_compare(CockpitApp(replay=session), terminal_size=SIZE, run_before=open_it)
