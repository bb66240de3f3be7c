"""What the live cockpit costs the host it watches, side by side with glances.

Both run at the same time, in real terminals (tmux, 80x24), refreshing every second,
watching the same host. Measured for each, in the same run:
- time from launch to the first frame showing CPU figures,
- CPU seconds used per minute of live view (process tree, user + system),
- peak resident memory (RSS, process tree).

Usage:
    python3 -m venv benchmarks/.env && benchmarks/.env/bin/pip install glances
    .venv/bin/python -m benchmarks.live_cost --seconds 600
    .venv/bin/python -m benchmarks.live_cost --seconds 3 --no-peer   # CI: proves it runs
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DEFAULT_GLANCES = HERE / ".env" / "bin" / "glances"


@dataclass
class Contender:
    name: str
    command: str
    ready: str  # regex on the captured screen meaning "first frame with figures"
    socket: str = ""
    pid: int = 0
    launched: float = 0.0
    first_frame_s: float | None = None
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0


def _tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                          check=False).stdout


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _rss_mb(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        try:
            if p.name() not in {"sh", "bash", "dash", "tmux: server"}:
                total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def launch(c: Contender, size: tuple[int, int]) -> None:
    c.socket = f"bench-{c.name}-{uuid.uuid4().hex[:6]}"
    c.launched = time.monotonic()
    subprocess.run(["tmux", "-L", c.socket, "new-session", "-d", "-s", "b", "-x", str(size[0]),
                    "-y", str(size[1]), "-e", "TERM=xterm-256color", f"exec {c.command}"],
                   check=True)
    c.pid = int(_tmux(c.socket, "display", "-p", "-t", "b", "#{pane_pid}").strip() or 0)


def run(seconds: float, refresh: float, glances: Path | None, size: tuple[int, int]) -> dict:
    db = Path(tempfile.mkdtemp(prefix="opscockpit-bench-")) / "cockpit.duckdb"
    cockpit = Path(sys.executable).parent / "opscockpit"
    contenders = [Contender("opscockpit",
                            f"{shlex.quote(str(cockpit))} --db {shlex.quote(str(db))} "
                            f"--refresh {refresh:g}",
                            r"CPU .*\d+%")]
    if glances is not None:
        contenders.append(Contender("glances", f"{shlex.quote(str(glances))} -t {refresh:g}",
                                    r"CPU\s+\[.*%"))
    for c in contenders:
        launch(c, size)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(c.first_frame_s is None for c in contenders):
            for c in contenders:
                if c.first_frame_s is None and re.search(c.ready, _tmux(c.socket, "capture-pane",
                                                                        "-p", "-t", "b")):
                    c.first_frame_s = time.monotonic() - c.launched
            time.sleep(0.02)
        # CPU is counted from the first frame on: start-up is the first-frame figure.
        start_cpu = {c.name: _cpu_s(_tree(c.pid)) for c in contenders}
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            for c in contenders:
                c.peak_rss_mb = max(c.peak_rss_mb, _rss_mb(_tree(c.pid)))
            time.sleep(min(1.0, seconds / 3))
        elapsed = time.monotonic() - start
        for c in contenders:
            c.cpu_s = (_cpu_s(_tree(c.pid)) - start_cpu[c.name]) / elapsed * 60
    finally:
        for c in contenders:
            _tmux(c.socket, "kill-server")
        shutil.rmtree(db.parent, ignore_errors=True)
    return {"seconds": seconds, "refresh_s": refresh, "size": f"{size[0]}x{size[1]}",
            "cores": psutil.cpu_count(), "contenders": [asdict(c) for c in contenders]}


def report(result: dict) -> str:
    rows = {c["name"]: c for c in result["contenders"]}
    ours, peer = rows["opscockpit"], rows.get("glances")
    lines = [f"live view {result['seconds']:g}s at {result['refresh_s']:g}s refresh, "
             f"{result['size']}, {result['cores']} cores",
             f"{'':<28}{'opscockpit':>12}{'glances':>12}{'ratio':>8}"]

    def line(label: str, key: str, fmt: str) -> None:
        a = ours[key]
        b = peer[key] if peer else None
        ratio = f"{a / b:.2f}" if (a is not None and b) else "-"
        lines.append(f"{label:<28}{_show(a, fmt):>12}{_show(b, fmt):>12}{ratio:>8}")

    line("first frame (s)", "first_frame_s", ".2f")
    line("CPU s per minute", "cpu_s", ".2f")
    line("peak RSS (MB)", "peak_rss_mb", ".1f")
    return "\n".join(lines)


def _show(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--refresh", type=float, default=1.0)
    parser.add_argument("--glances", type=Path, default=DEFAULT_GLANCES)
    parser.add_argument("--no-peer", action="store_true", help="measure opscockpit alone")
    parser.add_argument("--size", default="80x24")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("live_cost: tmux is needed (apt-get install tmux)")
    glances = None if args.no_peer else args.glances
    if glances is not None and not glances.exists():
        sys.exit(f"live_cost: {glances} not found; python3 -m venv benchmarks/.env && "
                 "benchmarks/.env/bin/pip install glances (or --no-peer)")
    width, height = (int(x) for x in args.size.split("x"))
    result = run(args.seconds, args.refresh, glances, (width, height))
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
