"""What every command shares: one-line errors, store opening, progress on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.store import Store, StoreError


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB store file (default: user data dir).")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config (default: user config dir).")
]


def open_store(path: Path | None, *, read_only: bool = False) -> Store:
    try:
        return Store.open(path, read_only=read_only)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def has_terminal() -> bool:
    """Whether the cockpit can draw: a tty, or a driver that brings its own (serve)."""
    import os

    return (sys.stdout.isatty() or bool(os.environ.get("TEXTUAL_DRIVER"))
            or bool(os.environ.get("OPSCOCKPIT_FORCE_TUI")))


def interactive() -> bool:
    """A progress bar only when a person is watching a real terminal."""
    import os

    return sys.stderr.isatty() and os.environ.get("TERM", "") not in {"", "dumb"}


@contextmanager
def progress(description: str, total: int | None) -> Iterator[callable]:  # type: ignore[valid-type]
    """Yields ``advance(n)``; draws a rich bar on a terminal and nothing otherwise."""
    if not interactive():
        yield lambda n=1: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                  console=_stderr_console()) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def _stderr_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)
