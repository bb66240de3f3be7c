"""Replay speed and report time on a long recording, each beside its physical limit.

Makes a recording like `opscockpit record` would after N hours on one host (the host
source's 32 series of an 8-core machine and 20 processes every second, an incident with
400 alerts and a deploy halfway), then:

- replay: the recording's rows pushed through the replay source, analyzers and store
  as fast as they go, in 100-virtual-second polls (what 1000x does at 10 polls/s);
  reported as virtual seconds per wall second, beside the time just to read the same
  rows out of DuckDB (the limit of any replay from this file);
- report: md, json and html each built from the recording, beside reading every row
  of the report window into pandas.

    .venv/bin/python -m benchmarks.replay_report --hours 6
    .venv/bin/python -m benchmarks.replay_report --hours 0.05     # CI: proves it runs
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from opscockpit.clock import FrozenClock
from opscockpit.intake import Intake, default_analyzers
from opscockpit.recording import Recorder
from opscockpit.records import Change, ChangeKind
from opscockpit.report.builder import build_report
from opscockpit.report.charts import build_charts
from opscockpit.report.render_html import render_html
from opscockpit.report.render_json import render_json
from opscockpit.report.render_md import render_markdown
from opscockpit.report.source import open_report_source
from opscockpit.sources.base import Batch
from opscockpit.sources.replay import ReplaySource
from opscockpit.store import Store
from opscockpit.store.replay_queries import recorded_tables, rows_between

T0 = datetime(2026, 3, 14, 6, 0, tzinfo=UTC)
# What the host source writes on an 8-core machine with two mounts and four sensors.
METRIC_NAMES = (
    ["cpu_pct", *(f"cpu_pct{{core={i}}}" for i in range(8)), "load1", "load5", "load15",
     "mem_pct", "mem_used_bytes", "mem_total_bytes", "swap_pct", "swap_used_bytes"]
    + [f"disk_{kind}{{mount={m}}}" for m in ("/", "/var") for kind in ("pct", "used_bytes")]
    + ["disk_read_bps", "disk_write_bps", "net_rx_bps", "net_tx_bps"]
    + [f"temp_c{{sensor=coretemp:Core {i}}}" for i in range(4)]
    + ["temp_c{sensor=acpitz:0}", "temp_c{sensor=nvme:Composite}", "temp_c{sensor=pch:0}"]
)
METRICS = len(METRIC_NAMES)
PROCESSES = 20
CHUNK_S = 100.0


def make_recording(path: Path, hours: float, seed: int = 1) -> Path:
    """A host's recording of ``hours``, with its analysis written in (as `record` does)."""
    rng = np.random.default_rng(seed)
    seconds = int(hours * 3600)
    store = Store.open(path)
    recorder = Recorder(path, ["host"], store=store, analysed=True)
    intake = Intake(store, default_analyzers())
    incident = seconds // 2
    for start in range(0, seconds, 600):  # ten minutes per batch, like a long poll backlog
        stop = min(seconds, start + 600)
        ts = pd.date_range(T0 + timedelta(seconds=start), periods=stop - start, freq="s",
                           tz="UTC")
        n = len(ts)
        values = rng.normal(30, 3, size=(n, METRICS))
        hit = (np.arange(start, stop) >= incident) & (np.arange(start, stop) < incident + 300)
        values[hit, :4] += 40
        metrics = pd.DataFrame({
            "ts": np.repeat(ts, METRICS), "host": "web-1",
            "metric": np.tile(METRIC_NAMES, n),
            "value": values.ravel()})
        processes = pd.DataFrame({
            "ts": np.repeat(ts, PROCESSES), "host": "web-1",
            "pid": np.tile(np.arange(100, 100 + PROCESSES), n),
            "name": np.tile([f"proc{i}" for i in range(PROCESSES)], n), "user": "app",
            "cpu_pct": rng.uniform(0, 10, n * PROCESSES),
            "mem_pct": rng.uniform(0, 5, n * PROCESSES), "rss_bytes": 50_000_000})
        batch = Batch(frames={"metrics": metrics, "processes": processes})
        if start <= incident < stop:
            alert_ts = pd.date_range(T0 + timedelta(seconds=incident), periods=400, freq="750ms",
                                     tz="UTC")
            batch.frames["alerts"] = pd.DataFrame({
                "ts": alert_ts, "id": [f"a{i}" for i in range(400)], "source": "am",
                "severity": "error", "host": "web-1", "service": "web", "title": "HighLatency",
                "message": [f"p99 latency {900 + i % 50} ms on web-1" for i in range(400)],
                "labels": '{"alertname": "HighLatency"}', "fingerprint": "fp",
                "status": "firing", "ends_at": None})
            batch.changes.append(Change(T0 + timedelta(seconds=incident - 120), "d1",
                                        ChangeKind.DEPLOY, "web", "1.2.3", "abc", "ci"))
        intake.accept(batch, ts[-1].to_pydatetime())
    intake.save()
    recorder.close()
    return path


def measure_replay(path: Path) -> dict[str, float]:
    recording = Store.open(path, read_only=True)
    lo, hi = recording.time_span()
    span = (hi - lo).total_seconds()
    # The limit: just reading the same rows, in the same chunks, out of the file.
    started = time.perf_counter()
    cursor, now = None, lo
    while now < hi:
        now = min(hi, now + timedelta(seconds=CHUNK_S))
        for table in recorded_tables():
            rows_between(recording, table, cursor, now)
        cursor = now
    read_s = time.perf_counter() - started
    # The replay: the same chunks through the source, the analyzers and a working store.
    clock = FrozenClock(lo)
    source = ReplaySource("replay", recording, clock)
    intake = Intake(Store.open(None), default_analyzers())
    started = time.perf_counter()
    while clock.now() < hi:
        clock.advance(CHUNK_S)
        intake.accept(asyncio.run(source.poll(None)), clock.now())
    replay_s = time.perf_counter() - started
    recording.close()
    return {"virtual_s": span, "replay_s": replay_s, "read_s": read_s,
            "speed_x": span / replay_s, "read_limit_x": span / read_s}


def measure_report(path: Path) -> dict[str, float]:
    store = open_report_source(path)
    started = time.perf_counter()
    for table in ("metrics", "processes", "alerts", "anomalies"):
        store.query(f"SELECT * FROM {table}")  # every row of the window, into pandas
    read_s = time.perf_counter() - started
    out: dict[str, float] = {"read_all_s": read_s}
    for fmt in ("json", "md", "html"):
        started = time.perf_counter()
        report = build_report(store)
        if fmt == "json":
            render_json(report)
        elif fmt == "md":
            render_markdown(report)
        else:
            render_html(report, build_charts(store, report))
        out[f"{fmt}_s"] = time.perf_counter() - started
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=6.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = make_recording(Path(tmp) / "rec.duckdb", args.hours)
        made_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        replay = measure_replay(path)
        report = measure_report(path)
    print(f"recording: {args.hours:g} h, {METRICS} metrics + {PROCESSES} processes per second,"
          f" {size_mb:.0f} MB, made in {made_s:.1f} s")
    print(f"replay: {replay['speed_x']:,.0f}x real time "
          f"(reading the same rows alone: {replay['read_limit_x']:,.0f}x; "
          f"replay/read time ratio {replay['replay_s'] / replay['read_s']:.2f})")
    for fmt in ("json", "md", "html"):
        seconds = report[f"{fmt}_s"]
        print(f"report {fmt:<4}: {seconds:.2f} s = {seconds / report['read_all_s']:.2f}x the "
              f"time to read every row of the window into pandas ({report['read_all_s']:.2f} s)")


if __name__ == "__main__":
    main()
