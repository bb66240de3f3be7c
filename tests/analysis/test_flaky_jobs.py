"""Flaky jobs on constructed histories: re-runs, same-commit flips, and honest non-flakes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pandas as pd

from opscockpit.analysis.flaky_jobs import flaky_jobs, flaky_runs
from opscockpit.records import PipelineJob, PipelineRun

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def run(run_id: str, sha: str, attempt: int = 1, conclusion: str = "success",
        provider: str = "github_actions") -> PipelineRun:
    ts = T0 + timedelta(hours=int(run_id))
    return PipelineRun(ts=ts, provider=provider, repo="acme/api", workflow="CI",
                       run_id=run_id, branch="main", sha=sha, status="completed",
                       conclusion=conclusion, started_at=ts, finished_at=ts, url="",
                       attempt=attempt)


def job(run_id: str, name: str, conclusion: str, attempt: int = 1,
        provider: str = "github_actions") -> PipelineJob:
    ts = T0 + timedelta(hours=int(run_id), minutes=attempt)
    return PipelineJob(ts=ts, provider=provider, repo="acme/api", run_id=run_id,
                       job_id=f"{run_id}-{name}-{attempt}", name=name, status="completed",
                       conclusion=conclusion, started_at=ts, finished_at=ts, url="",
                       attempt=attempt)


def frame(records: list[object]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in records])  # type: ignore[call-overload]


def test_rerun_and_same_commit_flakes() -> None:
    runs = frame([run("1", "aaa"), run("2", "bbb"), run("3", "bbb"), run("4", "ccc")])
    jobs = frame([
        # run 1: e2e failed, passed on re-run (attempt 2) -> rerun flake on aaa
        job("1", "e2e", "failure"), job("1", "e2e", "success", attempt=2),
        job("1", "unit", "success"), job("1", "unit", "success", attempt=2),
        # runs 2 and 3 build the same commit bbb: e2e failed then passed -> same_commit
        job("2", "e2e", "failure"), job("3", "e2e", "success"),
        # lint fails on ccc only: broken there, not flaky
        job("2", "lint", "failure"), job("4", "lint", "failure"), job("3", "lint", "success"),
        # build: cancelled then success on the same commit is no verdict, not a flake
        job("2", "build", "cancelled"), job("3", "build", "success"),
    ])
    found = flaky_jobs(jobs, runs)
    assert found["job"].tolist() == ["e2e", "lint"]
    e2e = found.iloc[0]
    assert (e2e.workflow, e2e.flaky_commits, e2e.reruns, e2e.reason) == ("CI", 2, 1, "rerun")
    assert e2e.examples == ["bbb", "aaa"]  # newest first
    assert e2e.flake_rate == 1.0  # both commits e2e ran on flaked
    assert (e2e.runs, e2e.failures) == (3, 2)
    # lint on bbb: failed in run 2, passed in run 3 -> one flaky commit of two (bbb, ccc).
    lint = found.iloc[1]
    assert (lint.flaky_commits, lint.reason, lint.examples) == (1, "same_commit", ["bbb"])
    assert lint.flake_rate == 0.5


def test_without_commits_reruns_still_count() -> None:
    runs = frame([run("1", "", provider="jenkins"), run("2", "", provider="jenkins")])
    jobs = frame([job("1", "Test", "failure", provider="jenkins"),
                  job("2", "Test", "success", provider="jenkins")])
    assert flaky_jobs(jobs, runs).empty  # no commit: two runs are not the same code
    jobs = frame([job("1", "Test", "failure", provider="jenkins"),
                  job("1", "Test", "success", attempt=2, provider="jenkins")])
    found = flaky_jobs(jobs, runs)
    assert found[["job", "reason", "examples"]].values.tolist() == [["Test", "rerun", ["run:1"]]]


def test_whole_runs_and_empty_frames() -> None:
    runs = frame([run("1", "aaa", conclusion="failure"), run("1", "aaa", attempt=2),
                  run("2", "bbb")])
    found = flaky_runs(runs)
    assert found[["job", "flaky_commits", "reason"]].values.tolist() == [["CI", 1, "rerun"]]
    assert flaky_jobs(frame([]).reindex(columns=["name"]), runs).empty
    assert flaky_runs(frame([run("1", "a")])).empty
