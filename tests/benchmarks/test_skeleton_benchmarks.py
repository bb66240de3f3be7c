"""Benchmarks are not timed tests: CI runs them on tiny sizes to prove they still run."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import require_binary


def _run(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_live_cost_benchmark_runs() -> None:
    require_binary("tmux")
    text = _run("benchmarks.live_cost", "--seconds", "2", "--no-peer")
    assert "CPU s per minute" in text and "peak RSS" in text


def test_replay_report_benchmark_runs() -> None:
    text = _run("benchmarks.replay_report", "--hours", "0.02")
    assert "x real time" in text and "report html" in text
