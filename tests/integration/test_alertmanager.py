"""The Alertmanager source against the real server (Debian's prometheus-alertmanager)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from opscockpit.records import Alert, Severity
from opscockpit.sources.alertmanager import AlertmanagerSource
from opscockpit.sources.base import SourceError
from tests.conftest import require_binary
from tests.integration.servers import free_port, server

pytestmark = pytest.mark.integration

# One route to a receiver with no integrations: alerts are kept and listed, never sent.
CONFIG = """\
route:
  receiver: "null"
receivers:
  - name: "null"
"""
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def am_alert(name: str, instance: str, severity: str, **times: datetime) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "instance": instance, "severity": severity},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": START.isoformat(),
        **{k: v.isoformat() for k, v in times.items()},
    }


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    binary = require_binary("prometheus-alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip: one server, no port to collide on
    ]
    with server(args, tmp_path / "alertmanager.log", f"{url}/-/ready"):
        yield url


def post(url: str, alerts: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=5)
    assert response.status_code == 200, response.text


async def poll_until(source: AlertmanagerSource, count: int, timeout_s: float = 5) -> list[Alert]:
    """Poll until ``count`` alerts have arrived; what the source emits is never repeated."""
    got: list[Alert] = []
    deadline = asyncio.get_running_loop().time() + timeout_s
    while len(got) < count and asyncio.get_running_loop().time() < deadline:
        got.extend((await source.poll(None)).alerts)
        if len(got) < count:
            await asyncio.sleep(0.2)
    return got


async def test_alerts_posted_to_alertmanager_arrive_and_resolve(alertmanager: str) -> None:
    source = AlertmanagerSource("am", {"url": alertmanager})
    assert (await source.poll(None)).alerts == []  # a fresh server lists nothing

    post(alertmanager, [
        am_alert("DiskFull", "web-1:9100", "critical"),
        am_alert("HighLatency", "api-2:8080", "warning"),
    ])
    firing = sorted(await poll_until(source, 2), key=lambda a: a.title)
    assert [(a.title, a.host, a.severity, a.status) for a in firing] == [
        ("DiskFull", "web-1", Severity.CRITICAL, "firing"),
        ("HighLatency", "api-2", Severity.WARNING, "firing"),
    ]
    assert firing[0].message == "DiskFull on web-1:9100"
    assert firing[0].ts == START and firing[0].source == "am"
    assert (await source.poll(None)).alerts == []  # still firing, nothing new: no repeat

    post(alertmanager, [am_alert("DiskFull", "web-1:9100", "critical",
                                 endsAt=datetime.now(UTC) - timedelta(seconds=1))])
    resolved = await poll_until(source, 1)
    assert [(a.title, a.status, a.id) for a in resolved] == [
        ("DiskFull", "resolved", firing[0].id),
    ]
    assert (await source.poll(None)).alerts == []  # resolved once only


async def test_filter_matchers_reach_alertmanager(alertmanager: str) -> None:
    post(alertmanager, [
        am_alert("DiskFull", "web-1:9100", "critical"),
        am_alert("HighLatency", "api-2:8080", "warning"),
    ])
    source = AlertmanagerSource("am", {"url": alertmanager, "filter": ['severity="critical"']})
    assert [a.title for a in await poll_until(source, 1)] == ["DiskFull"]

    bad = AlertmanagerSource("am", {"url": alertmanager, "filter": ["severity~~"]})
    with pytest.raises(SourceError, match=r"400 Bad Request.*bad matcher format.*check filter"):
        await bad.poll(None)
