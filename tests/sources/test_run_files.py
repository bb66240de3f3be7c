"""Run files: every recorded CI payload is recognised, and unreadable input says why."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from opscockpit.sources.deploy_rules import deploy_changes, parse_rules
from opscockpit.sources.github_actions import parse_runs
from opscockpit.sources.run_files import read_run_files
from tests.conftest import require_dataset

RECORDED = [
    ("github_actions/list_workflow_runs_mixed.json", "github_actions/runs", 6, 0),
    ("github_actions/list_workflow_runs_action_required.json", "github_actions/runs", 4, 0),
    ("github_actions/list_jobs_for_run.json", "github_actions/jobs", 0, 2),
    ("github_actions/webhook_workflow_job_completed_failure.json",
     "github_actions/workflow_job", 0, 1),
    ("gitlab/list_project_pipelines.json", "gitlab_ci/pipelines", 2, 0),
    ("gitlab/get_pipeline.json", "gitlab_ci/pipeline", 1, 0),
    ("gitlab/list_pipeline_jobs.json", "gitlab_ci/jobs", 0, 2),
    ("gitlab/webhook_pipeline_event.json", "gitlab_ci/webhook", 1, 5),
    ("jenkins/build_api_json.json", "jenkins/build", 1, 0),
    ("jenkins/wfapi_runs.json", "jenkins/wfapi_runs", 2, 6),
]


@pytest.mark.parametrize(("name", "fmt", "runs", "jobs"), RECORDED)
def test_each_recorded_file_is_recognised(name: str, fmt: str, runs: int, jobs: int) -> None:
    path = require_dataset(f"ci/{name}")
    result = read_run_files([path])
    assert result.errors == []
    assert result.formats == {str(path): fmt}
    assert (len(result.batch.runs), len(result.batch.jobs)) == (runs, jobs)


def test_provider_given_restricts_detection() -> None:
    path = require_dataset("ci/gitlab/get_pipeline.json")
    assert read_run_files([path], provider="gitlab_ci").batch.runs
    wrong = read_run_files([path], provider="jenkins")
    assert wrong.batch.runs == []
    assert [(e.line, e.reason) for e in wrong.errors] == [
        (1, "not a jenkins runs or jobs document")
    ]
    with pytest.raises(ValueError, match="unknown provider"):
        read_run_files([path], provider="circleci")


def test_files_without_builds_or_unsupported_say_why() -> None:
    files = [require_dataset(f"ci/{n}") for n in (
        "jenkins/job_api_json.json", "jenkins/root_api_json_jobs.json",
        "buildkite/get_build.json",
    )]
    result = read_run_files(files)
    reasons = [e.reason for e in result.errors]
    assert "lists 7 builds without result or time" in reasons[0]
    assert "tree=builds[" in reasons[0]
    assert "job list holds no builds" in reasons[1]
    assert reasons[2] == "a Buildkite build: Buildkite is not supported yet"


def test_ndjson_webhook_log_and_bad_lines(tmp_path: Path) -> None:
    hook = json.loads(require_dataset("ci/gitlab/webhook_pipeline_event.json").read_text())
    log = tmp_path / "hooks.ndjson"
    log.write_text(json.dumps(hook) + "\n{broken\n" + json.dumps({"hello": 1}) + "\n")
    missing = tmp_path / "missing.json"
    result = read_run_files([log, missing])
    assert len(result.batch.runs) == 1
    assert [(e.path, e.line) for e in result.errors] == [
        (str(log), 2), (str(log), 3), (str(missing), 0),
    ]
    assert result.errors[0].reason.startswith("not JSON")


def test_deploy_rules_apply_across_files() -> None:
    runs = require_dataset("ci/github_actions/list_workflow_runs_mixed.json")
    result = read_run_files([runs], deploy_rules=parse_rules([{"workflow": "^Slow"}]))
    assert [(c.service, c.source) for c in result.batch.changes] == [
        ("GHWorkflowRunTest", "ingest")
    ]


def test_malformed_content_of_a_known_shape(tmp_path: Path) -> None:
    bad = tmp_path / "runs.json"
    bad.write_text(json.dumps({"total_count": 1, "workflow_runs": [{"id": 1}]}))
    result = read_run_files([bad])
    assert result.batch.runs == []
    assert "github_actions runs: unexpected content (KeyError" in result.errors[0].reason


def test_deploy_rule_details() -> None:
    body = json.loads(require_dataset("ci/github_actions/list_workflow_runs_mixed.json")
                      .read_text())
    runs = parse_runs(body)
    tagged = replace(runs[0], branch="v2.3.1", run_id="99")
    rules = parse_rules([{"branch": r"^v\d"}, {"workflow": "Fast", "service": "fast"}])
    changes = deploy_changes([tagged, *runs], [], rules)
    assert changes[0].version == "v2.3.1"  # a tag names the version
    assert changes[0].service == "GHWorkflowRunTest"  # first rule wins, no service: repo
    assert {c.service for c in changes[1:]} == {"fast"}
    running = replace(runs[0], status="running", conclusion="", finished_at=None)
    cancelled = replace(runs[0], conclusion="cancelled")
    assert deploy_changes([running, cancelled], [], rules) == []
    with pytest.raises(ValueError, match="not a regex"):
        parse_rules([{"workflow": "("}])
    with pytest.raises(ValueError, match="empty"):
        parse_rules([{}])
