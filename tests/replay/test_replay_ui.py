from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from opscockpit.replay import Replay
from opscockpit.store import Store
from opscockpit.ui.app import CockpitApp
from tests.replay.fixtures import STEP_S, T0, make_recording

SIZE = (80, 24)


@pytest.fixture
def recording(tmp_path: Path) -> Store:
    return Store.open(make_recording(tmp_path / "rec.duckdb"), read_only=True)


async def _until_shown(pilot, app: CockpitApp, at) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        await pilot.pause(0.05)
        if app.snapshot is not None and app.snapshot.now == at and app.snapshot.telemetry:
            return
    raise AssertionError("the replay never published a snapshot")


async def test_replay_controls_drive_the_virtual_clock(recording: Store) -> None:
    session = Replay(recording, speed=60.0, paused=True, at=T0 + timedelta(minutes=5))
    app = CockpitApp(replay=session)
    async with app.run_test(size=SIZE) as pilot:
        await _until_shown(pilot, app, T0 + timedelta(minutes=5))
        bar = str(app.query_one("#replay-bar").render())
        assert "PAUSED" in bar and "09:05:00" in bar
        assert "REPLAY" in str(app.query_one("#status-bar").render())
        await pilot.press("plus")
        assert session.state().speed == 300.0
        await pilot.press("space")
        assert not session.state().paused
        await pilot.press("space", "n")
        assert session.state().now == T0 + timedelta(seconds=320 * STEP_S)
        await pilot.press("comma")
        assert session.state().now == T0 + timedelta(seconds=320 * STEP_S - 10)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"09:30", "enter")
        await pilot.pause()
        assert session.state().now == T0 + timedelta(minutes=30)
        await _until_shown(pilot, app, T0 + timedelta(minutes=30))
        assert app.snapshot is not None and app.snapshot.now == T0 + timedelta(minutes=30)


async def test_live_mode_hides_replay_keys() -> None:
    from tests.ui.fixtures import fixed_snapshot

    app = CockpitApp(snapshot=fixed_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "n")
        assert app.check_action("replay_pause", ()) is False
        assert not app.query("#replay-bar")


def test_replay_look(snap_compare, recording: Store) -> None:
    at = T0 + timedelta(minutes=57)
    session = Replay(recording, speed=60.0, paused=True, at=at)

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await _until_shown(pilot, pilot.app, at)

    assert snap_compare(CockpitApp(replay=session), terminal_size=SIZE, run_before=settle)
