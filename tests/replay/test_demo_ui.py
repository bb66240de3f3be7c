"""The demo as a user sees it: the sample incident, mid-storm, with its likely cause."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opscockpit.commands.demo import build_incident_recording
from opscockpit.replay import Replay
from opscockpit.store import Store
from opscockpit.ui.app import CockpitApp

AT = datetime(2026, 3, 14, 10, 24, tzinfo=UTC)


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_incident_recording(tmp_path_factory.mktemp("demo") / "incident.duckdb")


async def _settle(pilot, app: CockpitApp) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        await pilot.pause(0.05)
        snap = app.snapshot
        if snap is not None and snap.now == AT and snap.views.get("root_cause") is not None:
            await pilot.pause(0.3)
            return
    raise AssertionError("the demo never showed the incident with its cause")


async def test_every_pane_is_alive_and_the_cause_is_named(incident: Path) -> None:
    store = Store.open(incident, read_only=True)
    app = CockpitApp(replay=Replay(store, speed=60.0, paused=True, at=AT), readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot, app)
        snap = app.snapshot
        assert snap is not None
        for pane in ("alerts", "pipelines", "models", "anomalies"):
            assert snap.views.get(pane) is not None, pane
        cause = snap.views["root_cause"].top
        assert cause.ref == "github_actions:acme/api:9100025:1"
        line = str(app.query_one("#alerts-cause").render())
        assert "likely cause" in line and "deploy of api" in line
    store.close()


def test_demo_look(snap_compare, incident: Path) -> None:
    store = Store.open(incident, read_only=True)
    app = CockpitApp(replay=Replay(store, speed=60.0, paused=True, at=AT), readonly=True)

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot, pilot.app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
