"""``opscockpit replay``: the full cockpit on a recording, on a virtual clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, has_terminal, open_store
from opscockpit.gc_policy import settle_for_long_run


def replay(
    recording: Annotated[Path, typer.Argument(help="A recording (or any store file).")],
    speed: Annotated[float, typer.Option(help="Virtual seconds per real second (1-10000).")] = 60.0,
    at: Annotated[
        str | None, typer.Option(help="Start at this time (ISO 8601), not the beginning.")
    ] = None,
    paused: Annotated[bool, typer.Option(help="Start paused.")] = False,
) -> None:
    """Replay a recording in the cockpit: pause, speed, step, jump, next event."""
    start = _parse_at(at)
    if not recording.exists():
        raise CliError(f"recording {recording} does not exist", code=2)
    if not 1 <= speed <= 10_000:
        raise CliError("--speed should be between 1 and 10000", code=2)
    if not has_terminal():
        raise CliError("replay needs a terminal; for a headless summary use `opscockpit report`")
    run_replay(recording, speed=speed, at=start, paused=paused)


def run_replay(recording: Path, *, speed: float, at: datetime | None, paused: bool) -> None:
    from opscockpit.replay import Replay
    from opscockpit.store import StoreError
    from opscockpit.ui.app import CockpitApp
    from opscockpit.ui.theme import choose_theme

    store = open_store(recording, read_only=True)
    try:
        try:
            session = Replay(store, speed=speed, at=at, paused=paused)
        except StoreError as exc:
            raise CliError(str(exc)) from None
        theme, glyphs = choose_theme("auto")
        app = CockpitApp(replay=session, theme_name=theme, glyphs=glyphs, readonly=True)
        settle_for_long_run()
        app.run()
    finally:
        store.close()


def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    from opscockpit.records import utc

    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        raise CliError(f"--at {text!r} is not an ISO 8601 time", code=2) from None
