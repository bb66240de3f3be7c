"""Jenkins source against JSON API answers recorded from a Jenkins (cdancy/jenkins-rest)."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from opscockpit.sources.base import SourceError
from opscockpit.sources.ci_http import HttpHooks
from opscockpit.sources.jenkins import JenkinsSource, job_path, parse_build, parse_wfapi_runs
from tests.conftest import require_dataset

BASE = "http://localhost:32769"
TOKEN = "11aa22bb33cc44dd55ee66ff77SECRET"
STARTED = datetime(2016, 4, 19, 18, 51, 32, 486000, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads(require_dataset(f"ci/jenkins/{name}").read_text())


async def no_sleep(_seconds: float) -> None:
    return None


def source(**settings: Any) -> JenkinsSource:
    return JenkinsSource(
        "ci", {"base_url": BASE, **settings}, hooks=HttpHooks(sleep=no_sleep, jitter=lambda: 0)
    )


def build_numbered(number: int, job_url: str, **changes: Any) -> dict[str, Any]:
    """The recorded build, as build ``number`` of the job at ``job_url``."""
    return {**load("build_api_json.json"), "number": number, "id": str(number),
            "url": f"{job_url}{number}/", **changes}


def test_parse_build() -> None:
    run = parse_build(load("build_api_json.json"))
    assert (run.provider, run.repo, run.workflow, run.run_id) == ("jenkins", "fish", "fish", "10")
    assert (run.status, run.conclusion) == ("completed", "success")
    assert run.ts == run.started_at == STARTED
    assert (run.finished_at - run.started_at).total_seconds() == 60.75
    assert run.sha == "d27afa0805201322d846d7defc29b82c88d9b5ce"
    assert (run.actor, run.event) == ("anonymous", "manual")
    assert run.url == f"{BASE}/job/fish/10/"
    assert run.committed_at == STARTED  # the change set's commit timestamp (epoch ms)


def test_parse_wfapi_runs_turns_stages_into_jobs() -> None:
    runs, jobs = parse_wfapi_runs(load("wfapi_runs.json"), base_url="http://ci")
    assert [(r.run_id, r.status, r.conclusion) for r in runs] == [
        ("16", "waiting", ""), ("15", "completed", "success"),
    ]
    assert runs[0].repo == "Test Workflow"
    assert runs[1].url == "http://ci/jenkins/job/Test%20Workflow/15/"
    assert runs[1].finished_at == datetime(2014, 10, 16, 11, 45, 37, 70000, tzinfo=UTC)
    assert [(j.run_id, j.name, j.status) for j in jobs[:3]] == [
        ("16", "Build", "completed"), ("16", "Test", "completed"), ("16", "Deploy", "waiting"),
    ]
    assert jobs[3].job_id == "15:5"


def test_job_path_reads_nested_folders() -> None:
    assert job_path(f"{BASE}/job/team/job/my%20svc/job/main/12/") == ["team", "my svc", "main"]


@respx.mock
async def test_bare_builds_are_read_one_by_one_with_basic_auth(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("JENKINS_TOKEN", TOKEN)
    job_url = f"{BASE}/job/fish/"
    job = respx.get(f"{job_url}api/json").respond(200, json=load("job_api_json.json"))
    builds = {
        n: respx.get(f"{job_url}{n}/api/json").respond(
            200, json=build_numbered(n, job_url, building=n == 7, result=None if n == 7 else
                                     "FAILURE" if n == 6 else "SUCCESS")
        )
        for n in range(1, 8)
    }
    src = source(jobs=["fish"], user="admin", max_builds=3, deploys=[{"workflow": "fish"}])
    batch = await src.poll(None)
    assert "tree=" in str(job.calls[0].request.url)
    expected = "Basic " + base64.b64encode(f"admin:{TOKEN}".encode()).decode()
    assert job.calls[0].request.headers["Authorization"] == expected
    assert [(r.run_id, r.status, r.conclusion) for r in batch.runs] == [
        ("7", "running", ""), ("6", "completed", "failure"), ("5", "completed", "success"),
    ]
    assert not builds[4].called
    assert [(c.id, c.service) for c in batch.changes] == [
        ("jenkins:fish:6:1", "fish"), ("jenkins:fish:5:1", "fish"),
    ]
    # Next poll: finished builds are not read again, the running one is.
    again = await src.poll(None)
    assert builds[6].call_count == 1 and builds[7].call_count == 2
    assert again.runs == []
    assert TOKEN not in caplog.text and TOKEN not in repr(src)


@respx.mock
async def test_tree_answers_need_no_second_request() -> None:
    job_url = f"{BASE}/job/fish/"
    body = {**load("job_api_json.json"), "builds": [build_numbered(10, job_url)]}
    respx.get(f"{job_url}api/json").respond(200, json=body)
    batch = await source(jobs=["fish"]).poll(None)
    assert [r.sha for r in batch.runs] == ["d27afa0805201322d846d7defc29b82c88d9b5ce"]


@respx.mock
async def test_discovery_walks_folders_and_multibranch_projects() -> None:
    respx.get(f"{BASE}/api/json").respond(200, json=load("root_api_json_jobs.json"))
    folder_item = {"_class": "hudson.model.FreeStyleProject", "name": "inner",
                   "url": f"{BASE}/job/fish-folder/job/inner/", "color": "blue"}
    branch_item = {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "name": "main",
                   "url": f"{BASE}/job/fish-multibranch/job/main/", "color": "red"}
    respx.get(f"{BASE}/job/fish-folder/api/json").respond(
        200, json={"_class": "com.cloudbees.hudson.plugins.folder.Folder", "jobs": [folder_item]}
    )
    respx.get(f"{BASE}/job/fish-multibranch/api/json").respond(
        200, json={"_class": "org.jenkinsci.plugins.workflow.multibranch."
                   "WorkflowMultiBranchProject", "jobs": [branch_item]}
    )
    job_routes = respx.get(url__regex=rf"{BASE}/job/.+/api/json\?tree=name").mock(
        side_effect=lambda request: httpx.Response(200, json={
            **load("job_api_json.json"),
            "builds": [build_numbered(3, str(request.url).split("api/json")[0])],
        })
    )
    batch = await source().poll(None)
    jobs_read = sorted(str(c.request.url).split("/api/json")[0] for c in job_routes.calls)
    assert jobs_read == [
        f"{BASE}/job/fish-folder/job/inner", f"{BASE}/job/fish-multibranch/job/main",
        f"{BASE}/job/fish-project", f"{BASE}/job/fish-test", f"{BASE}/job/fish-workflow",
    ]
    branch_run = next(r for r in batch.runs if r.branch == "main")
    assert (branch_run.repo, branch_run.workflow, branch_run.run_id) == (
        "fish-multibranch", "fish-multibranch", "main/3",
    )
    inner = next(r for r in batch.runs if r.workflow == "inner")
    assert inner.repo == "fish-folder/inner"


@respx.mock
async def test_errors_are_source_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JENKINS_TOKEN", TOKEN)
    respx.get(f"{BASE}/job/fish/api/json").respond(401)
    with pytest.raises(SourceError) as caught:
        await source(jobs=["fish"], user="admin").poll(None)
    assert "check the token in $JENKINS_TOKEN" in str(caught.value)
    assert TOKEN not in str(caught.value)
    respx.get(f"{BASE}/job/fish/api/json").respond(503)
    with pytest.raises(SourceError, match="503 Service Unavailable"):
        await source(jobs=["fish"]).poll(None)
    respx.get(f"{BASE}/job/fish/api/json").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(SourceError, match="did not answer"):
        await source(jobs=["fish"]).poll(None)
    respx.get(f"{BASE}/job/fish/api/json").respond(200, text="<html>Jenkins login</html>")
    with pytest.raises(SourceError, match="not JSON"):
        await source(jobs=["fish"]).poll(None)


@respx.mock
async def test_stages_become_jobs_of_the_changed_builds() -> None:
    job_url = f"{BASE}/job/Test%20Workflow/"
    body = {**load("job_api_json.json"),
            "builds": [build_numbered(n, job_url) for n in (16, 15)]}
    respx.get(f"{job_url}api/json").respond(200, json=body)
    respx.get(f"{job_url}wfapi/runs").respond(200, json=load("wfapi_runs.json"))
    src = source(jobs=["Test Workflow"], stages=True,
                 deploys=[{"job": "^Deploy$", "service": "fish"}])
    batch = await src.poll(None)
    assert {r.repo for r in batch.runs} == {"Test Workflow"}
    assert [(j.run_id, j.name, j.conclusion) for j in batch.jobs if j.run_id == "15"] == [
        ("15", "Build", "success"), ("15", "Test", "success"), ("15", "Deploy", "success"),
    ]
    assert batch.jobs[0].url == f"{BASE}/jenkins/job/Test%20Workflow/16/"
    # Build 16's Deploy stage waits for input: only build 15 deployed.
    assert [(c.id, c.ts) for c in batch.changes] == [
        ("jenkins:Test Workflow:15:1", datetime(2014, 10, 16, 11, 45, 37, 70000, tzinfo=UTC)),
    ]
