"""Turn lists of records into column frames the store can append in one call."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from enum import Enum
from typing import Any

import pandas as pd

from opscockpit.store.schema import TABLE_COLUMNS

_TIME_COLUMNS = {"ts", "ends_at", "started_at", "finished_at"}
_JSON_COLUMNS = {"labels", "features"}
_TEXT_VALUE_COLUMNS = {"prediction", "label"}
# Record field name -> column name where they differ.
_RENAMED = {"record_id": "record_id"}


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


def records_to_frame(table: str, records: Sequence[Any]) -> pd.DataFrame:
    """Columns in table order; dicts become JSON text, enums their value, times UTC."""
    columns = TABLE_COLUMNS[table]
    if not records:
        return empty_frame(table)
    names = {f.name for f in fields(records[0])}
    data: dict[str, Any] = {}
    for column in columns:
        attr = _RENAMED.get(column, column)
        if attr not in names:
            raise ValueError(f"{type(records[0]).__name__} has no field {attr!r} for {table}")
        if column in _JSON_COLUMNS or column in _TEXT_VALUE_COLUMNS:
            data[column] = [_cell(column, getattr(r, attr)) for r in records]
        else:
            values = [getattr(r, attr) for r in records]
            if values and isinstance(values[0], Enum):
                values = [v.value for v in values]
            data[column] = values
    frame = pd.DataFrame(data, columns=list(columns))
    return normalise_frame(table, frame)


def normalise_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check a ready frame has the table's columns and make its times UTC."""
    columns = TABLE_COLUMNS[table]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame for {table} lacks columns {missing}")
    frame = frame.loc[:, list(columns)].copy()
    for column in _TIME_COLUMNS & set(columns):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="mixed")
    return frame


def empty_frame(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLE_COLUMNS[table]})
