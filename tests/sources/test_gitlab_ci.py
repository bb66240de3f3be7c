"""GitLab CI source against the payloads of GitLab's API documentation and a webhook."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from opscockpit.sources.base import SourceError
from opscockpit.sources.ci_http import HttpHooks
from opscockpit.sources.deploy_rules import deploy_changes, parse_rules
from opscockpit.sources.gitlab_ci import (
    GitLabCISource,
    parse_jobs,
    parse_pipeline,
    parse_pipelines,
    parse_webhook,
)
from tests.conftest import require_dataset

BASE = "https://gitlab.example.com"
PROJECT = "foo/bar"
PIPELINES = f"{BASE}/api/v4/projects/foo%2Fbar/pipelines"
TOKEN = "glpat-Secret0123456789TOKEN"
NOW = datetime(2016, 8, 12, 10, 0, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads(require_dataset(f"ci/gitlab/{name}").read_text())


async def no_sleep(_seconds: float) -> None:
    return None


def source(**settings: Any) -> GitLabCISource:
    hooks = HttpHooks(sleep=no_sleep, jitter=lambda: 0.0, now=lambda: NOW)
    return GitLabCISource(
        "gl", {"projects": [PROJECT], "base_url": BASE, **settings}, hooks=hooks
    )


def detail_for(pipeline_id: int) -> dict[str, Any]:
    """The recorded single-pipeline answer, renumbered to the pipeline asked for."""
    return {**load("get_pipeline.json"), "id": pipeline_id}


def test_parse_pipeline_list() -> None:
    runs = parse_pipelines(load("list_project_pipelines.json"))
    assert [r.run_id for r in runs] == ["47", "48"]
    run = runs[0]
    assert run.repo == "foo/bar"
    assert (run.workflow, run.branch, run.event) == ("Build pipeline", "new-pipeline", "push")
    assert run.sha == "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
    assert (run.status, run.conclusion) == ("queued", "")
    assert run.ts == datetime(2016, 8, 11, 11, 28, 34, 85000, tzinfo=UTC)
    assert run.url == "https://example.com/foo/bar/pipelines/47"
    assert (run.started_at, run.finished_at) == (None, None)


def test_parse_single_pipeline() -> None:
    run = parse_pipeline(load("get_pipeline.json"))
    assert run.repo == "test-group/test-project"
    assert (run.status, run.conclusion, run.actor) == ("completed", "success", "root")
    assert run.started_at == datetime(2022, 9, 21, 1, 5, 14, 197000, tzinfo=UTC)
    assert run.finished_at == datetime(2022, 9, 21, 1, 5, 50, 175000, tzinfo=UTC)


def test_parse_jobs_maps_failures_and_reasons() -> None:
    jobs, envs = parse_jobs(load("list_pipeline_jobs.json"))
    assert [(j.job_id, j.name) for j in jobs] == [("6", "rspec:other"), ("7", "teaspoon")]
    first = jobs[0]
    assert first.repo == "foo/bar"
    assert (first.run_id, first.status, first.conclusion) == ("6", "completed", "failure")
    assert first.failed_step == "stuck_or_timeout_failure"
    assert first.started_at == datetime(2015, 12, 24, 17, 54, 24, 729000, tzinfo=UTC)
    assert first.url == "https://example.com/foo/bar/-/jobs/6"
    assert jobs[1].failed_step == "script_failure"
    assert {j.attempt for j in jobs} == {1}
    assert envs == {}


def test_retried_jobs_count_as_attempts() -> None:
    body = load("list_pipeline_jobs.json")
    retry = {**body[0], "id": 8, "status": "success", "failure_reason": None}
    jobs, _ = parse_jobs([*body, retry])
    assert [(j.name, j.attempt, j.conclusion) for j in jobs if j.name == "rspec:other"] == [
        ("rspec:other", 1, "failure"), ("rspec:other", 2, "success"),
    ]


def test_webhook_with_utc_suffix_times_and_environments() -> None:
    run, jobs, envs = parse_webhook(load("webhook_pipeline_event.json"))
    assert run.repo == "gitlab-org/gitlab-test"
    assert run.ts == datetime(2016, 8, 12, 15, 23, 28, tzinfo=UTC)
    assert run.finished_at == datetime(2016, 8, 12, 15, 26, 29, tzinfo=UTC)
    assert run.started_at == datetime(2016, 8, 12, 15, 25, 26, tzinfo=UTC)  # end - 63 s
    assert (run.actor, run.event, run.branch) == ("user1", "merge_request_event", "master")
    assert run.url == "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/31"
    # The hook's commit carries its own time (+02:00): DORA lead time starts there.
    assert run.committed_at == datetime(2016, 8, 12, 15, 23, 21, tzinfo=UTC)
    assert len(jobs) == 5 and {j.run_id for j in jobs} == {"31"}
    assert envs == {"380": "production"}
    build = next(j for j in jobs if j.name == "build-image")
    assert build.finished_at == datetime(2016, 8, 12, 15, 25, 26, tzinfo=UTC)
    # The production job was skipped: no deploy, even though the environment matches.
    rules = parse_rules([{"environment": "^production$"}])
    assert deploy_changes([run], jobs, rules, job_environments=envs) == []
    deployed = [
        j if j.name != "production" else replace(j, conclusion="success", finished_at=run.ts)
        for j in jobs
    ]
    by_env = deploy_changes([run], deployed, rules, job_environments=envs)
    # Webhook builds carry no URL of their own: the pipeline's stands in.
    assert [(c.service, c.ts, c.url, c.status) for c in by_env] == [
        ("gitlab-test", run.ts, run.url, "success")
    ]


@respx.mock
async def test_poll_pages_by_x_next_page_and_reads_details_and_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    listed = load("list_project_pipelines.json")
    first = respx.get(PIPELINES, params={"page": "2"}).respond(200, json=listed[1:])
    page1 = respx.get(PIPELINES).respond(
        200, json=listed[:1], headers={"x-next-page": "2", "x-page": "1"}
    )
    respx.get(f"{PIPELINES}/47").respond(200, json=detail_for(47))
    respx.get(f"{PIPELINES}/48").respond(200, json=detail_for(48))
    jobs = respx.get(url__regex=rf"{PIPELINES}/\d+/jobs").respond(
        200, json=load("list_pipeline_jobs.json")
    )
    batch = await source().poll(None)
    assert page1.calls[0].request.headers["PRIVATE-TOKEN"] == TOKEN
    assert "include_retried=true" in str(jobs.calls[0].request.url)
    assert first.called
    assert [r.run_id for r in batch.runs] == ["47", "48"]
    assert {r.repo for r in batch.runs} == {PROJECT}
    assert batch.runs[0].conclusion == "success" and batch.runs[0].actor == "root"
    assert len(batch.jobs) == 4


@respx.mock
async def test_unchanged_pipelines_are_not_sent_twice() -> None:
    respx.get(PIPELINES).respond(200, json=load("list_project_pipelines.json"))
    respx.get(url__regex=rf"{PIPELINES}/\d+$").respond(200, json=detail_for(47))
    src = source(jobs=False)
    assert len((await src.poll(None)).runs) == 2
    assert (await src.poll(None)).runs == []


@respx.mock
async def test_rate_limit() -> None:
    respx.get(PIPELINES).respond(429, headers={"Retry-After": "30", "RateLimit-Remaining": "0"})
    with pytest.raises(SourceError) as caught:
        await source().poll(None)
    assert str(caught.value) == "rate limited by GitLab until 10:00:30 UTC"
    assert caught.value.retry_after_s == 30


@respx.mock
async def test_unauthorized_hides_the_token(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    respx.get(PIPELINES).respond(401, json={"message": "401 Unauthorized"})
    src = source()
    with pytest.raises(SourceError) as caught:
        await src.poll(None)
    assert "check the token in $GITLAB_TOKEN" in str(caught.value)
    for text in (str(caught.value), repr(src), repr(src.settings), caplog.text):
        assert TOKEN not in text


@respx.mock
async def test_server_error_retried_then_reported() -> None:
    route = respx.get(PIPELINES).respond(500)
    with pytest.raises(SourceError, match="500 Internal Server Error"):
        await source(retries=4).poll(None)
    assert route.call_count == 4


@respx.mock
async def test_timeout_and_malformed_jobs() -> None:
    respx.get(PIPELINES).mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(SourceError, match="did not answer"):
        await source().poll(None)
    respx.get(PIPELINES).respond(200, json=load("list_project_pipelines.json"))
    respx.get(url__regex=rf"{PIPELINES}/\d+$").respond(200, json=detail_for(47))
    respx.get(url__regex=rf"{PIPELINES}/\d+/jobs").respond(200, json={"message": "oops"})
    with pytest.raises(SourceError, match="unexpected shape"):
        await source().poll(None)
