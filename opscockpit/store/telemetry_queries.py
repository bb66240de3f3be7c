"""The small queries the Telemetry pane needs, answered as tuples (no pandas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opscockpit.store.duck import Store


def latest_metrics(store: Store, host: str, at: datetime) -> list[tuple[str, float, datetime]]:
    """``(metric, value, ts)`` of the newest sample of each metric of ``host`` at ``at``."""
    return [
        (str(m), float(v), ts)
        for m, v, ts in store.rows(
            """SELECT metric, arg_max(value, ts), max(ts) FROM metrics
               WHERE host = ? AND ts <= ? GROUP BY metric""",
            [host, at],
        )
    ]


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
    return store.rows(
        """SELECT pid, name, "user", cpu_pct, mem_pct, rss_bytes FROM processes
           WHERE host = ? AND ts = (SELECT max(ts) FROM processes WHERE host = ? AND ts <= ?)
           ORDER BY cpu_pct DESC""",
        [host, host, at],
    )


def hosts(store: Store, at: datetime) -> list[str]:
    """Hosts with samples at or before ``at``, the most recently seen first."""
    return [
        str(h) for (h,) in store.rows(
            "SELECT host FROM metrics WHERE ts <= ? GROUP BY host ORDER BY max(ts) DESC, host",
            [at],
        )
    ]
