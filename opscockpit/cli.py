"""The ``opscockpit`` command: parse, call, print. Errors are one line on stderr."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from opscockpit import __version__
from opscockpit.commands import demo as demo_command
from opscockpit.commands import ingest as ingest_command
from opscockpit.commands import record as record_command
from opscockpit.commands import replay as replay_command
from opscockpit.commands import report as report_command
from opscockpit.commands import serve as serve_command
from opscockpit.commands import templates as templates_command
from opscockpit.commands.common import CliError, ConfigOption, DbOption, has_terminal, open_store
from opscockpit.config import Config, ConfigError, load_config
from opscockpit.gc_policy import settle_for_long_run
from opscockpit.store import StoreError

# The live cockpit writes its samples every few seconds rather than every poll: one
# transaction per poll was the largest cost of the live view after the process scan.
LIVE_APPEND_HOLD_S = 5.0

app = typer.Typer(
    name="opscockpit",
    help="A terminal cockpit: host telemetry, alert clusters, CI pipelines and ML model health.",
    epilog="Example: opscockpit --db ./cockpit.duckdb",
    pretty_exceptions_enable=False,
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"opscockpit {__version__}")
        raise typer.Exit()


app.add_typer(ingest_command.app, name="ingest")
app.command(epilog="Example: opscockpit record --out incident.duckdb --duration 10m")(
    record_command.record)
app.command(epilog="Example: opscockpit demo --speed 60")(demo_command.demo)
app.command(epilog="Example: opscockpit serve --port 8000 --readonly")(serve_command.serve)
app.command(name="templates",
            epilog="Example: opscockpit templates HDFS_2k.log --out HDFS_structured.csv")(
    templates_command.templates)
app.command(epilog="Example: opscockpit report incident.duckdb --format md,html,json --out rep")(
    report_command.report)
app.command(epilog="Example: opscockpit replay incident.duckdb --speed 600 --at 2026-03-14T10:00")(
    replay_command.replay)


@app.callback(invoke_without_command=True)
def default(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    refresh: Annotated[float | None, typer.Option(help="Seconds between refreshes.")] = None,
    readonly: Annotated[bool, typer.Option("--readonly", help="Write nothing to disk.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """Open the live cockpit of this host (the same as `opscockpit run`)."""
    if ctx.invoked_subcommand is None:
        run(db=db, config=config, refresh=refresh, readonly=readonly)


@app.command(epilog="Example: opscockpit run --db /tmp/cockpit.duckdb --refresh 2")
def run(
    db: DbOption = None,
    config: ConfigOption = None,
    refresh: Annotated[float | None, typer.Option(help="Seconds between refreshes.")] = None,
    readonly: Annotated[
        bool, typer.Option("--readonly", help="Write nothing to disk; hide mutating actions.")
    ] = False,
    record: Annotated[
        Path | None, typer.Option("--record", help="Also record the sources to this file.")
    ] = None,
) -> None:
    """Open the live cockpit. With no config: this host via psutil, store in the user data dir."""
    cfg = _config(config, db=db, refresh=refresh, readonly=readonly)
    if record is not None and record.exists():
        raise CliError(f"recording {record} already exists: choose another --record", code=2)
    if not has_terminal():
        raise CliError("the cockpit needs a terminal; for headless use see `opscockpit --help`")
    # Read-only keeps live samples in memory: DuckDB cannot share a file with a writer.
    store = open_store(None if cfg.readonly else cfg.store)
    store.hold_appends(LIVE_APPEND_HOLD_S)
    try:
        from opscockpit.ui.app import CockpitApp
        from opscockpit.ui.theme import choose_theme
        from opscockpit.wiring import build_engine

        engine = build_engine(cfg, store)
        theme, glyphs = choose_theme(cfg.theme)
        app_ = CockpitApp(engine, thresholds=cfg.thresholds, theme_name=theme, glyphs=glyphs,
                          readonly=cfg.readonly, sources=[s.name for s in cfg.sources])
        if record is not None:
            app_.start_recording(record)
        settle_for_long_run()
        app_.run()
    finally:
        if not store.read_only:
            store.checkpoint()
        store.close()


@app.command(epilog="Example: opscockpit sources --config ~/.config/opscockpit/config.toml")
def sources(
    config: ConfigOption = None,
    check: Annotated[bool, typer.Option(help="Poll each configured source once.")] = True,
) -> None:
    """List the source adapters found (built-in and plugins) and the configured ones' health."""
    from opscockpit.source_check import check_sources, print_sources

    cfg = _config(config)
    print_sources(cfg, check_sources(cfg) if check else None)


def _config(
    path: Path | None,
    *,
    db: Path | None = None,
    refresh: float | None = None,
    readonly: bool = False,
) -> Config:
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        raise CliError(str(exc), code=2) from None
    if db is not None:
        cfg = replace(cfg, store=db)
    if refresh is not None:
        if refresh <= 0:
            raise CliError("--refresh should be more than zero seconds", code=2)
        cfg = replace(cfg, refresh_s=refresh)
    if readonly:
        cfg = replace(cfg, readonly=True)
    return cfg


def main() -> None:
    """Console entry point: one clear line on stderr and a non-zero status on failure."""
    try:
        # Without standalone mode click hands back typer.Exit's code instead of exiting.
        code = app(standalone_mode=False)
    except CliError as exc:
        typer.echo(f"opscockpit: {exc}", err=True)
        sys.exit(exc.code)
    except (StoreError, ConfigError) as exc:
        typer.echo(f"opscockpit: {exc}", err=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("opscockpit: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("OPSCOCKPIT_DEBUG"):
            raise
        typer.echo(
            f"opscockpit: internal error: {type(exc).__name__}: {exc} "
            "(set OPSCOCKPIT_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
