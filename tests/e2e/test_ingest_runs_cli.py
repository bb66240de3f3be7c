"""``python -m opscockpit ingest runs`` on the recorded CI payloads, as a script would call it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opscockpit.store import Store
from tests.conftest import require_dataset


def _ingest(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opscockpit", "ingest", "runs",
                           *map(str, args)], capture_output=True, text=True, timeout=120,
                          check=False)


def test_every_recorded_payload_in_one_call(tmp_path: Path) -> None:
    ci = require_dataset("ci")
    db = tmp_path / "c.duckdb"
    files = sorted(ci.glob("*/*.json"))
    done = _ingest(*files, "--db", db)
    # The Jenkins job list (builds without results), the root job list and the Buildkite
    # build cannot be read: named on stderr, every good row stored, exit status 3.
    assert done.returncode == 3, done.stderr
    assert "ingested 33 rows from 13 files" in done.stdout
    assert "3 lines rejected" in done.stdout
    rejected = done.stderr.splitlines()
    assert [line.split(":", 1)[0] for line in rejected] == [
        str(ci / "buildkite/get_build.json"), str(ci / "jenkins/job_api_json.json"),
        str(ci / "jenkins/root_api_json_jobs.json"),
    ]
    assert "Buildkite is not supported yet" in rejected[0]
    with Store.open(db, read_only=True) as store:
        assert store.count("pipeline_runs") == 17
        providers = store.rows("SELECT DISTINCT provider FROM pipeline_runs ORDER BY 1")
        assert [p for (p,) in providers] == ["github_actions", "gitlab_ci", "jenkins"]
        commit = store.rows("SELECT count(*) FROM pipeline_runs WHERE committed_at IS NOT NULL")
        assert commit[0][0] == 12  # GitHub head commits, the GitLab hook, the Jenkins build


def test_provider_option_and_malformed_files(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    good = require_dataset("ci/gitlab/list_project_pipelines.json")
    broken = tmp_path / "truncated.json"
    broken.write_text('{"workflow_runs": [{"id": 1,')
    done = _ingest(good, broken, "--provider", "gitlab", "--db", db)
    assert done.returncode == 3
    assert done.stderr.startswith(f"{broken}:1: not JSON")
    assert "ingested 2 rows from 2 files" in done.stdout
    clean = _ingest(good, "--provider", "gitlab", "--db", db)
    assert (clean.returncode, clean.stderr) == (0, "")


@pytest.mark.parametrize(("option", "message"), [
    ("circleci", "unknown provider 'circleci': choose github, gitlab or jenkins"),
])
def test_unknown_provider_is_one_line(tmp_path: Path, option: str, message: str) -> None:
    done = _ingest(require_dataset("ci/gitlab/get_pipeline.json"), "--provider", option,
                   "--db", tmp_path / "c.duckdb")
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
