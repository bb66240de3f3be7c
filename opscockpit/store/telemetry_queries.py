"""The small queries the Telemetry pane needs, answered as tuples (no pandas)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from opscockpit.store.duck import Store

# "Latest" looks this far back first, so a refresh costs the same after a day as after
# a minute; only a host that went quiet longer ago needs the full scan.
RECENT = timedelta(minutes=15)


def latest_metrics(store: Store, host: str, at: datetime) -> list[tuple[str, float, datetime]]:
    """``(metric, value, ts)`` of the newest sample of each metric of ``host`` at ``at``."""
    sql = """SELECT metric, arg_max(value, ts), max(ts) FROM metrics
             WHERE host = ? AND ts <= ? AND ts > ? GROUP BY metric"""
    found = store.rows(sql, [host, at, at - RECENT]) or store.rows(
        sql, [host, at, datetime.min.replace(tzinfo=at.tzinfo)])
    return [(str(m), float(v), ts) for m, v, ts in found]


# Sparklines want points, not minutes: slow series (1-minute, 5-minute data) look further
# back, up to this far, to find enough of them.
SPARSE_LOOKBACK = timedelta(hours=12)
SPARSE_POINTS = 30
SPARK_POINTS = 120


def series_window(
    store: Store, host: str, metrics: list[str], start: datetime, end: datetime
) -> dict[str, list[float]]:
    """Recent values of the named series of one host up to ``end``, oldest first.

    Everything in ``(start, end]``; a series with fewer than SPARSE_POINTS there gets
    its last SPARK_POINTS values from up to SPARSE_LOOKBACK back instead.
    """
    if not metrics:
        return {}
    out = _values(store, host, metrics, start, end)
    sparse = [m for m in metrics if len(out.get(m, ())) < SPARSE_POINTS]
    if sparse:
        marks = ", ".join("?" for _ in sparse)
        rows = store.rows(
            f"""SELECT metric, value FROM (
                    SELECT metric, value, ts, row_number() OVER (
                        PARTITION BY metric ORDER BY ts DESC) AS back
                    FROM metrics WHERE host = ? AND metric IN ({marks})
                    AND ts > ? AND ts <= ?)
                WHERE back <= ? ORDER BY ts""",
            [host, *sparse, end - SPARSE_LOOKBACK, end, SPARK_POINTS],
        )
        found: dict[str, list[float]] = {}
        for metric, value in rows:
            found.setdefault(str(metric), []).append(float(value))
        out.update(found)
    return out


def _values(store: Store, host: str, metrics: list[str], start: datetime,
            end: datetime) -> dict[str, list[float]]:
    marks = ", ".join("?" for _ in metrics)
    out: dict[str, list[float]] = {}
    for metric, value in store.rows(
        f"""SELECT metric, value FROM metrics
            WHERE host = ? AND metric IN ({marks}) AND ts > ? AND ts <= ? ORDER BY ts""",
        [host, *metrics, start, end],
    ):
        out.setdefault(str(metric), []).append(float(value))
    return out


def latest_processes(store: Store, host: str, at: datetime) -> list[tuple[Any, ...]]:
    """``(pid, name, user, cpu_pct, mem_pct, rss_bytes)`` of the newest poll at ``at``."""
    newest_sql = "SELECT max(ts) FROM processes WHERE host = ? AND ts <= ? AND ts > ?"
    newest = store.rows(newest_sql, [host, at, at - RECENT])[0][0] or store.rows(
        newest_sql, [host, at, datetime.min.replace(tzinfo=at.tzinfo)])[0][0]
    if newest is None:
        return []
    # Two steps: DuckDB plans "ts = (SELECT max(ts) ...)" as a join, ten times slower.
    return store.rows(
        """SELECT pid, name, "user", cpu_pct, mem_pct, rss_bytes FROM processes
           WHERE host = ? AND ts = ? ORDER BY cpu_pct DESC""",
        [host, newest],
    )


def hosts(store: Store, at: datetime) -> list[str]:
    """Hosts with samples at or before ``at``, the most recently seen first."""
    sql = """SELECT host FROM metrics WHERE ts <= ? AND ts > ?
             GROUP BY host ORDER BY max(ts) DESC, host"""
    found = store.rows(sql, [at, at - RECENT]) or store.rows(
        sql, [at, datetime.min.replace(tzinfo=at.tzinfo)])
    return [str(h) for (h,) in found]
