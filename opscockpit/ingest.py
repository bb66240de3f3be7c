"""``opscockpit ingest KIND FILE...``: parse files, keep every good row, name every bad one.

Each kind maps to a parser that turns one file into a :class:`ParsedFile`; the rows go
through the same :class:`~opscockpit.intake.Intake` as live data, so imported history
gets the same anomalies and clusters as if it had been watched live.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from opscockpit.intake import Intake
from opscockpit.sources.alert_formats import LineError
from opscockpit.sources.base import Batch
from opscockpit.store.schema import BATCH_TABLES

# kind -> "module:function"; imported only when that kind is ingested.
PARSERS: dict[str, str] = {
    "alerts": "opscockpit.sources.alert_ingest:parse_alerts",
    "logs": "opscockpit.sources.alert_ingest:parse_logs",
    "metrics": "opscockpit.sources.metric_ingest:parse_metrics",
    "runs": "opscockpit.sources.run_ingest:parse_runs",
    "predictions": "opscockpit.sources.prediction_ingest:parse_predictions",
}


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What a parser made of one file: the rows it could read, the lines it could not."""

    path: Path
    format: str
    batch: Batch
    errors: list[LineError] = field(default_factory=list)


class Parser(Protocol):
    def __call__(self, path: Path, options: Mapping[str, Any]) -> ParsedFile: ...


@dataclass(slots=True)
class IngestSummary:
    files: int = 0
    rows: int = 0
    errors: list[LineError] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


class IngestError(Exception):
    """A whole file or kind cannot be ingested; the message names it."""


def parser_for(kind: str) -> Parser:
    if kind not in PARSERS:
        raise IngestError(f"unknown kind {kind!r}: choose one of {', '.join(PARSERS)}")
    module, _, name = PARSERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, directories as their files (sorted, hidden ones skipped)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            out.append(path)
        else:
            raise IngestError(f"{path}: no such file or directory")
    return out


def ingest(
    intake: Intake,
    kind: str,
    paths: Iterable[Path],
    options: Mapping[str, Any] | None = None,
    on_file: Callable[[Path, int], None] | None = None,
) -> IngestSummary:
    """Parse and store every file; a bad line is reported, never fatal to its file."""
    parse = parser_for(kind)
    summary = IngestSummary()
    for path in expand(paths):
        try:
            parsed = parse(path, options or {})
        except OSError as exc:
            summary.errors.append(LineError(str(path), 0, f"cannot read: {exc.strerror or exc}"))
            continue
        summary.files += 1
        summary.formats[str(path)] = parsed.format
        summary.errors.extend(parsed.errors)
        if len(parsed.batch):
            summary.rows += intake.accept(parsed.batch, data_time(parsed.batch), origin="import")
        if on_file is not None:
            on_file(path, len(parsed.batch))
    return summary


def data_time(batch: Batch) -> datetime:
    """"Now" for imported rows is the newest row's time, never the wall clock."""
    newest: datetime | None = None
    for name in BATCH_TABLES:
        for record in getattr(batch, name):
            ts = record.ts
            if newest is None or ts > newest:
                newest = ts
    for frame in batch.frames.values():
        if "ts" in frame.columns and len(frame):
            ts = frame["ts"].max()
            ts = ts.to_pydatetime() if hasattr(ts, "to_pydatetime") else ts
            if newest is None or ts > newest:
                newest = ts
    return newest or datetime(1970, 1, 1, tzinfo=UTC)
