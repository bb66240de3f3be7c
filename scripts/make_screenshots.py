"""Regenerate screenshots/ from the running app on the sample data (never drawn by hand).

Builds the sample incident's recording (sample_data/incident/), replays it in the real
app paused in the middle of the incident, and saves SVGs at 80x24 and 200x50, plus the
timeline and the live cockpit of this host.

    .venv/bin/python scripts/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"
AT = datetime(2026, 3, 14, 10, 24, tzinfo=UTC)  # the storm is on, the deploy just before


async def _settle(pilot, app, at: datetime) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.pause(0.05)
        if app.snapshot is not None and app.snapshot.now == at and app.snapshot.telemetry:
            await pilot.pause(0.3)
            return
    raise RuntimeError("the replay never showed the incident")


async def incident(recording: Path, name: str, size: tuple[int, int],
                   keys: tuple[str, ...] = ()) -> None:
    from opscockpit.replay import Replay
    from opscockpit.store import Store
    from opscockpit.ui.app import CockpitApp

    store = Store.open(recording, read_only=True)
    app = CockpitApp(replay=Replay(store, speed=60.0, paused=True, at=AT), readonly=True)
    async with app.run_test(size=size) as pilot:
        await _settle(pilot, app, AT)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(1.0)
        app.save_screenshot(filename=name, path=str(OUT))
    store.close()


async def live(tmp: Path, name: str, size: tuple[int, int]) -> None:
    from opscockpit.config import load_config
    from opscockpit.store import Store
    from opscockpit.ui.app import CockpitApp
    from opscockpit.wiring import build_engine

    config = load_config(None, env={"XDG_CONFIG_HOME": str(tmp)})
    store = Store.open(tmp / "live.duckdb")
    app = CockpitApp(build_engine(config, store), thresholds=config.thresholds)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(6.0)  # a few polls, so rates and sparklines have data
        app.save_screenshot(filename=name, path=str(OUT))
    store.close()


def main() -> None:
    from opscockpit.commands.demo import build_incident_recording

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        recording = build_incident_recording(Path(tmp) / "incident.duckdb")
        shots = [
            incident(recording, "incident-80x24.svg", (80, 24)),
            incident(recording, "incident-200x50.svg", (200, 50)),
            incident(recording, "timeline-200x50.svg", (200, 50), ("t",)),
            live(Path(tmp), "live-80x24.svg", (80, 24)),
        ]
        for shot in shots:
            asyncio.run(shot)
    for path in sorted(OUT.glob("*.svg")):
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
