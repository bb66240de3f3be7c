from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opscockpit.clock import FrozenClock
from opscockpit.intake import Intake, default_analyzers
from opscockpit.recording import read_manifest
from opscockpit.replay import Replay
from opscockpit.sources.replay import ReplaySource
from opscockpit.store import Store
from tests.replay.fixtures import POINTS, STEP_S, T0, make_recording

END = T0 + timedelta(seconds=(POINTS - 1) * STEP_S)


def _play(recording: Store, step_s: float, until: datetime, start: datetime = T0):
    """Drive a replay source at ``step_s`` virtual seconds per poll, as a speed would."""
    clock = FrozenClock(start)
    source = ReplaySource("replay", recording, clock)
    work = Store.open(None)
    intake = Intake(work, default_analyzers())
    while clock.now() < until:
        clock.advance(min(step_s, (until - clock.now()).total_seconds()))
        intake.accept(asyncio.run(source.poll(None)), clock.now())
    return intake.views(until), work


def _comparable(views: dict) -> dict:
    anomalies = views["anomalies"]
    return {"telemetry": views["telemetry"], "open": anomalies.open, "recent": anomalies.recent}


def test_replay_at_1x_and_1000x_ends_in_the_same_state(tmp_path: Path) -> None:
    recording = Store.open(make_recording(tmp_path / "rec.duckdb"), read_only=True)
    slow, slow_store = _play(recording, float(STEP_S), END)  # one poll per sample
    fast, fast_store = _play(recording, 1000.0, END)
    assert _comparable(slow) == _comparable(fast)
    for table in ("metrics", "alerts", "changes", "anomalies"):
        assert slow_store.count(table) == fast_store.count(table), table
    assert fast_store.count("metrics") == POINTS * 4
    assert fast_store.count("anomalies") >= 1  # the api-1 spike was found on replay too


def test_scrubbing_back_shows_that_times_state(tmp_path: Path) -> None:
    recording = Store.open(make_recording(tmp_path / "rec.duckdb"), read_only=True)
    target = T0 + timedelta(minutes=20)
    straight, _ = _play(recording, 60.0, target)
    session = Replay(recording, speed=1000.0, paused=True)
    session.jump(END)
    asyncio.run(_drain(session))
    session.jump(target)  # backwards: the state is rebuilt up to the target
    asyncio.run(_drain(session))
    scrubbed = session.engine.intake.views(target)
    assert scrubbed["telemetry"] == straight["telemetry"]
    assert session.engine.store.time_span()[1] <= target


async def _drain(session: Replay) -> None:
    batch = await session.source.poll(None)
    await session.engine.ingest(batch, session.clock.now())


def test_replay_state_knows_span_events_and_controls(tmp_path: Path) -> None:
    recording = Store.open(make_recording(tmp_path / "rec.duckdb"), read_only=True)
    session = Replay(recording, speed=60.0)
    state = session.state()
    assert (state.start, state.end) == (T0, END)
    assert state.marks and all(0 <= m <= 1 for m in state.marks)
    session.faster()
    assert session.state().speed == 300.0
    session.slower()
    session.slower()
    assert session.state().speed == 10.0
    session.toggle_pause()
    assert session.state().paused
    when = session.next_event()
    assert when == T0 + timedelta(seconds=320 * STEP_S)  # the deploy is the first event
    session.step(-10)
    assert session.state().now == when - timedelta(seconds=10)
    assert read_manifest(recording) is not None


def test_record_survives_kill_minus_nine(tmp_path: Path) -> None:
    out = tmp_path / "live.duckdb"
    proc = subprocess.Popen([sys.executable, "-m", "opscockpit", "record", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "OPSCOCKPIT_REFRESH": "0.5"})
    time.sleep(7)
    killed_at = datetime.now(UTC)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store.open(out, read_only=True) as store:
        polls = store.query("SELECT DISTINCT ts FROM metrics ORDER BY ts")["ts"]
        manifest = read_manifest(store)
    assert manifest is not None and manifest.sources == ["host"]
    assert len(polls) >= 3
    newest = polls.iloc[-1].to_pydatetime()
    assert newest >= killed_at - timedelta(seconds=2.0)  # at most the last second is lost
    gaps = polls.diff().dropna().dt.total_seconds()
    assert gaps.max() < 3.0, "a poll went missing"  # 0.5 s cadence, generous for a busy CI


@pytest.mark.parametrize("speed", ["0", "20000"])
def test_replay_refuses_speeds_out_of_range(tmp_path: Path, speed: str) -> None:
    recording = make_recording(tmp_path / "rec.duckdb")
    out = subprocess.run([sys.executable, "-m", "opscockpit", "replay", str(recording),
                          "--speed", speed], capture_output=True, text=True)
    assert out.returncode == 2 and "--speed" in out.stderr
