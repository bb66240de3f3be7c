"""Alertmanager source, served through respx with the API v2 list recorded from the real
Alertmanager 0.25 (../shared/datasets/alertmanager/api_v2_alerts_recorded.json)."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from opscockpit.records import Severity
from opscockpit.sources.alertmanager import AlertmanagerSource
from opscockpit.sources.base import SourceError
from opscockpit.sources.ci_http import HttpHooks
from tests.conftest import require_dataset

URL = "http://am.example:9093"
ALERTS = f"{URL}/api/v2/alerts"
CANARY = "canary-7f3a9c-SECRET"
NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)


def recorded() -> list[dict[str, Any]]:
    path = require_dataset("alertmanager/api_v2_alerts_recorded.json")
    return json.loads(path.read_text())


def by_name(alerts: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(a for a in alerts if a["labels"]["alertname"] == name)


def source(**settings: Any) -> AlertmanagerSource:
    return AlertmanagerSource("am", {"url": URL, **settings}, hooks=HttpHooks(now=lambda: NOW))


@respx.mock
async def test_new_alerts_are_emitted_once_with_their_fields() -> None:
    body = recorded()
    route = respx.get(ALERTS).respond(json=body)
    am = source()

    first = sorted((await am.poll(None)).alerts, key=lambda a: a.title)
    assert [(a.title, a.host, a.service, a.severity, a.status) for a in first] == [
        ("AlwaysFiring", "", "", Severity.INFO, "firing"),
        ("HostLoadPresent", "127.0.0.1", "node", Severity.WARNING, "firing"),
    ]
    load = first[1]
    assert load.fingerprint == "45289b7917cf967e"
    assert load.ts == datetime(2026, 11, 22, 20, 46, 38, 695000, tzinfo=UTC)
    assert load.message == "load1 on 127.0.0.1:19100 is 0.36"
    assert load.source == "am"

    # Alertmanager moves endsAt/updatedAt on every re-send: that is not news.
    moved = copy.deepcopy(body)
    for item in moved:
        item["endsAt"] = "2026-11-22T20:55:00.000Z"
        item["updatedAt"] = "2026-11-22T20:50:00.000Z"
    route.respond(json=moved)
    assert (await am.poll(NOW)).alerts == []


@respx.mock
async def test_a_vanished_alert_is_emitted_resolved_once() -> None:
    body = recorded()
    route = respx.get(ALERTS).respond(json=body)
    am = source()
    firing = {a.title: a for a in (await am.poll(None)).alerts}

    route.respond(json=[by_name(body, "AlwaysFiring")])
    resolved = (await am.poll(NOW)).alerts
    assert len(resolved) == 1
    gone = resolved[0]
    assert (gone.title, gone.status, gone.ts, gone.ends_at) == (
        "HostLoadPresent", "resolved", NOW, NOW,
    )
    assert gone.id == firing["HostLoadPresent"].id  # the store pairs them by id
    assert gone.fingerprint == "45289b7917cf967e"

    assert (await am.poll(NOW)).alerts == []  # once only
    route.respond(json=[])
    assert [(a.title, a.status) for a in (await am.poll(NOW)).alerts] == [
        ("AlwaysFiring", "resolved"),
    ]


@respx.mock
async def test_a_new_start_closes_the_earlier_occurrence() -> None:
    body = recorded()
    route = respx.get(ALERTS).respond(json=body)
    am = source()
    before = {a.title: a for a in (await am.poll(None)).alerts}["AlwaysFiring"]

    again = copy.deepcopy(body)
    by_name(again, "AlwaysFiring")["startsAt"] = "2026-11-22T20:58:00.000Z"
    route.respond(json=again)
    out = (await am.poll(NOW)).alerts
    assert [(a.status, a.id) for a in out] == [
        ("resolved", before.id), ("firing", "32a2ddd10fadf757@2026-11-22T20:58:00+00:00"),
    ]


@respx.mock
async def test_a_failed_poll_forgets_nothing() -> None:
    body = recorded()
    route = respx.get(ALERTS).respond(json=body)
    am = source()
    assert len((await am.poll(None)).alerts) == 2

    route.respond(503, text="upstream gone")
    with pytest.raises(SourceError):
        await am.poll(NOW)
    route.respond(json=body)
    assert (await am.poll(NOW)).alerts == []  # not "new" again after the outage


@respx.mock
async def test_an_unreadable_alert_is_not_taken_for_resolved() -> None:
    body = recorded()
    route = respx.get(ALERTS).respond(json=body)
    am = source()
    await am.poll(None)

    broken = copy.deepcopy(body)
    del by_name(broken, "HostLoadPresent")["startsAt"]
    route.respond(json=broken)
    assert (await am.poll(NOW)).alerts == []


@respx.mock
async def test_filters_and_token_go_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AM_TOKEN", CANARY)
    route = respx.get(ALERTS).respond(json=[])
    am = source(token_env="AM_TOKEN", filter=['severity=~"warning|critical"', "team=ops"])
    assert (await am.poll(None)).alerts == []

    request = route.calls.last.request
    assert request.url.params.get_list("filter") == ['severity=~"warning|critical"', "team=ops"]
    assert request.headers["authorization"] == f"Bearer {CANARY}"
    assert CANARY not in repr(am)


@pytest.mark.parametrize("code", [401, 403])
@respx.mock
async def test_unauthorised_names_the_variable_never_the_token(
    monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setenv("AM_TOKEN", CANARY)
    # A proxy that echoes what it was sent must not leak it into the reason.
    respx.get(ALERTS).respond(code, text=f"bad credentials: Bearer {CANARY}")
    with pytest.raises(SourceError) as caught:
        await source(token_env="AM_TOKEN").poll(None)
    reason = str(caught.value)
    assert reason.startswith("unauthorised: check token_env")
    assert "$AM_TOKEN" in reason and str(code) in reason
    assert CANARY not in reason


@respx.mock
async def test_unauthorised_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AM_TOKEN", raising=False)
    respx.get(ALERTS).respond(401)
    with pytest.raises(SourceError, match=r"check token_env \(\$AM_TOKEN is not set\)"):
        await source(token_env="AM_TOKEN").poll(None)
    with pytest.raises(SourceError, match=r"check token_env .*bearer token"):
        await source().poll(None)


@respx.mock
async def test_server_errors_and_bad_bodies_have_readable_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AM_TOKEN", CANARY)
    route = respx.get(ALERTS)
    am = source(token_env="AM_TOKEN")
    cases: list[tuple[httpx.Response, str]] = [
        (httpx.Response(500, text=f"panic: token={CANARY}"),
         r"Alertmanager at http://am.example:9093 answered 500 .*will retry next poll"),
        (httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"}),
         r"sent a body that is not JSON \(text/html\)"),
        (httpx.Response(200, text='[{"labels": '), "not JSON"),
        (httpx.Response(200, json={"status": "success"}), "sent dict where API v2 lists alerts"),
        (httpx.Response(404, text="404 page not found"), "Alertmanager 0.16"),
        (httpx.Response(400, json="bad matcher format: x~~"),
         "400 Bad Request.*bad matcher format.*check filter"),
        (httpx.Response(200, json=[{"labels": {"alertname": "X"}, "fingerprint": "ab"}]),
         "none readable.*startsAt"),
    ]
    for response, expected in cases:
        route.mock(return_value=response)
        with pytest.raises(SourceError, match=expected) as caught:
            await am.poll(None)
        assert CANARY not in str(caught.value)


@pytest.mark.parametrize(("error", "expected"), [
    (httpx.ConnectTimeout("timed out"), "no answer within 8s"),
    (httpx.ReadTimeout("timed out"), "no answer within 8s"),
    (httpx.ConnectError("[Errno 111] Connection refused"), "Connection refused"),
])
@respx.mock
async def test_unreachable(error: Exception, expected: str) -> None:
    respx.get(ALERTS).mock(side_effect=error)
    with pytest.raises(SourceError, match=f"cannot reach Alertmanager at {URL}: .*{expected}"):
        await source().poll(None)


async def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(SourceError, match=f"reach Alertmanager at {url}: connection refused"):
        await AlertmanagerSource("am", {"url": url}).poll(None)


@respx.mock
async def test_a_password_in_the_url_stays_out_of_reasons() -> None:
    respx.get("http://ops:hunter2@am.example:9093/api/v2/alerts").mock(
        side_effect=httpx.ConnectError("refused by hunter2 proxy")
    )
    am = AlertmanagerSource("am", {"url": "http://ops:hunter2@am.example:9093/"})
    with pytest.raises(SourceError) as caught:
        await am.poll(None)
    assert "hunter2" not in str(caught.value) and "hunter2" not in repr(am)
    assert "http://am.example:9093" in str(caught.value)


def test_options_are_checked() -> None:
    assert AlertmanagerSource("am").url == "http://127.0.0.1:9093"
    assert (AlertmanagerSource.default_interval_s, AlertmanagerSource.default_timeout_s) == (
        15.0, 10.0,
    )
    with pytest.raises(ValueError, match="should start with http"):
        AlertmanagerSource("am", {"url": "am.example:9093"})
    with pytest.raises(ValueError, match="list of matcher strings"):
        AlertmanagerSource("am", {"filter": [1]})
    with pytest.raises(ValueError, match="verify_tls"):
        AlertmanagerSource("am", {"verify_tls": "no"})


def test_a_quiet_alertmanager_never_loads_pandas() -> None:
    """pandas comes with the parser; an empty alert list needs none (test_import_hygiene)."""
    code = """
import asyncio, sys, httpx
from opscockpit.sources.alertmanager import AlertmanagerSource
from opscockpit.sources.ci_http import HttpHooks
transport = httpx.MockTransport(lambda request: httpx.Response(200, json=[]))
am = AlertmanagerSource("am", {}, hooks=HttpHooks(transport=transport))
assert asyncio.run(am.poll(None)).alerts == []
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "pyarrow"))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == ""
