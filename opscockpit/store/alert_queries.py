"""The queries the Alerts pane, its analyzer and the report section need.

An alert is identified by ``(id, status, ts)``: the same firing alert re-sent by
Alertmanager every ``repeat_interval``, or a file ingested twice, is one alert, while
its resolution (same id, status ``resolved``) is a second, meaningful row. Every reader
here sees alerts de-duplicated that way, so the live analyzer and the report (which
re-clusters what these queries return) count the same alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opscockpit.store.duck import Store

if TYPE_CHECKING:
    import pandas as pd

ALERT_FIELDS = ("ts", "id", "source", "severity", "host", "service", "title", "message",
                "labels", "fingerprint", "status", "ends_at")
FEEDBACK_KINDS = ("actionable", "noise", "acknowledged")
_FIELDS_SQL = ", ".join(f'"{c}"' for c in ALERT_FIELDS)
# First row of each (id, status, ts): exact repeats collapse, resolutions stay.
_DEDUPED = f"""SELECT {_FIELDS_SQL} FROM alerts WHERE {{where}}
               QUALIFY row_number() OVER (PARTITION BY id, status, ts ORDER BY origin) = 1"""


def has_alerts(store: Store) -> bool:
    return bool(store.rows("SELECT 1 FROM alerts LIMIT 1"))


def alert_window(store: Store, start: datetime | None = None,
                 end: datetime | None = None) -> pd.DataFrame:
    """De-duplicated alerts with ``start <= ts <= end`` (either bound optional), by time."""
    sql = _DEDUPED.format(where="(? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?)")
    return store.query(f"SELECT * FROM ({sql}) ORDER BY ts, id", [start, start, end, end])


def alert_keys_since(store: Store, since: datetime | None) -> list[tuple[str, str, datetime]]:
    """``(id, status, ts)`` of every distinct alert at or after ``since`` (all: ``None``)."""
    return store.rows(
        "SELECT DISTINCT id, status, ts FROM alerts WHERE ? IS NULL OR ts >= ?",
        [since, since],
    )


def alerts_by_id(store: Store, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows (in :data:`ALERT_FIELDS` order) of the given alert ids, newest first.

    Plain tuples: the pane's drill-down runs on the live path, which stays free of pandas
    wherever the analysis itself does not need it.
    """
    if not ids:
        return []
    sql = _DEDUPED.format(where="id IN (SELECT unnest(?::VARCHAR[]))")
    return store.rows(f"SELECT * FROM ({sql}) ORDER BY ts DESC, id", [list(ids)])


def cluster_feedback(store: Store) -> list[tuple[datetime, str, str, str]]:
    """``(ts, kind, target, text)`` of operator feedback on clusters, oldest first."""
    marks = ", ".join(f"'{k}'" for k in FEEDBACK_KINDS)
    return store.rows(
        f"SELECT ts, kind, target, coalesce(text, '') FROM annotations "
        f"WHERE kind IN ({marks}) ORDER BY ts, id"
    )
