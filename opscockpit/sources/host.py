"""This host: CPU, load, memory, disks, I/O rates, temperatures (psutil) and processes."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any, ClassVar

import psutil

from opscockpit.clock import WallClock
from opscockpit.records import MetricSample, ProcessSample
from opscockpit.sources.base import Batch, Option, Source
from opscockpit.sources.counter_rates import CounterRates
from opscockpit.sources.process_table import process_table

# Pseudo and container file systems whose usage says nothing about the host's disks.
_SKIP_FSTYPES = frozenset(
    {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2",
     "autofs", "devpts", "mqueue", "tracefs", "debugfs", "securityfs", "fusectl", "nsfs"}
)


class HostSource(Source):
    kind: ClassVar[str] = "host"
    summary: ClassVar[str] = "this machine through psutil (CPU, memory, disks, I/O, processes)"
    options: ClassVar[tuple[Option, ...]] = (
        Option("host", str, "", help="name the samples carry (default: this host's name)"),
        Option("top_processes", int, 12, help="processes kept per poll, by CPU and by memory"),
        Option("per_core", bool, True, help="record each core's CPU as its own series"),
    )
    default_interval_s: ClassVar[float] = 1.0
    default_timeout_s: ClassVar[float] = 5.0

    def __init__(self, name: str, settings: dict[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.host = self.settings["host"] or socket.gethostname()
        self._clock = WallClock()
        self._io_rates = CounterRates()
        # The first cpu_percent(None) call only primes psutil's counters.
        psutil.cpu_percent(interval=None, percpu=True)
        self._process_table = process_table()
        self._memory_total = psutil.virtual_memory().total or 1

    def poll(self, since: datetime | None) -> Batch:
        ts = self._clock.now()
        values: dict[str, float] = {}
        values.update(self._cpu())
        values.update(self._memory())
        values.update(self._disks())
        values.update(self._io(time.monotonic()))
        values.update(self._temperatures())
        metrics = [MetricSample(ts, self.host, name, v) for name, v in values.items()]
        return Batch(metrics=metrics, processes=self._processes(ts))

    def _cpu(self) -> dict[str, float]:
        cores = psutil.cpu_percent(interval=None, percpu=True)
        out = {"cpu_pct": sum(cores) / len(cores) if cores else 0.0}
        if self.settings["per_core"]:
            out.update({f"cpu_pct{{core={i}}}": v for i, v in enumerate(cores)})
        if hasattr(os, "getloadavg"):
            one, five, fifteen = os.getloadavg()
            out.update({"load1": one, "load5": five, "load15": fifteen})
        return out

    def _memory(self) -> dict[str, float]:
        mem = psutil.virtual_memory()
        swap = psutil.swap_memory()
        return {
            "mem_pct": mem.percent,
            "mem_used_bytes": float(mem.total - mem.available),
            "mem_total_bytes": float(mem.total),
            "swap_pct": swap.percent,
            "swap_used_bytes": float(swap.used),
        }

    def _disks(self) -> dict[str, float]:
        out: dict[str, float] = {}
        seen: set[str] = set()
        for part in psutil.disk_partitions(all=False):
            if part.fstype in _SKIP_FSTYPES or part.device in seen:
                continue
            seen.add(part.device)
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue  # unreadable or vanished mount: skip it, keep the rest
            out[f"disk_pct{{mount={part.mountpoint}}}"] = usage.percent
            out[f"disk_used_bytes{{mount={part.mountpoint}}}"] = float(usage.used)
        return out

    def _io(self, t: float) -> dict[str, float]:
        counters: dict[str, float] = {}
        disk = psutil.disk_io_counters(perdisk=False)
        if disk is not None:
            counters["disk_read_bps"] = float(disk.read_bytes)
            counters["disk_write_bps"] = float(disk.write_bytes)
        net = psutil.net_io_counters(pernic=False)
        if net is not None:
            counters["net_rx_bps"] = float(net.bytes_recv)
            counters["net_tx_bps"] = float(net.bytes_sent)
        return self._io_rates.update(counters, t)

    def _temperatures(self) -> dict[str, float]:
        reader = getattr(psutil, "sensors_temperatures", None)
        if reader is None:
            return {}
        try:
            sensors = reader()
        except (OSError, RuntimeError):
            return {}
        out: dict[str, float] = {}
        for chip, entries in sensors.items():
            for i, entry in enumerate(entries):
                label = entry.label or str(i)
                out[f"temp_c{{sensor={chip}:{label}}}"] = float(entry.current)
        return out

    def _processes(self, ts: datetime) -> list[ProcessSample]:
        total = self._memory_total
        rows = [
            ProcessSample(ts=ts, host=self.host, pid=p.pid, name=p.name, user=p.user,
                          cpu_pct=p.cpu_pct, mem_pct=100.0 * p.rss_bytes / total,
                          rss_bytes=p.rss_bytes)
            for p in self._process_table.scan()
        ]
        n = self.settings["top_processes"]
        by_cpu = sorted(rows, key=lambda p: p.cpu_pct, reverse=True)[:n]
        by_mem = sorted(rows, key=lambda p: p.mem_pct, reverse=True)[:n]
        keep = {p.pid: p for p in by_cpu + by_mem}
        return list(keep.values())
