"""Drive the real console script in a real terminal (tmux), as a user would."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from opscockpit.store import Store
from tests.conftest import require_binary

pytestmark = pytest.mark.tmux


def _tmux(socket: str, *args: str) -> str:
    out = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                         check=False)
    return out.stdout


def _wait_for(socket: str, pattern: str, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux(socket, "capture-pane", "-p", "-t", "cockpit")
        if re.search(pattern, screen):
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{pattern!r} never appeared; last screen:\n{screen}")


def test_console_script_shows_this_host_and_quits_cleanly(tmp_path: Path) -> None:
    require_binary("tmux")
    script = Path(sys.executable).parent / "opscockpit"
    if not script.exists():
        pytest.fail(f"console script {script} missing: install the package (pip install -e .)")
    db = tmp_path / "cockpit.duckdb"
    rc_file = tmp_path / "rc"
    socket = f"opscockpit-test-{uuid.uuid4().hex[:8]}"
    command = (f"{shlex.quote(str(script))} --db {shlex.quote(str(db))} --refresh 0.5; "
               f"echo $? > {shlex.quote(str(rc_file))}")
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "cockpit", "-x", "80",
                    "-y", "24", "-e", "TERM=xterm-256color", command], check=True)
    try:
        screen = _wait_for(socket, r"CPU .*\d+%")
        assert re.search(r"Mem .*\d+%", screen), screen
        assert "Telemetry" in screen and "Alerts" in screen
        time.sleep(1.5)  # let a few samples land
        _tmux(socket, "send-keys", "-t", "cockpit", "q")
        deadline = time.monotonic() + 20
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rc_file.exists(), "opscockpit did not exit after q"
        assert rc_file.read_text().strip() == "0"
    finally:
        _tmux(socket, "kill-server")
    with Store.open(db, read_only=True) as store:
        assert store.count("metrics") > 10
        assert store.count("processes") > 0
