"""`opscockpit serve` answers a browser on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_on_loopback(tmp_path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "opscockpit", "serve", "--port", str(port),
                             "--readonly"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
        assert page is not None, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert page.status_code == 200
        assert "opscockpit" in page.text and "ws" in page.text.lower()
        screen = asyncio.run(_first_frames(port))
        assert "Telemetry" in screen and "Alerts" in screen  # the cockpit itself, drawn
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _first_frames(port: int) -> str:
    """Open a session as the browser page would and read what the cockpit draws."""
    import aiohttp

    received = b""
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"ws://127.0.0.1:{port}/ws") as ws:
        await ws.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
        deadline = time.monotonic() + 30
        while b"Telemetry" not in received and time.monotonic() < deadline:
            try:
                message = await asyncio.wait_for(ws.receive(), 5)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                received += message.data.encode()
            else:
                break
    return received.decode("utf-8", "replace")


def test_serve_refuses_a_bad_port() -> None:
    out = subprocess.run([sys.executable, "-m", "opscockpit", "serve", "--port", "70000"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--port 70000" in out.stderr
