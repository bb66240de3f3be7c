"""Shape records and frames into columns the store appends in one statement.

Records go in as plain Python column lists (no pandas on the live path: it would
double the cockpit's memory); ready DataFrames or Arrow tables from bulk imports
go in as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from opscockpit.store.schema import TABLE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

TIME_COLUMNS = frozenset(
    {"ts", "ends_at", "started_at", "finished_at", "committed_at", "start", "end", "peak_ts"}
)
_JSON_COLUMNS = frozenset({"labels", "features"})
_TEXT_VALUE_COLUMNS = frozenset({"prediction", "label"})


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _JSON_COLUMNS:
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, Enum):
        return value.value
    if column in _TEXT_VALUE_COLUMNS:
        return str(value)
    return value


def records_to_columns(table: str, records: Sequence[Any]) -> list[list[Any]]:
    """One list per table column, in table order."""
    out: list[list[Any]] = []
    for column in TABLE_COLUMNS[table]:
        try:
            values = [getattr(r, column) for r in records]
        except AttributeError:
            kind = type(records[0]).__name__
            raise ValueError(f"{kind} has no field {column!r} for table {table}") from None
        needs_cell = column in _JSON_COLUMNS or column in _TEXT_VALUE_COLUMNS or (
            values and isinstance(values[0], Enum))
        out.append([_cell(column, v) for v in values] if needs_cell else values)
    return out


def insert_sql(table: str, types: dict[str, str]) -> str:
    """``INSERT`` of whole columns passed as list parameters: one statement per batch.

    ``types`` maps each column to its SQL type as the open database declares it.
    """
    columns = TABLE_COLUMNS[table]
    names = ", ".join(f'"{c}"' for c in columns)
    lists = ", ".join(
        f"unnest(${i}::{types[c]}[])" for i, c in enumerate(columns, start=1)
    )
    return f"INSERT INTO {table} ({names}, origin) SELECT {lists}, ${len(columns) + 1}"


def normalise_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check a ready frame has the table's columns and make its times UTC."""
    import pandas as pd

    columns = TABLE_COLUMNS[table]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame for {table} lacks columns {missing}")
    frame = frame.loc[:, list(columns)].copy()
    for column in TIME_COLUMNS & set(columns):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="mixed")
    return frame
