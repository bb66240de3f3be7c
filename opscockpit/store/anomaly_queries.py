"""Queries over anomaly episodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opscockpit.store.duck import Store

# An episode stored open (end NULL) and later stored closed has two rows: keep the
# closed one, and one row per (series, start). Its peak only grows, so the peak time is
# the last stored row's: scores are rounded when stored, so a tie on the score says nothing.
_EPISODES = """
    SELECT series, any_value(host) AS host, any_value(metric) AS metric, start,
           max("end") AS "end", max(peak_score) AS peak_score, arg_max(peak_ts, rowid) AS peak_ts
    FROM anomalies GROUP BY series, start
"""


def recent_anomalies(store: Store, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """``(series, host, metric, start, end, peak_score)`` overlapping [start, end]."""
    return store.rows(
        f"""SELECT series, host, metric, start, "end", peak_score FROM ({_EPISODES})
            WHERE start <= ? AND coalesce("end", start) >= ?
            ORDER BY start DESC, series""",
        [end, start],
    )


def anomalies_in_window(store: Store, start: datetime | None, end: datetime | None):  # type: ignore[no-untyped-def]
    """The episodes overlapping a report window as a DataFrame, strongest first."""
    return store.query(
        f"""SELECT series, host, metric, start, "end", peak_score, peak_ts FROM ({_EPISODES})
            WHERE (? IS NULL OR start <= ?) AND (? IS NULL OR coalesce("end", start) >= ?)
            ORDER BY peak_score DESC, start, series""",
        [end, end, start, start],
    )
