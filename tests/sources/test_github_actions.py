"""GitHub Actions source against payloads recorded from api.github.com (hub4j/github-api)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from opscockpit.records import ChangeKind
from opscockpit.sources import github_actions
from opscockpit.sources.base import SourceError
from opscockpit.sources.ci_http import HttpHooks
from opscockpit.sources.github_actions import GitHubActionsSource, parse_jobs, parse_runs
from tests.conftest import require_dataset

REPO = "hub4j-test-org/GHWorkflowRunTest"
API = "https://api.github.com"
RUNS_URL = f"{API}/repos/{REPO}/actions/runs"
JOBS_PATTERN = rf"^{API}/repos/{REPO}/actions/runs/\d+/attempts/\d+/jobs"
TOKEN = "ghp_Secret0123456789abcdefTOKEN"
NOW = datetime(2024, 2, 9, 12, 0, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    return json.loads(require_dataset(f"ci/github_actions/{name}").read_text())


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def source(sleeps: Sleeps | None = None, **settings: Any) -> GitHubActionsSource:
    hooks = HttpHooks(sleep=sleeps or Sleeps(), jitter=lambda: 0.5, now=lambda: NOW)
    return GitHubActionsSource("gh", {"repos": [REPO], **settings}, hooks=hooks)


def test_parse_runs_reads_every_field() -> None:
    runs = parse_runs(load("list_workflow_runs_mixed.json"))
    assert len(runs) == 6
    first = runs[0]
    assert first.provider == "github_actions"
    assert first.repo == REPO
    assert first.run_id == "7842477524"
    assert first.workflow == "Fast workflow"
    assert first.branch == "main"
    assert first.sha == "e8b2761bda453495d1ae25941b5b380b07deae52"
    assert (first.status, first.conclusion) == ("completed", "success")
    assert first.ts == datetime(2024, 2, 9, 10, 10, 18, tzinfo=UTC)
    assert first.started_at == datetime(2024, 2, 9, 10, 10, 18, tzinfo=UTC)
    assert first.finished_at == datetime(2024, 2, 9, 10, 10, 59, tzinfo=UTC)
    assert first.url == f"https://github.com/{REPO}/actions/runs/7842477524"
    assert (first.actor, first.event, first.attempt) == ("gsmet", "workflow_dispatch", 1)
    assert first.committed_at == datetime(2023, 11, 8, 21, 53, 11, tzinfo=UTC)  # head_commit
    failing = next(r for r in runs if r.workflow == "Failing workflow")
    assert (failing.conclusion, failing.event) == ("failure", "push")


def test_parse_runs_awaiting_approval() -> None:
    runs = parse_runs(load("list_workflow_runs_action_required.json"))
    assert {r.conclusion for r in runs} == {"action_required"}
    assert {r.actor for r in runs} == {"holly-cummins"}
    assert {r.event for r in runs} == {"pull_request"}


def test_parse_jobs_reads_mixed_offsets_as_utc() -> None:
    jobs = parse_jobs(load("list_jobs_for_run.json"), attempt=2)
    assert [j.name for j in jobs] == ["job2", "job1"]
    job1 = jobs[1]
    assert job1.repo == REPO
    assert (job1.run_id, job1.job_id) == ("719643947", "2270858630")
    assert job1.started_at == datetime(2021, 4, 5, 15, 42, 57, tzinfo=UTC)
    assert job1.finished_at == datetime(2021, 4, 5, 15, 42, 59, tzinfo=UTC)
    assert job1.url == f"https://github.com/{REPO}/runs/2270858630"
    assert (job1.failed_step, job1.attempt) == ("", 2)


def test_parse_webhook_job_names_the_failed_step() -> None:
    payload = load("webhook_workflow_job_completed_failure.json")
    job = github_actions.parse_job(payload["workflow_job"])
    assert job.conclusion == "failure"
    assert job.repo == "octo-org/octo-repo"
    assert job.failed_step and job.failed_step != "Set up job"


@respx.mock
async def test_poll_follows_link_pages_and_reads_jobs() -> None:
    body = load("list_workflow_runs_mixed.json")
    page1 = {**body, "workflow_runs": body["workflow_runs"][:4]}
    page2 = {**body, "workflow_runs": body["workflow_runs"][4:]}
    next_url = f"{RUNS_URL}?per_page=4&page=2"
    respx.get(next_url).respond(200, json=page2)
    respx.get(RUNS_URL, params={"per_page": "4"}).respond(
        200, json=page1, headers={"Link": f'<{next_url}>; rel="next", <{next_url}>; rel="last"'}
    )
    jobs_body = load("list_jobs_for_run.json")
    jobs_route = respx.get(url__regex=JOBS_PATTERN).respond(200, json=jobs_body)
    batch = await source(per_page=4).poll(None)
    assert len(batch.runs) == 6
    assert jobs_route.call_count == 6
    assert len(batch.jobs) == 12
    assert batch.changes == []


@respx.mock
async def test_etag_revalidation_returns_cache_without_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = load("list_workflow_runs_mixed.json")
    etag = 'W/"a1b2c3"'
    route = respx.get(RUNS_URL)
    route.side_effect = [
        httpx.Response(200, json=body, headers={"ETag": etag}),
        httpx.Response(304, headers={"ETag": etag}),
    ]
    parsed: list[int] = []
    real = github_actions.parse_runs
    monkeypatch.setattr(
        github_actions, "parse_runs", lambda b, r="": parsed.append(1) or real(b, r)
    )
    src = source(jobs=False)
    first = await src.poll(None)
    assert len(first.runs) == 6
    async with src.http:
        page = await src.http.get(RUNS_URL, github_actions.parse_runs, params={"per_page": 50})
    assert route.calls[1].request.headers["If-None-Match"] == etag
    assert page.from_cache
    assert [r.run_id for r in page.value] == [r.run_id for r in first.runs]
    assert parsed == [1]  # the 304 cost no parsing
    assert (await _poll_after_304(src, etag)).runs == []  # nothing changed, nothing re-sent


async def _poll_after_304(src: GitHubActionsSource, etag: str) -> Any:
    respx.get(RUNS_URL).respond(304, headers={"ETag": etag})
    return await src.poll(None)


@respx.mock
async def test_rate_limit_names_the_reset_time() -> None:
    reset = int(datetime(2024, 2, 9, 12, 15, 30, tzinfo=UTC).timestamp())
    respx.get(RUNS_URL).respond(
        403,
        json={"message": "API rate limit exceeded for user ID 1."},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    with pytest.raises(SourceError) as caught:
        await source().poll(None)
    assert str(caught.value) == "rate limited by GitHub until 12:15:30 UTC"
    assert caught.value.retry_after_s == 930


@respx.mock
async def test_secondary_rate_limit_uses_retry_after() -> None:
    respx.get(RUNS_URL).respond(429, headers={"retry-after": "45"})
    with pytest.raises(SourceError) as caught:
        await source().poll(None)
    assert caught.value.retry_after_s == 45
    assert "12:00:45 UTC" in str(caught.value)


@respx.mock
async def test_server_errors_are_retried_with_backoff_then_reported() -> None:
    route = respx.get(RUNS_URL).respond(502)
    sleeps = Sleeps()
    with pytest.raises(SourceError, match=r"502 Bad Gateway.*3 tries"):
        await source(sleeps, retries=3).poll(None)
    assert route.call_count == 3
    assert sleeps.calls == [0.375, 0.75]  # 0.5 s doubling, half of it jittered


@respx.mock
async def test_a_5xx_then_success_recovers_within_the_poll() -> None:
    route = respx.get(RUNS_URL)
    route.side_effect = [
        httpx.Response(503),
        httpx.Response(200, json=load("list_workflow_runs_mixed.json")),
    ]
    batch = await source(jobs=False).poll(None)
    assert len(batch.runs) == 6


@respx.mock
async def test_unauthorized_names_the_variable_never_the_token(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    route = respx.get(RUNS_URL).respond(
        401, json={"message": f"Bad credentials token={TOKEN}"}
    )
    src = source()
    with pytest.raises(SourceError) as caught:
        await src.poll(None)
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    message = str(caught.value)
    assert message.startswith("GitHub answered 401 Unauthorized: check the token in $GITHUB_TOKEN")
    for text in (message, repr(caught.value), repr(src), repr(src.http), repr(src.settings),
                 caplog.text):
        assert TOKEN not in text


@respx.mock
async def test_token_never_reaches_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GH_TOKEN_FOR_TEST", TOKEN)
    respx.get(RUNS_URL).respond(200, json=load("list_workflow_runs_mixed.json"))
    respx.get(url__regex=JOBS_PATTERN).respond(200, json=load("list_jobs_for_run.json"))
    batch = await source(token_env="GH_TOKEN_FOR_TEST", deploys=[{"workflow": "."}]).poll(None)
    assert batch.changes
    assert TOKEN not in repr(batch)


@respx.mock
async def test_missing_token_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    respx.get(RUNS_URL).respond(401, json={"message": "Requires authentication"})
    with pytest.raises(SourceError, match=r"\$GITHUB_TOKEN is not set"):
        await source().poll(None)


@respx.mock
async def test_timeouts_become_a_source_error() -> None:
    route = respx.get(RUNS_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(SourceError, match="did not answer within 10s"):
        await source(retries=2).poll(None)
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, text="<html>unicorn</html>"), "not JSON"),
        (httpx.Response(200, json={"message": "moved"}), "unexpected shape"),
        (httpx.Response(200, json={"workflow_runs": [{"id": 1}]}), "unexpected shape"),
    ],
)
async def test_malformed_bodies_become_a_source_error(
    response: httpx.Response, reason: str
) -> None:
    respx.get(RUNS_URL).mock(return_value=response)
    with pytest.raises(SourceError, match=reason):
        await source().poll(None)


@respx.mock
async def test_failed_poll_sends_its_runs_again_next_time() -> None:
    route = respx.get(RUNS_URL)
    body = load("list_workflow_runs_mixed.json")
    route.side_effect = [httpx.Response(200, json=body), httpx.Response(200, json=body)]
    jobs = respx.get(url__regex=JOBS_PATTERN)
    jobs.side_effect = [httpx.Response(500)] * 3 + [
        httpx.Response(200, json=load("list_jobs_for_run.json"))
    ] * 6
    src = source()
    with pytest.raises(SourceError):
        await src.poll(None)
    assert len((await src.poll(None)).runs) == 6


@respx.mock
async def test_deploy_rules_record_changes() -> None:
    respx.get(RUNS_URL).respond(200, json=load("list_workflow_runs_mixed.json"))
    src = source(
        jobs=False,
        deploys=[{"workflow": "^(Fast|Failing) workflow$", "branch": "^main$", "service": "api"}],
    )
    batch = await src.poll(None)
    by_id = {c.id: c for c in batch.changes}
    assert len(by_id) == 3
    change = by_id[f"github_actions:{REPO}:7842477524:1"]
    assert change.kind is ChangeKind.DEPLOY
    assert change.service == "api"
    assert change.ts == datetime(2024, 2, 9, 10, 10, 59, tzinfo=UTC)
    assert (change.sha, change.version) == (
        "e8b2761bda453495d1ae25941b5b380b07deae52", "e8b2761bda45"
    )
    assert change.author == "gsmet"
    assert change.url.endswith("/actions/runs/7842477524")
    assert change.source == "gh"
    assert sorted(c.status for c in by_id.values()) == ["failure", "success", "success"]


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="owner/name"):
        GitHubActionsSource("gh", {"repos": ["just-a-name"]})
    with pytest.raises(ValueError, match="no key 'env'"):
        GitHubActionsSource("gh", {"repos": [REPO], "deploys": [{"env": "prod"}]})


@respx.mock
async def test_etag_cache_is_bounded() -> None:
    body = load("list_jobs_for_run.json")
    route = respx.get(url__regex=JOBS_PATTERN).respond(200, json=body, headers={"ETag": '"j"'})
    src = source()
    src.http.cache_size = 2
    async with src.http:
        for run_id in (1, 2, 3):
            url = f"{API}/repos/{REPO}/actions/runs/{run_id}/attempts/1/jobs"
            await src.http.get(url, parse_jobs)
        await src.http.get(f"{API}/repos/{REPO}/actions/runs/1/attempts/1/jobs", parse_jobs)
    assert "If-None-Match" not in route.calls[3].request.headers  # run 1 was forgotten
