"""``opscockpit ingest alerts|logs``: alert and log files as store batches.

Only alerts go to the ``alerts`` table. In a log file every line is an *event*, but an
info line is not an alert: storing it as one would drown the clusters and the noise
figures in routine chatter. Log files therefore give the alerts table their alert-level
lines (error and above, or matching ``--pattern``), and every line, with its mined
template, goes to an ``events`` table where the store has one (schema migration 3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opscockpit.ingest import IngestError, ParsedFile
from opscockpit.sources.alert_files import FORMATS, AlertFileResult, parse_alert_file
from opscockpit.sources.base import Batch
from opscockpit.store.schema import TABLE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from opscockpit.analysis.templates import TemplateMiner

EVENTS = "events"
EVENT_COLUMNS = ("ts", "id", "source", "severity", "host", "service", "message",
                 "template_id", "template")


def parse_alerts(path: Path, options: Mapping[str, Any]) -> ParsedFile:
    """NDJSON, Alertmanager webhook payloads or API v2 lists (``format`` forces one)."""
    fmt = options.get("format") or None
    if fmt is not None and fmt not in FORMATS:
        raise IngestError(f"unknown alert format {fmt!r}: choose one of {', '.join(FORMATS)}")
    result = parse_alert_file(path, format=fmt)
    return ParsedFile(path, result.format, result_batch(result), list(result.errors))


def parse_logs(path: Path, options: Mapping[str, Any]) -> ParsedFile:
    """A plain log file: alert-level lines (or ``patterns`` matches) become alerts."""
    patterns = tuple(options.get("patterns") or ())
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise IngestError(f"{path}: --pattern {pattern!r}: {exc}") from None
    result = parse_alert_file(path, format="log", patterns=patterns)
    return ParsedFile(path, result.format, result_batch(result), list(result.errors))


def result_batch(result: AlertFileResult, miner: TemplateMiner | None = None) -> Batch:
    """The alerts of a parsed file, and for a log file its events where they can be kept."""
    batch = Batch()
    if len(result.frame):
        batch.frames["alerts"] = result.frame
    if result.format == "log" and events_supported() and len(result.events):
        batch.frames[EVENTS] = events_frame(result.events, miner)
    return batch


def events_supported() -> bool:
    """Whether this store schema has the ``events`` table (migration 3)."""
    return TABLE_COLUMNS.get(EVENTS) == EVENT_COLUMNS


def events_frame(events: pd.DataFrame, miner: TemplateMiner | None = None) -> pd.DataFrame:
    """Every log line with the template it belongs to once the whole file is mined.

    ``miner`` carries templates across calls (a tailed file); a file ingested alone gets
    its own.
    """
    from opscockpit.analysis.templates import TemplateMiner

    miner = miner if miner is not None else TemplateMiner()
    ids = [miner.add(text).template_id for text in _texts(events["message"])]
    texts = {tid: miner.template(tid) for tid in set(ids)}
    frame = events.loc[:, ["ts", "id", "source", "severity", "host", "service", "message"]]
    return frame.assign(template_id=ids, template=[texts[t] for t in ids]).reset_index(
        drop=True)


def _texts(messages: Sequence[Any]) -> list[str]:
    return ["" if m is None else str(m) for m in messages]
