"""What a report reads: a store as it is, or a recording replayed into memory first.

A recording made by ``opscockpit record`` or ``demo`` carries the analyzers' rows and is
read as it is. One made beside a live cockpit (``--record``) holds only what the
sources produced; replaying it through the same analyzers as live rebuilds the
anomalies and clusters exactly as the cockpit showed them.
"""

from __future__ import annotations

from pathlib import Path

from opscockpit.intake import Intake, default_analyzers
from opscockpit.recording import read_manifest
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from opscockpit.store.replay_queries import recorded_span, recorded_tables, rows_between


def open_report_source(path: Path) -> Store:
    """The store to report on; the caller closes it."""
    store = Store.open(path, read_only=True)
    manifest = read_manifest(store)
    if manifest is None or manifest.analysed:
        return store  # a store, or a recording whose analysis was written with it
    try:
        return replay_into_memory(store)
    finally:
        store.close()


def replay_into_memory(recording: Store) -> Store:
    _, end = recorded_span(recording)
    work = Store.open(None)
    intake = Intake(work, default_analyzers())
    if end is None:
        return work
    batch = Batch()
    for table in recorded_tables():
        frame = rows_between(recording, table, None, end)
        if len(frame):
            batch.frames[table] = frame
    intake.accept(batch, end, origin="replay")
    intake.save()
    return work
