"""``opscockpit demo``: the cockpit on the bundled sample incident, replayed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, has_terminal

INCIDENT = Path(__file__).resolve().parents[2] / "sample_data" / "incident"
# Start a little before the deploy that causes the incident.
DEMO_START = "2026-03-14T09:55:00+00:00"
DEMO_DEPLOY_RULES = ("workflow=^Deploy",)


def build_incident_recording(path: Path, incident: Path = INCIDENT) -> Path:
    """Ingest the sample incident's files into a new recording at ``path``."""
    from opscockpit.ingest import ingest
    from opscockpit.intake import Intake, default_analyzers
    from opscockpit.recording import Recorder
    from opscockpit.store import Store

    files = {
        "metrics": ([incident / "metrics.csv"], {}),
        "alerts": ([incident / "alerts.ndjson"], {}),
        "runs": ([incident / "runs.json"], {"deploys": DEMO_DEPLOY_RULES}),
        "predictions": ([incident / "predictions_reference.csv.gz",
                         incident / "predictions.csv.gz"],
                        {"labels": (incident / "labels.csv.gz",),
                         "reference": (str(incident / "predictions_reference.csv.gz"),)}),
    }
    missing = [p for paths, _ in files.values() for p in paths if not p.exists()]
    if missing:
        raise CliError(f"sample incident file {missing[0]} is missing "
                       "(python scripts/make_sample_incident.py makes it)")
    store = Store.open(path)
    recorder = Recorder(path, ["sample incident"], store=store, analysed=True)
    intake = Intake(store, default_analyzers())
    for kind, (paths, options) in files.items():
        summary = ingest(intake, kind, paths, options)
        if summary.errors:
            first = summary.errors[0]
            raise CliError(f"sample incident: {first.path}:{first.line}: {first.reason}")
    intake.save()
    recorder.close()
    return path


def demo(
    speed: Annotated[float, typer.Option(help="Virtual seconds per real second.")] = 20.0,
    at: Annotated[str, typer.Option(help="Where to start (ISO 8601).")] = DEMO_START,
    keep: Annotated[
        Path | None, typer.Option(help="Also keep the recording here, for report or replay.")
    ] = None,
) -> None:
    """Replay the bundled sample incident: a deploy, an anomaly, an alert storm, drift."""
    from opscockpit.commands.replay import _parse_at, run_replay

    start = _parse_at(at)
    if not has_terminal() and keep is None:
        raise CliError("demo needs a terminal (or --keep FILE to only build the recording)")
    with tempfile.TemporaryDirectory(prefix="opscockpit-demo-") as tmp:
        recording = build_incident_recording(keep or Path(tmp) / "incident.duckdb")
        if not has_terminal():
            typer.echo(f"recording of the sample incident written to {recording}")
            return
        run_replay(recording, speed=speed, at=start, paused=False)
