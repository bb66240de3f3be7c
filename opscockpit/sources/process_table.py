"""The processes of this host with their CPU and memory use, read as cheaply as possible.

The process scan is most of what a live cockpit costs the host it watches: psutil spends
about 60 µs per process (three files and its own bookkeeping). On Linux one read of
``/proc/PID/stat`` holds everything a poll needs (name, CPU ticks, start time, resident
pages), so :class:`ProcFsTable` reads only that, and what does not change over a process's
life (its full name and its user) once per process. Elsewhere :class:`PsutilTable` asks
psutil. Both give what psutil's ``cpu_percent`` gives: CPU time over wall time since the
previous scan, in percent of one core (0 on the scan that first sees a process).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psutil

PROC = Path("/proc")
# /proc/PID/stat truncates the command name to 15 bytes (TASK_COMM_LEN - 1).
_COMM_LEN = 15


@dataclass(frozen=True, slots=True)
class ProcessUse:
    pid: int
    name: str
    user: str
    cpu_pct: float
    rss_bytes: int


@lru_cache(maxsize=512)
def user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


class PsutilTable:
    """Any OS psutil supports."""

    def __init__(self) -> None:
        for proc in psutil.process_iter(["cpu_percent"]):
            proc.info  # noqa: B018 - primes per-process CPU counters

    def scan(self) -> list[ProcessUse]:
        rows = []
        # uids + a cached name lookup: psutil's username does a passwd lookup per process.
        for proc in psutil.process_iter(["pid", "name", "uids", "cpu_percent", "memory_info"]):
            info = proc.info
            mem_info = info.get("memory_info")
            uids = info.get("uids")
            rows.append(ProcessUse(
                pid=int(info["pid"]), name=info.get("name") or "?",
                user=user_name(uids.real) if uids is not None else "",
                cpu_pct=float(info.get("cpu_percent") or 0.0),
                rss_bytes=int(mem_info.rss) if mem_info is not None else 0,
            ))
        return rows


@dataclass(slots=True)
class _Seen:
    started: int  # start time in ticks since boot: a reused PID has another one
    name: str
    user: str
    ticks: int


class ProcFsTable:
    """Linux: one read of ``/proc/PID/stat`` per process and scan."""

    def __init__(self, proc: Path = PROC) -> None:
        self.proc = proc
        self._tick_hz = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._seen: dict[int, _Seen] = {}
        self._last_scan: float | None = None
        self.scan()

    @staticmethod
    def available(proc: Path = PROC) -> bool:
        return (proc / "self" / "stat").is_file()

    def scan(self) -> list[ProcessUse]:
        now = time.monotonic()
        elapsed = now - self._last_scan if self._last_scan is not None else 0.0
        self._last_scan = now
        # Percent of one core per tick of CPU time over the interval.
        per_tick = 100.0 / (elapsed * self._tick_hz) if elapsed > 0 else 0.0
        seen: dict[int, _Seen] = {}
        rows: list[ProcessUse] = []
        for entry in os.scandir(self.proc):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                with open(f"{entry.path}/stat", "rb") as stat_file:
                    stat = stat_file.read()
            except OSError:
                continue  # exited between the listing and the read
            # The name sits in parentheses and may itself hold spaces and parentheses.
            close = stat.rfind(b")")
            fields = stat[close + 2:].split()
            if len(fields) < 22:
                continue
            ticks = int(fields[11]) + int(fields[12])  # utime + stime
            started = int(fields[19])
            before = self._seen.get(pid)
            if before is None or before.started != started:
                comm = stat[stat.find(b"(") + 1:close].decode("utf-8", "replace")
                record = _Seen(started, self._full_name(entry.path, comm), self._user(entry.path),
                               ticks)
                cpu = 0.0
            else:
                record = before
                cpu = max(0, ticks - before.ticks) * per_tick
                record.ticks = ticks
            seen[pid] = record
            rows.append(ProcessUse(pid, record.name, record.user, cpu,
                                   int(fields[21]) * self._page))
        self._seen = seen
        return rows

    @staticmethod
    def _full_name(path: str, comm: str) -> str:
        """``comm``, or the executable's name from the command line when ``comm`` is cut."""
        if len(comm.encode()) < _COMM_LEN:
            return comm
        try:
            with open(f"{path}/cmdline", "rb") as cmdline_file:
                argv0 = cmdline_file.read().split(b"\0", 1)[0].decode("utf-8", "replace")
        except OSError:
            return comm
        base = os.path.basename(argv0)
        return base if base.startswith(comm) else comm

    @staticmethod
    def _user(path: str) -> str:
        try:
            return user_name(os.stat(path).st_uid)
        except OSError:
            return ""


def process_table() -> ProcFsTable | PsutilTable:
    return ProcFsTable() if ProcFsTable.available() else PsutilTable()
