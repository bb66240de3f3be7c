"""The Prometheus source on the recorded API answers (respx): mapping, steps and failures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from opscockpit.sources.base import SourceError
from opscockpit.sources.prometheus import PrometheusSource
from tests.conftest import require_dataset

URL = "http://prom.test:9090"
RANGE = f"{URL}/api/v1/query_range"
CANARY = "canary-7f3a9c-token"


def _recorded(name: str) -> dict:
    return json.loads((require_dataset("prometheus") / name).read_text())


def _source(**settings: object) -> PrometheusSource:
    return PrometheusSource("fleet", {"url": URL, "queries": {"load1": "node_load1"},
                                      **settings})


@respx.mock
def test_series_are_named_after_the_query_and_hosted_by_instance() -> None:
    route = respx.get(RANGE).mock(return_value=httpx.Response(
        200, json=_recorded("query_range_vector_matrix.json")))
    batch = asyncio.run(_source(step_s=1.0, backfill_s=60.0).poll(None))
    assert {(s.host, s.metric) for s in batch.metrics} == {("127.0.0.1", "load1{job=node}")}
    assert [s.value for s in batch.metrics] == [0.04] * 5
    assert batch.metrics[0].ts == datetime.fromtimestamp(1795380407.122, UTC)
    params = route.calls.last.request.url.params
    assert params["query"] == "node_load1" and params["step"] == "1"
    assert 59.0 <= float(params["end"]) - float(params["start"]) <= 60.0


@respx.mock
def test_labels_left_after_the_host_stay_in_the_name() -> None:
    respx.get(RANGE).mock(return_value=httpx.Response(
        200, json=_recorded("query_range_matrix.json")))
    batch = asyncio.run(_source().poll(None))
    names = {s.metric for s in batch.metrics}
    assert {"load1{mode=idle}", "load1{mode=iowait}"} <= names
    assert {s.host for s in batch.metrics} == {""}  # no host or instance label


@respx.mock
def test_the_next_poll_starts_one_step_after_the_last() -> None:
    route = respx.get(RANGE).mock(return_value=httpx.Response(
        200, json=_recorded("query_range_vector_matrix.json")))
    source = _source(step_s=5.0, backfill_s=60.0)
    asyncio.run(source.poll(None))
    first_end = float(route.calls.last.request.url.params["end"])
    asyncio.run(asyncio.sleep(0.01))
    source._last = first_end - 10.0  # as if two steps had passed since
    asyncio.run(source.poll(None))
    assert float(route.calls.last.request.url.params["start"]) == first_end - 5.0


@respx.mock
def test_a_rejected_query_is_named_with_the_servers_error() -> None:
    respx.get(RANGE).mock(return_value=httpx.Response(400, json=_recorded("query_error.json")))
    with pytest.raises(SourceError, match=r"query 'load1'.*bad_data.*unclosed left paren"):
        asyncio.run(_source().poll(None))


@pytest.mark.parametrize(("response", "reason"), [
    (httpx.Response(401, text="Unauthorized"), r"refused the request \(HTTP 401\)"),
    (httpx.Response(503, text="<html>down</html>"), r"answered HTTP 503 with no JSON"),
    (httpx.Response(200, text='{"status": "success", "data": '), r"answered HTTP 200 with no"),
])
@respx.mock
def test_failures_are_readable_reasons(response: httpx.Response, reason: str) -> None:
    respx.get(RANGE).mock(return_value=response)
    with pytest.raises(SourceError, match=reason):
        asyncio.run(_source().poll(None))


@respx.mock
def test_rate_limits_and_timeouts_keep_the_source_waiting() -> None:
    respx.get(RANGE).mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(SourceError, match="rate limiting") as limited:
        asyncio.run(_source().poll(None))
    assert limited.value.retry_after_s == 30.0
    respx.get(RANGE).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(SourceError, match="timed out"):
        asyncio.run(_source().poll(None))


@respx.mock
def test_the_token_is_sent_and_never_in_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROM_TOKEN", CANARY)
    route = respx.get(RANGE).mock(return_value=httpx.Response(
        403, text=f"token {CANARY} is not allowed"))
    source = _source(token_env="PROM_TOKEN")
    with pytest.raises(SourceError) as refused:
        asyncio.run(source.poll(None))
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {CANARY}"
    assert CANARY not in str(refused.value) and CANARY not in repr(source.__dict__)


def test_a_query_that_is_not_text_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="query 'load1' should be PromQL text"):
        PrometheusSource("fleet", {"queries": {"load1": 3}})


@respx.mock
def test_every_query_is_asked_in_one_poll_and_one_failure_fails_it() -> None:
    good = httpx.Response(200, json=_recorded("query_range_vector_matrix.json"))
    respx.get(RANGE, params={"query": "node_load1"}).mock(return_value=good)
    respx.get(RANGE, params={"query": "node_load5"}).mock(return_value=good)
    source = PrometheusSource("fleet", {"url": URL, "queries": {
        "load1": "node_load1", "load5": "node_load5"}})
    names = {s.metric for s in asyncio.run(source.poll(None)).metrics}
    assert names == {"load1{job=node}", "load5{job=node}"}
    respx.get(RANGE, params={"query": "node_load5"}).mock(
        return_value=httpx.Response(400, json=_recorded("query_error.json")))
    source = PrometheusSource("fleet", {"url": URL, "queries": {
        "load1": "node_load1", "load5": "node_load5"}})
    with pytest.raises(SourceError, match="query 'load5'"):
        asyncio.run(source.poll(None))


@respx.mock
def test_a_password_in_the_url_never_reaches_a_reason() -> None:
    respx.get("http://ops:hunter2-canary@prom.test:9090/api/v1/query_range").mock(
        return_value=httpx.Response(503, text="down"))
    source = PrometheusSource("fleet", {"url": "http://ops:hunter2-canary@prom.test:9090",
                                        "queries": {"load1": "node_load1"}})
    with pytest.raises(SourceError) as failed:
        asyncio.run(source.poll(None))
    assert "hunter2-canary" not in str(failed.value)
    assert "prom.test:9090" in str(failed.value)


def test_a_url_without_a_scheme_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="should start with http"):
        PrometheusSource("fleet", {"url": "prom.test:9090"})
