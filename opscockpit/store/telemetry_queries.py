"""The queries the Telemetry pane and host summaries need."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from opscockpit.store.duck import Store


def latest_metrics(store: Store, host: str, at: datetime | None = None) -> pd.DataFrame:
    """The newest value of every metric of ``host`` at or before ``at``."""
    clause, params = ("AND ts <= ?", [host, at]) if at is not None else ("", [host])
    return store.query(
        f"""SELECT metric, arg_max(value, ts) AS value, max(ts) AS ts
            FROM metrics WHERE host = ? {clause} GROUP BY metric ORDER BY metric""",
        params,
    )


def series_window(
    store: Store, host: str, metrics: list[str], start: datetime, end: datetime
) -> pd.DataFrame:
    """Long frame ``ts, metric, value`` of the named series of one host in a window."""
    if not metrics:
        return pd.DataFrame(columns=["ts", "metric", "value"])
    marks = ", ".join("?" for _ in metrics)
    return store.query(
        f"""SELECT ts, metric, value FROM metrics
            WHERE host = ? AND metric IN ({marks}) AND ts > ? AND ts <= ?
            ORDER BY ts""",
        [host, *metrics, start, end],
    )


def latest_processes(store: Store, host: str, at: datetime | None = None) -> pd.DataFrame:
    """The process list of the newest poll of ``host`` at or before ``at``."""
    clause, params = ("AND ts <= ?", [host, at]) if at is not None else ("", [host])
    return store.query(
        f"""SELECT pid, name, "user", cpu_pct, mem_pct, rss_bytes, ts FROM processes
            WHERE host = ? AND ts = (SELECT max(ts) FROM processes WHERE host = ? {clause})
            ORDER BY cpu_pct DESC""",
        [host, *params],
    )


def hosts(store: Store) -> list[str]:
    frame = store.query("SELECT DISTINCT host FROM metrics ORDER BY host")
    return [str(h) for h in frame["host"]]
