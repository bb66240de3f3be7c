"""A fixed cockpit picture for Pilot and snapshot tests: no clock, no psutil."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from opscockpit.analyzers.anomalies import AnomaliesView, AnomalyMark
from opscockpit.snapshot import Process, Snapshot, TelemetryView
from opscockpit.sources.base import HealthState, SourceHealth

AT = datetime(2026, 11, 22, 9, 30, 0, tzinfo=UTC)


def fixed_anomalies(host: str = "web-1") -> AnomaliesView:
    return AnomaliesView(
        open=(AnomalyMark(f"{host}/cpu_pct", host, "cpu_pct", AT - timedelta(minutes=3), None,
                          0.93, "level high"),),
        recent=(AnomalyMark(f"{host}/mem_pct", host, "mem_pct", AT - timedelta(minutes=40),
                            AT - timedelta(minutes=31), 0.61),),
    )


def fixed_snapshot(host: str = "web-1", *, anomalies: bool = False) -> Snapshot:
    cores = {f"cpu_pct{{core={i}}}": v for i, v in enumerate([12.0, 55.0, 81.0, 97.0])}
    latest = {
        "cpu_pct": 61.25, **cores, "load1": 2.5, "load5": 1.75, "load15": 1.25,
        "mem_pct": 83.0, "mem_used_bytes": 13.3e9, "mem_total_bytes": 16.0e9,
        "swap_pct": 4.0, "swap_used_bytes": 170e6,
        "disk_pct{mount=/}": 71.0, "disk_pct{mount=/var}": 96.0,
        "net_rx_bps": 1.5e6, "net_tx_bps": 220e3, "disk_read_bps": 0.0, "disk_write_bps": 4.2e6,
        "temp_c{sensor=coretemp:Package id 0}": 64.0,
    }
    wave = tuple(50 + 40 * math.sin(i / 6) for i in range(120))
    history = {"cpu_pct": wave, "mem_pct": tuple(80 + i / 40 for i in range(120)),
               "load1": tuple(1 + i / 60 for i in range(120)),
               "net_rx_bps": tuple(1e6 + 5e5 * math.cos(i / 5) for i in range(120)),
               "disk_write_bps": tuple(4e6 * (i % 10 == 0) for i in range(120))}
    processes = (
        Process(4121, "postgres", "postgres", 88.5, 12.0, 1_900_000_000),
        Process(977, "java", "app", 35.0, 31.5, 5_100_000_000),
        Process(12, "nginx", "www-data", 3.5, 0.4, 48_000_000),
        Process(1, "systemd", "root", 0.0, 0.1, 12_000_000),
    )
    view = TelemetryView(host=host, at=AT, latest=latest, history=history, processes=processes)
    health = (SourceHealth("host", "host", HealthState.OK, last_ok=AT, rows=100),)
    views: dict[str, object] = {"telemetry": (view,)}
    if anomalies:
        views["anomalies"] = fixed_anomalies(host)
    return Snapshot(now=AT, live=True, health=health, views=views)
