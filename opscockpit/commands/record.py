"""``opscockpit record``: run the configured sources headless into a recording."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, ConfigOption, interactive
from opscockpit.config import ConfigError, load_config, parse_duration
from opscockpit.sources.base import HealthState, SourceHealth


def record(
    out: Annotated[Path, typer.Option("--out", "-o", help="Recording file to create.")],
    duration: Annotated[
        str | None, typer.Option(help="Stop after this long (30s, 10m, 2h); default: until ^C.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the configured sources with no terminal and write everything to a recording."""
    from opscockpit.recording import Recorder
    from opscockpit.store import Store, StoreError
    from opscockpit.wiring import build_engine

    try:
        cfg = load_config(config)
        limit = parse_duration(duration).total_seconds() if duration else None
    except (ConfigError, ValueError) as exc:
        raise CliError(str(exc), code=2) from None
    if out.exists():
        raise CliError(f"recording {out} already exists: choose another --out", code=2)
    try:
        store = Store.open(out)
        recorder = Recorder(out, [s.name for s in cfg.sources], store=store, analysed=True)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    engine = build_engine(cfg, store)
    _report_unhealthy(engine.health)
    if cfg.sources and all(h.state is HealthState.ERROR for h in engine.health):
        recorder.close()
        out.unlink(missing_ok=True)
        raise CliError("no configured source could start: nothing to record", code=2)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, engine.stop)
        runner = asyncio.create_task(engine.run())

        async def flush_every_second() -> None:
            elapsed = 0.0
            while not runner.done():
                await asyncio.sleep(1.0)
                elapsed += 1.0
                await asyncio.to_thread(recorder.flush)
                if limit is not None and elapsed >= limit:
                    engine.stop()

        await asyncio.gather(runner, flush_every_second())

    if interactive():
        typer.echo(f"recording to {out} (^C stops)", err=True)
    try:
        asyncio.run(main())
    finally:
        recorder.close()
    _report_unhealthy(engine.health)
    typer.echo(f"recorded {out}")


def _report_unhealthy(health: Sequence[SourceHealth]) -> None:
    """A headless run has no status bar: say on stderr which sources are not recording."""
    for item in health:
        if item.state in (HealthState.ERROR, HealthState.STALE):
            typer.echo(f"source {item.name} ({item.kind}) {item.state}: {item.reason}", err=True)
