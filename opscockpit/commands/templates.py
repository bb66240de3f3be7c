"""``opscockpit templates FILE.log [--out F.csv]``: mine log templates into LogHub's CSV.

The output is LogHub's structured-CSV convention, ``LineId,Content,EventId,EventTemplate``,
one row per non-empty line, so it can be scored against a LogHub ``*_structured.csv`` or
read by tools written for it. Headers (timestamp, host, ``process[pid]:``) are split off
first: with the LogHub layout when the file is named after a LogHub set, otherwise with
the generic syslog-style splitter.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, progress

EPILOG = "Example: opscockpit templates HDFS_2k.log --out HDFS_structured.csv"


def templates(
    file: Annotated[Path, typer.Argument(help="A log file: one message a line.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="CSV file to write (default: stdout).")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Header layout of a LogHub set (HDFS, BGL, …) or 'generic' "
                          "(default: from the file name, else generic)."),
    ] = None,
    typed: Annotated[
        bool, typer.Option("--typed", help="Keep typed slots (<IP>, <NUM>…) instead of <*>.")
    ] = False,
) -> None:
    """Mine the templates of a log file: LineId,Content,EventId,EventTemplate per line."""
    from opscockpit.analysis.templates import structured
    from opscockpit.sources.alert_files import guess_loghub_dataset
    from opscockpit.sources.log_lines import LOGHUB_FORMATS, split_headers

    layout = guess_loghub_dataset(file) if dataset is None else dataset
    if layout == "generic":
        layout = None
    elif layout is not None and layout not in LOGHUB_FORMATS:
        raise CliError(f"--dataset {dataset}: not a LogHub layout; one of "
                       f"{', '.join(sorted(LOGHUB_FORMATS))} or generic", code=2)
    try:
        with open(file, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise CliError(f"{file}: {exc.strerror or exc}") from None
    contents = split_headers(lines, layout).frame["Content"].tolist()
    with progress(f"templates {file.name}", len(contents)) as advance:
        frame = structured(contents, plain_templates=not typed, on_progress=advance)
    if out is None:
        try:
            frame.to_csv(sys.stdout, index=False)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    try:
        frame.to_csv(out, index=False)
    except OSError as exc:
        raise CliError(f"{out}: {exc.strerror or exc}") from None
    typer.echo(f"mined {len(frame)} lines of {file} into {frame['EventId'].nunique()} "
               f"templates: {out}")
