"""The process table: /proc read directly agrees with psutil; CPU, names and PID reuse."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from opscockpit.sources.process_table import ProcFsTable, PsutilTable

linux_only = pytest.mark.skipif(not ProcFsTable.available(), reason="needs Linux /proc")


def _stat_line(pid: int, comm: str, utime: int, stime: int, started: int, rss_pages: int) -> str:
    # Fields 3.. of proc(5): state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice threads itreal starttime vsize rss ...
    rest = ["S", "1", "1", "1", "0", "-1", "0", "0", "0", "0", "0", str(utime), str(stime),
            "0", "0", "20", "0", "1", "0", str(started), "1000", str(rss_pages), "0"]
    return f"{pid} ({comm}) {' '.join(rest)}\n"


def _fake_process(proc: Path, pid: int, comm: str, *, utime: int = 0, started: int = 100,
                  rss_pages: int = 10, cmdline: str = "") -> None:
    folder = proc / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stat").write_text(_stat_line(pid, comm, utime, 0, started, rss_pages))
    (folder / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode() + b"\0")


@linux_only
def test_agrees_with_psutil_on_this_host() -> None:
    ours = {p.pid: p for p in ProcFsTable().scan()}
    mine = ours[os.getpid()]
    me = psutil.Process()
    assert mine.name == me.name()
    assert mine.user == me.username()
    assert abs(mine.rss_bytes - me.memory_info().rss) < 0.2 * me.memory_info().rss
    theirs = {p.pid for p in psutil.process_iter()}
    assert len(set(ours) & theirs) >= 0.9 * len(theirs)


@linux_only
def test_a_busy_process_shows_its_cpu_and_an_idle_one_none() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        table = ProcFsTable()
        first = {p.pid: p for p in table.scan()}
        assert first[busy.pid].cpu_pct == 0.0  # nothing to compare with yet
        time.sleep(1.0)
        rows = {p.pid: p for p in table.scan()}
        assert rows[busy.pid].cpu_pct > 40.0
        assert rows[idle.pid].cpu_pct < 5.0
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()


def test_names_with_spaces_and_parentheses_and_cut_names(tmp_path: Path) -> None:
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "stat").write_text("")
    _fake_process(tmp_path, 10, "a (b) c")
    _fake_process(tmp_path, 11, "postgres-export", cmdline="/usr/lib/postgres-exporter --x")
    _fake_process(tmp_path, 12, "unrelated-cutna", cmdline="/bin/sh -c thing")
    (tmp_path / "cmdline").mkdir()  # not a PID: ignored
    rows = {p.pid: p for p in ProcFsTable(tmp_path).scan()}
    assert rows[10].name == "a (b) c"
    assert rows[11].name == "postgres-exporter"  # comm is cut at 15 bytes
    assert rows[12].name == "unrelated-cutna"  # argv[0] is another program: keep comm
    assert rows[10].rss_bytes == 10 * os.sysconf("SC_PAGE_SIZE")


def test_cpu_is_ticks_over_time_and_a_reused_pid_starts_over(tmp_path: Path) -> None:
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "stat").write_text("")
    _fake_process(tmp_path, 20, "worker", utime=0, started=100)
    table = ProcFsTable(tmp_path)
    hz = os.sysconf("SC_CLK_TCK")
    time.sleep(0.2)
    _fake_process(tmp_path, 20, "worker", utime=hz, started=100)  # one CPU second later
    (cpu,) = [p.cpu_pct for p in table.scan()]
    assert cpu > 100.0  # one second of CPU in ~0.2 s of wall time: several cores' worth
    _fake_process(tmp_path, 20, "newcomer", utime=5 * hz, started=999)  # PID reused
    (row,) = table.scan()
    assert (row.name, row.cpu_pct) == ("newcomer", 0.0)
    (tmp_path / "20" / "stat").unlink()  # exited between listing and reading
    assert table.scan() == []


def test_the_psutil_table_sees_this_process() -> None:
    rows = {p.pid: p for p in PsutilTable().scan()}
    assert rows[os.getpid()].name == psutil.Process().name()
    assert rows[os.getpid()].rss_bytes > 0
