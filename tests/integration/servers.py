"""Real servers from Debian packages, started on loopback for one test and stopped after."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` when it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            pass  # not up yet
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready after {timeout_s:.0f} s")


def http_ok(url: str) -> bool:
    return httpx.get(url, timeout=1.0).status_code == 200


@contextmanager
def server(args: list[str], log: Path, ready_url: str, timeout_s: float = 30.0) -> Iterator[None]:
    """Run ``args`` until the block ends; ready once ``ready_url`` answers 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            try:
                wait_until(lambda: proc.poll() is None and http_ok(ready_url), timeout_s,
                           f"{Path(args[0]).name} at {ready_url}")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; its log:\n{log.read_text()[-2000:]}") from None
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
