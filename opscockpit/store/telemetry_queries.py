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


def series_window(
    store: Store, host: str, metrics: list[str], start: datetime, end: datetime
) -> dict[str, list[float]]:
    """Values of the named series of one host with ``start < ts <= end``, oldest first."""
    if not metrics:
        return {}
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
