"""``opscockpit serve``: the same cockpit in a browser, for when a browser is all there is.

textual-serve starts ``opscockpit run`` per browser session and relays its terminal over
a WebSocket. It listens on loopback unless told otherwise.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, ConfigOption, DbOption


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
    config: ConfigOption = None,
    readonly: Annotated[bool, typer.Option("--readonly", help="Write nothing to disk.")]
    = False,
    recording: Annotated[
        Path | None, typer.Option("--replay", help="Serve a replay of this recording instead.")
    ] = None,
) -> None:
    """Serve the cockpit to a web browser (each visitor gets their own session)."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise CliError("serve needs textual-serve: pip install 'opscockpit[serve]'") from None
    if not 0 < port < 65536:
        raise CliError(f"--port {port} is not a port number", code=2)
    command = [sys.executable, "-m", "opscockpit"]
    if recording is not None:
        if not recording.exists():
            raise CliError(f"recording {recording} does not exist", code=2)
        command += ["replay", str(recording)]
    else:
        command += ["run"]
        if db is not None:
            command += ["--db", str(db)]
        if config is not None:
            command += ["--config", str(config)]
        if readonly:
            command += ["--readonly"]
    typer.echo(f"opscockpit on http://{host}:{port} (^C stops)", err=True)
    # The child runs under a pseudo-terminal that textual-serve provides, not a tty check.
    Server(shlex.join(command), host=host, port=port, title="opscockpit").serve()
