"""Flaky jobs: the same code both failed and passed.

Two kinds of evidence, both about one job name in one pipeline:

* ``rerun``: in one run, an attempt failed and a later attempt passed (GitHub re-runs,
  GitLab retried jobs). Needs no commit, so it works for Jenkins too.
* ``same_commit``: across runs of the same commit (``sha``), the job failed at least once
  and passed at least once.

A commit with both kinds counts once, as ``rerun`` (the stronger evidence).
"""

from __future__ import annotations

import pandas as pd

from opscockpit.analysis.pipelines import FAILED, PASSED, latest_runs

FLAKY_COLUMNS = (
    "provider", "repo", "workflow", "job", "flaky_commits", "reruns", "runs", "failures",
    "flake_rate", "last_flaky_at", "reason", "examples",
)


def flaky_jobs(jobs: pd.DataFrame, runs: pd.DataFrame, *, examples: int = 5) -> pd.DataFrame:
    """One row per flaky job, most flaky first.

    ``jobs`` and ``runs`` are the ``pipeline_jobs`` and ``pipeline_runs`` frames; runs give
    each job its workflow and commit. ``flaky_commits`` counts commits (or, without a sha,
    runs) on which the job flaked; ``flake_rate`` divides that by the commits the job ran
    on; ``examples`` lists up to ``examples`` of those commits, newest first.
    """
    if jobs.empty:
        return pd.DataFrame(columns=list(FLAKY_COLUMNS))
    facts = latest_runs(jobs, ("provider", "repo", "run_id", "job_id", "attempt"))
    run_info = (
        latest_runs(runs)
        .drop_duplicates(["provider", "repo", "run_id"], keep="last")[
            ["provider", "repo", "run_id", "workflow", "sha"]
        ]
        if not runs.empty
        else pd.DataFrame(columns=["provider", "repo", "run_id", "workflow", "sha"])
    )
    facts = facts.merge(run_info, on=["provider", "repo", "run_id"], how="left")
    facts["workflow"] = facts["workflow"].fillna("")
    facts["sha"] = facts["sha"].fillna("")
    facts = facts.rename(columns={"name": "job"})
    return flaky_units(facts, examples=examples)


def flaky_runs(runs: pd.DataFrame, *, examples: int = 5) -> pd.DataFrame:
    """The same test at the level of whole runs: ``job`` is the workflow's name."""
    if runs.empty:
        return pd.DataFrame(columns=list(FLAKY_COLUMNS))
    facts = latest_runs(runs).assign(job=lambda d: d["workflow"])
    return flaky_units(facts, examples=examples)


def flaky_units(facts: pd.DataFrame, *, examples: int = 5) -> pd.DataFrame:
    """Core of both: ``facts`` has provider, repo, workflow, job, run_id, attempt, sha,
    status, conclusion and ts (one row per attempt)."""
    done = facts["status"].astype("string").str.lower().eq("completed").fillna(False)
    conclusion = facts["conclusion"].fillna("").astype("string").str.lower()
    df = facts.assign(
        failed=(done & conclusion.isin(FAILED)).astype(bool),
        passed=(done & conclusion.isin(PASSED)).astype(bool),
        ts=pd.to_datetime(facts["ts"], utc=True),
        attempt=pd.to_numeric(facts["attempt"], errors="coerce").fillna(1).astype("int64"),
    )
    df = df[df["failed"] | df["passed"]]
    if df.empty:
        return pd.DataFrame(columns=list(FLAKY_COLUMNS))
    job_keys = ["provider", "repo", "workflow", "job"]
    # Commit identity: the sha, or the run itself when the system names no commit.
    df = df.assign(commit=df["sha"].where(df["sha"] != "", "run:" + df["run_id"].astype(str)))

    fail_attempt = df["attempt"].where(df["failed"])
    pass_attempt = df["attempt"].where(df["passed"])
    per_run = df.assign(fail_attempt=fail_attempt, pass_attempt=pass_attempt).groupby(
        [*job_keys, "run_id", "commit"], dropna=False
    ).agg(
        first_fail=("fail_attempt", "min"),
        last_pass=("pass_attempt", "max"),
        ts=("ts", "max"),
    ).reset_index()
    per_run["rerun"] = per_run["first_fail"] < per_run["last_pass"]

    per_commit = df.groupby([*job_keys, "commit"], dropna=False).agg(
        any_failed=("failed", "any"), any_passed=("passed", "any"), ts=("ts", "max")
    ).reset_index()
    reruns = per_run[per_run["rerun"]].groupby([*job_keys, "commit"], dropna=False).size()
    per_commit = per_commit.merge(
        reruns.rename("reruns").reset_index(), on=[*job_keys, "commit"], how="left"
    )
    per_commit["reruns"] = per_commit["reruns"].fillna(0).astype("int64")
    per_commit["flaky"] = (per_commit["any_failed"] & per_commit["any_passed"]) | (
        per_commit["reruns"] > 0
    )

    totals = df.groupby(job_keys, dropna=False).agg(
        runs=("run_id", "nunique"), failures=("failed", "sum")
    )
    commits_seen = per_commit.groupby(job_keys, dropna=False).size()
    flaky = per_commit[per_commit["flaky"]].sort_values("ts", ascending=False, kind="stable")
    if flaky.empty:
        return pd.DataFrame(columns=list(FLAKY_COLUMNS))
    grouped = flaky.groupby(job_keys, dropna=False, sort=False)
    out = grouped.agg(
        flaky_commits=("commit", "size"),
        reruns=("reruns", "sum"),
        last_flaky_at=("ts", "max"),
        examples=("commit", lambda c: list(c[:examples])),
        rerun_commits=("reruns", lambda r: int((r > 0).sum())),
    )
    out = out.join(totals)
    out["flake_rate"] = out["flaky_commits"] / commits_seen.reindex(out.index)
    out["reason"] = out["rerun_commits"].gt(0).map({True: "rerun", False: "same_commit"})
    out = out.reset_index().sort_values(
        ["flaky_commits", "flake_rate", "last_flaky_at"], ascending=False, kind="stable"
    )
    for col in ("flaky_commits", "reruns", "runs", "failures"):
        out[col] = out[col].astype("int64")
    return out[list(FLAKY_COLUMNS)].reset_index(drop=True)
