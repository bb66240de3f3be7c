"""The report's ``hosts`` section: each host's latest CPU and memory."""

from __future__ import annotations

from typing import Any

from opscockpit.report.builder import ReportWindow
from opscockpit.store import Store
from opscockpit.store.report_queries import host_latest


def hosts_section(store: Store, window: ReportWindow) -> dict[str, Any]:
    rows = host_latest(store, window.start, window.end)
    hosts = [
        {"host": host, "cpu_pct": _round(cpu), "mem_pct": _round(mem), "anomalies": int(n)}
        for host, cpu, mem, n in rows
    ]
    # Most important first: hosts with anomalies, then the busiest.
    hosts.sort(key=lambda h: (-h["anomalies"], -(h["cpu_pct"] or 0.0), h["host"]))
    return {"hosts": hosts}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
