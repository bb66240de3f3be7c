"""The queries model health needs: model versions, their observations with late labels
joined, and the reference each was declared to have.

A label that arrives after its prediction is stored as a *label row*: an observation with
no prediction and no features, carrying only ``record_id`` and ``label``. Reading a model's
observations joins the latest label row of each id onto its prediction, whichever came
first, so the order in which files or polls delivered them does not matter.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from opscockpit.store.duck import Store

if TYPE_CHECKING:
    import pandas as pd



def _label_row(alias: str = "") -> str:
    """The condition that makes a row a late label, not a prediction."""
    p = f"{alias}." if alias else ""
    return f"({p}prediction IS NULL AND ({p}features IS NULL OR {p}features = '{{}}'))"


_LABEL_ROW = _label_row()
_RANGE = "(? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?)"


def observation_count(store: Store) -> int:
    """Prediction rows in the store (label rows are not counted)."""
    row = store.rows(f"SELECT count(*) FROM model_observations WHERE NOT {_LABEL_ROW}")
    return int(row[0][0]) if row else 0


def model_versions(
    store: Store, start: datetime | None = None, end: datetime | None = None
) -> list[tuple[str, str, int, datetime, datetime]]:
    """``(model, version, rows, first ts, last ts)`` of each version with predictions in
    the range, by model and version."""
    return [
        (str(m), str(v), int(n), lo, hi)
        for m, v, n, lo, hi in store.rows(
            f"""SELECT model, version, count(*), min(ts), max(ts) FROM model_observations
                WHERE NOT {_LABEL_ROW} AND {_RANGE}
                GROUP BY model, version ORDER BY model, version""",
            [start, start, end, end],
        )
    ]


def model_observations(
    store: Store, model: str, version: str,
    start: datetime | None = None, end: datetime | None = None,
) -> pd.DataFrame:
    """One version's prediction rows with ``start <= ts <= end``, by time, each with its
    latest late label (else its own)."""
    return store.query(
        f"""WITH late AS (
                SELECT record_id, arg_max(label, ts) AS label FROM model_observations
                WHERE {_LABEL_ROW} AND label IS NOT NULL AND record_id IS NOT NULL
                GROUP BY record_id)
            SELECT o.ts, o.model, o.version, o.record_id, o.features, o.prediction, o.score,
                   coalesce(late.label, o.label) AS label
            FROM model_observations o LEFT JOIN late ON late.record_id = o.record_id
            WHERE o.model = ? AND o.version = ? AND NOT {_label_row('o')}
              AND (? IS NULL OR o.ts >= ?) AND (? IS NULL OR o.ts <= ?)
            ORDER BY o.ts""",
        [model, version, start, start, end, end],
    )


def model_frame(
    store: Store, model: str, version: str,
    start: datetime | None = None, end: datetime | None = None,
) -> pd.DataFrame:
    """:func:`model_observations` with the JSON features already one column per feature:
    DuckDB infers each feature's type over the rows and parses them (several times faster
    than decoding a JSON string per row in Python). A feature whose values mix types comes
    back decoded value by value, so data quality still sees the odd ones."""
    import json

    where = f"""model = ? AND version = ? AND NOT {_LABEL_ROW}
                AND (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?)"""
    params: list[Any] = [model, version, start, start, end, end]
    found = store.rows(f"""SELECT json_group_structure(features::JSON)
                           FROM model_observations WHERE {where}""", params)
    spec = json.loads(found[0][0]) if found and found[0][0] else None
    if not isinstance(spec, dict) or not spec:
        return model_observations(store, model, version, start, end).drop(columns="features")
    # Only scalars become typed columns; objects, lists and mixed types stay JSON text.
    typed = {k: v if v in _SCALAR else "JSON" for k, v in spec.items()}
    structure = json.dumps(typed).replace("'", "''")
    frame = store.query(
        f"""WITH late AS (
                SELECT record_id, arg_max(label, ts) AS label FROM model_observations
                WHERE {_LABEL_ROW} AND label IS NOT NULL AND record_id IS NOT NULL
                GROUP BY record_id),
            o AS (SELECT * FROM model_observations WHERE {where})
            SELECT o.ts, o.model, o.version, o.record_id, o.prediction, o.score,
                   coalesce(late.label, o.label) AS label,
                   unnest(json_transform(o.features, '{structure}'))
            FROM o LEFT JOIN late ON late.record_id = o.record_id
            ORDER BY o.ts""",
        params,
    )
    for name, kind in typed.items():
        if kind == "JSON" and name in frame:
            frame[name] = [None if v is None or v != v else json.loads(v)
                           for v in frame[name].to_numpy(dtype=object)]
    return frame


_SCALAR = frozenset({"DOUBLE", "BIGINT", "UBIGINT", "BOOLEAN", "VARCHAR"})


def annotations_of_kind(store: Store, kind: str) -> list[tuple[datetime, str, str, str]]:
    """``(ts, target, text, origin)`` of every annotation of one kind, oldest first."""
    return [
        (ts, str(target or ""), str(text or ""), str(origin))
        for ts, target, text, origin in store.rows(
            """SELECT ts, target, text, origin FROM annotations WHERE kind = ?
               ORDER BY ts, id""",
            [kind],
        )
    ]


def first_seen(store: Store) -> dict[tuple[str, str], Any]:
    """When each model version's first prediction was made."""
    return {(str(m), str(v)): ts for m, v, ts in store.rows(
        f"""SELECT model, version, min(ts) FROM model_observations WHERE NOT {_LABEL_ROW}
            GROUP BY model, version""")}
