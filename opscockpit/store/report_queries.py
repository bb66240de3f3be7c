"""Queries the report sections need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opscockpit.store.duck import Store


def host_latest(
    store: Store, start: datetime | None, end: datetime | None
) -> list[tuple[Any, ...]]:
    """``(host, cpu_pct, mem_pct, anomaly count)`` per host with samples in the window."""
    return store.rows(
        """WITH m AS (
               SELECT host, metric, value, ts FROM metrics
               WHERE host <> '' AND (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?)),
           a AS (
               SELECT host, count(*) AS n FROM anomalies
               WHERE (? IS NULL OR start <= ?) AND (? IS NULL OR coalesce("end", start) >= ?)
               GROUP BY host)
           SELECT m.host,
                  arg_max(value, ts) FILTER (WHERE metric = 'cpu_pct'),
                  arg_max(value, ts) FILTER (WHERE metric = 'mem_pct'),
                  coalesce(any_value(a.n), 0)
           FROM m LEFT JOIN a USING (host)
           GROUP BY m.host ORDER BY m.host""",
        [start, start, end, end, end, end, start, start],
    )


def notes_in_window(
    store: Store, start: datetime | None, end: datetime | None
) -> list[tuple[Any, ...]]:
    """Operator annotations ``(ts, kind, text, target)`` in the window, oldest first."""
    return store.rows(
        """SELECT ts, kind, text, target FROM annotations
           WHERE (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?) ORDER BY ts""",
        [start, start, end, end],
    )


def alert_times(store: Store, start: datetime | None, end: datetime | None) -> list[datetime]:
    """When each firing alert arrived in the window (for the arrivals chart)."""
    return [ts for (ts,) in store.rows(
        """SELECT ts FROM alerts WHERE coalesce(status, 'firing') <> 'resolved'
           AND (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?) ORDER BY ts""",
        [start, start, end, end])]


def series_values(store: Store, host: str, metric: str, start: datetime,
                  end: datetime) -> list[tuple[datetime, float]]:
    return [(ts, float(v)) for ts, v in store.rows(
        """SELECT ts, value FROM metrics WHERE host = ? AND metric = ? AND ts >= ? AND ts <= ?
           AND origin <> 'derived' ORDER BY ts""",
        [host, metric, start, end])]
