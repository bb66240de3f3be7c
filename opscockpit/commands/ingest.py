"""``opscockpit ingest KIND FILE... --db F``: import files into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, DbOption, open_store, progress

MAX_SHOWN_ERRORS = 20
PARTIAL_EXIT = 3  # some lines were rejected, every good one is stored
# Without rules no run would count as a deploy; a workflow named like one is the convention.
DEFAULT_DEPLOY_RULES = ("workflow=(?i)deploy",)

app = typer.Typer(help="Import files into the store (alerts, logs, metrics, runs, predictions).",
                  epilog="Example: opscockpit ingest alerts storm.ndjson --db c.duckdb",
                  no_args_is_help=True, rich_markup_mode=None)


def _ingest(kind: str, files: list[Path], db: Path | None, options: dict[str, object]) -> None:
    from opscockpit.config import load_config
    from opscockpit.ingest import IngestError, expand, ingest
    from opscockpit.intake import Intake, default_analyzers

    store = open_store(db or load_config(None).store)
    try:
        try:
            paths = expand(files)
        except IngestError as exc:
            raise CliError(str(exc)) from None
        intake = Intake(store, default_analyzers())
        intake.restore()
        with progress(f"ingest {kind}", len(paths)) as advance:
            try:
                summary = ingest(intake, kind, paths, options,
                                 on_file=lambda _path, _rows: advance(1))
            except IngestError as exc:
                raise CliError(str(exc)) from None
        intake.save()
        store.set_meta(f"ingested_{kind}_at", datetime.now(UTC).isoformat())
        store.checkpoint()
    finally:
        store.close()
    for error in summary.errors[:MAX_SHOWN_ERRORS]:
        typer.echo(f"{error.path}:{error.line}: {error.reason}", err=True)
    if len(summary.errors) > MAX_SHOWN_ERRORS:
        typer.echo(f"... and {len(summary.errors) - MAX_SHOWN_ERRORS} more rejected lines",
                   err=True)
    rejected = f", {len(summary.errors)} lines rejected" if summary.errors else ""
    typer.echo(f"ingested {summary.rows} rows from {summary.files} files into "
               f"{store.path}{rejected}")
    if summary.errors:
        raise typer.Exit(PARTIAL_EXIT)


FilesArg = Annotated[list[Path], typer.Argument(help="Files or directories.")]


@app.command(epilog="Example: opscockpit ingest alerts storm.ndjson am-webhook.json --db c.duckdb")
def alerts(
    files: FilesArg,
    db: DbOption = None,
    format: Annotated[
        str | None, typer.Option(help="ndjson, alertmanager or log (default: detect).")
    ] = None,
) -> None:
    """Alerts: NDJSON, Alertmanager webhook payloads or API v2 alert lists."""
    _ingest("alerts", files, db, {"format": format})


@app.command(epilog="Example: opscockpit ingest logs /var/log/syslog --db c.duckdb")
def logs(
    files: FilesArg,
    db: DbOption = None,
    pattern: Annotated[
        list[str] | None, typer.Option(help="Regex: matching lines become alerts.")
    ] = None,
) -> None:
    """Log files: every line an event with its template; error/critical lines become alerts."""
    _ingest("logs", files, db, {"patterns": tuple(pattern or ())})


@app.command(epilog="Example: opscockpit ingest metrics nab/realKnownCause/*.csv --db c.duckdb")
def metrics(files: FilesArg, db: DbOption = None) -> None:
    """Metrics: CSV timestamp,value; long CSV timestamp,host,metric,value; Prometheus JSON."""
    _ingest("metrics", files, db, {})


@app.command(epilog="Example: opscockpit ingest runs gh-runs.json --deploy 'workflow=^Deploy' "
                     "--db c.duckdb")
def runs(
    files: FilesArg,
    db: DbOption = None,
    provider: Annotated[
        str | None, typer.Option(help="github, gitlab or jenkins (default: detect).")
    ] = None,
    deploy: Annotated[
        list[str] | None,
        typer.Option("--deploy", help="Deploy rule KEY=REGEX[;KEY=REGEX] (workflow, job, "
                                      "environment, branch, service); repeatable. "
                                      "Default: workflow=(?i)deploy"),
    ] = None,
) -> None:
    """CI runs: GitHub Actions workflow runs, GitLab pipelines, Jenkins builds (JSON)."""
    _ingest("runs", files, db, {"provider": provider,
                                "deploys": tuple(deploy or DEFAULT_DEPLOY_RULES)})


@app.command(epilog="Example: opscockpit ingest predictions preds.parquet --labels labels.csv "
                     "--reference ref.csv --db c.duckdb")
def predictions(
    files: FilesArg,
    db: DbOption = None,
    labels: Annotated[
        list[Path] | None, typer.Option(help="Files of late labels, joined by id.")
    ] = None,
    reference: Annotated[
        list[Path] | None,
        typer.Option(help="Reference files (also any *_reference.* file among FILES)."),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", "--map",
                     help="Column mapping ROLE=NAME[,ROLE=NAME] (time, model, version, id, "
                          "prediction, score, label)."),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model for files without a model column.")]
    = None,
    version: Annotated[
        str | None, typer.Option(help="Version for files without a version column.")
    ] = None,
) -> None:
    """Prediction logs: CSV, CSV.gz, Parquet or NDJSON with ts, model, version, features."""
    refs = list(reference or ())
    _ingest("predictions", [*refs, *(f for f in files if f not in refs)], db,
            {"labels": tuple(labels or ()), "columns": tuple(column or ()),
             "reference": tuple(map(str, refs)), "model": model, "version": version})
