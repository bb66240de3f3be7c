"""Reading a recording back: rows in time order, its span, where its events are."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from opscockpit.store.duck import Store
from opscockpit.store.schema import BATCH_TABLES, TABLE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

# Rows a source produced (live or imported). Derived rows are re-derived on replay.
RECORDED = "origin <> 'derived'"
EVENT_TABLES = ("alerts", "changes", "pipeline_runs", "annotations")


def recorded_tables() -> list[str]:
    """Tables whose rows a source produced; ``events`` arrive as frames, not records."""
    derived = {"anomalies", "noise_stats"}
    return [t for t in BATCH_TABLES.values() if t not in derived] + ["events"]


def rows_between(store: Store, table: str, after: datetime | None,
                 until: datetime) -> pd.DataFrame:
    """A table's recorded rows with ``after < ts <= until``, oldest first."""
    columns = ", ".join(f'"{c}"' for c in TABLE_COLUMNS[table])
    if after is None:
        return store.query(
            f"SELECT {columns} FROM {table} WHERE {RECORDED} AND ts <= ? ORDER BY ts", [until])
    return store.query(
        f"SELECT {columns} FROM {table} WHERE {RECORDED} AND ts > ? AND ts <= ? ORDER BY ts",
        [after, until],
    )


def recorded_span(store: Store) -> tuple[datetime | None, datetime | None]:
    union = " UNION ALL ".join(
        f"SELECT min(ts) AS lo, max(ts) AS hi FROM {t} WHERE {RECORDED}"
        for t in recorded_tables()
    )
    lo, hi = store.rows(f"SELECT min(lo), max(hi) FROM ({union})")[0]
    return lo, hi


def event_times(store: Store) -> list[datetime]:
    """When something happened: alerts, changes, CI runs and notes, oldest first."""
    union = " UNION ALL ".join(f"SELECT ts FROM {t} WHERE {RECORDED}" for t in EVENT_TABLES)
    return [ts for (ts,) in store.rows(f"SELECT ts FROM ({union}) ORDER BY ts")]


def next_event_after(store: Store, at: datetime) -> datetime | None:
    union = " UNION ALL ".join(
        f"SELECT min(ts) AS ts FROM {t} WHERE {RECORDED} AND ts > ?" for t in EVENT_TABLES
    )
    return store.rows(f"SELECT min(ts) FROM ({union})", [at] * len(EVENT_TABLES))[0][0]
