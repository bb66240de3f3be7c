"""Pipeline statistics on constructed run histories whose answers are worked out by hand."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opscockpit.analysis.pipelines import latest_runs, pipeline_stats, running_runs
from opscockpit.records import PipelineRun

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def run(
    i: int,
    conclusion: str,
    *,
    duration_s: float = 0.0,
    status: str = "completed",
    repo: str = "acme/api",
    workflow: str = "CI",
    branch: str = "main",
    provider: str = "github_actions",
    attempt: int = 1,
    at: datetime | None = None,
) -> PipelineRun:
    created = at or T0 + timedelta(hours=i)
    started = created + timedelta(seconds=10)
    return PipelineRun(
        ts=created, provider=provider, repo=repo, workflow=workflow, run_id=str(i),
        branch=branch, sha=f"sha{i}", status=status,
        conclusion=conclusion if status == "completed" else "",
        started_at=started,
        finished_at=started + timedelta(seconds=duration_s) if status == "completed" else None,
        url=f"https://ci/{i}", attempt=attempt,
    )


def frame(runs: list[PipelineRun]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in runs])


def history() -> pd.DataFrame:
    """Ten runs of acme/api CI (run i lasts i minutes), two of another pipeline."""
    outcomes = {3: "failure", 5: "cancelled", 7: "failure"}
    runs = [run(i, outcomes.get(i, "success"), duration_s=60 * i) for i in range(1, 10)]
    runs.insert(7, run(9, "", status="running"))  # seen running before it completed
    runs.append(run(10, "", status="running"))
    runs += [run(20 + i, "success", duration_s=30, repo="grp/web", workflow="pipeline",
                 provider="gitlab_ci") for i in range(2)]
    return frame(runs)


def test_latest_runs_keeps_the_completed_row() -> None:
    latest = latest_runs(history())
    assert len(latest) == 12
    assert latest.loc[latest["run_id"] == "9", "status"].tolist() == ["completed"]


def test_counts_rates_percentiles_and_strip() -> None:
    stats = pipeline_stats(history(), last_n=5, trend_window=3)
    assert list(stats["repo"]) == ["acme/api", "grp/web"]  # failures first
    api = stats.iloc[0]
    assert (api.provider, api.workflow) == ("github_actions", "CI")
    assert (api.runs, api.successes, api.failures, api.cancelled, api.running) == (10, 6, 2, 1, 1)
    assert api.completed == 8
    assert api.failure_rate == pytest.approx(2 / 8)
    # Durations of runs with a verdict: 1,2,3,4,6,7,8,9 minutes.
    assert api.duration_p50_s == pytest.approx(300)
    assert api.duration_p95_s == pytest.approx(480 + 0.65 * 60)
    # Last three (7,8,9 min: median 8) against the three before (3,4,6 min: median 4).
    assert api.duration_trend == pytest.approx(1.0)
    assert api.queue_p50_s == pytest.approx(10)
    assert api.last_runs == ["success", "failure", "success", "success", "running"]
    assert api.durations == [240.0, 360.0, 420.0, 480.0, 540.0]  # runs 4, 6, 7, 8, 9
    assert api.last_conclusion == "success"
    assert api.last_run_at == pd.Timestamp(T0 + timedelta(hours=10))
    web = stats.iloc[1]
    assert (web.runs, web.failures, web.failure_rate, web.flaky_jobs) == (2, 0, 0.0, 0)
    assert pd.isna(web.duration_trend)


def test_by_branch_and_stale_running_runs() -> None:
    runs = [run(1, "failure", duration_s=60), run(2, "success", duration_s=60, branch="dev"),
            run(3, "", status="running", at=T0 - timedelta(days=3)),
            run(4, "", status="queued")]
    stats = pipeline_stats(frame(runs), by_branch=True, now=T0 + timedelta(hours=5))
    assert list(stats["branch"]) == ["main", "dev"]
    main = stats.iloc[0]
    assert main.runs == 3 and main.running == 1  # the 3-day-old "running" run is lost
    assert main.longest_running_s == pytest.approx(3600 - 10)
    assert main.failure_rate == 1.0
    still = running_runs(frame(runs), now=T0 + timedelta(hours=5))
    assert still["run_id"].tolist() == ["4"]


def test_flaky_counts_and_empty_input() -> None:
    flaky = pd.DataFrame({"provider": ["github_actions"] * 2, "repo": ["acme/api"] * 2,
                          "workflow": ["CI"] * 2, "job": ["unit", "e2e"]})
    stats = pipeline_stats(history(), flaky=flaky)
    assert stats.set_index("repo").loc["acme/api", "flaky_jobs"] == 2
    empty = pipeline_stats(history().iloc[0:0])
    assert empty.empty
    assert {"provider", "repo", "workflow", "runs", "failures", "failure_rate",
            "duration_p50_s", "duration_p95_s", "flaky_jobs"} <= set(empty.columns)


def test_frames_read_back_from_a_store_work_too() -> None:
    """DuckDB hands back datetime64 columns and NaT for missing times."""
    df = history()
    for col in ("ts", "started_at", "finished_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    a = pipeline_stats(df)
    b = pipeline_stats(history())
    pd.testing.assert_frame_equal(a.drop(columns=["last_runs", "durations"]),
                                  b.drop(columns=["last_runs", "durations"]))


STATUS_CHOICES = [("completed", "success"), ("completed", "failure"),
                  ("completed", "cancelled"), ("completed", "timed_out"), ("running", "")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 30), st.integers(1, 2),
                          st.sampled_from(STATUS_CHOICES), st.integers(1, 900)),
                min_size=1, max_size=60))
def test_counts_match_a_plain_python_count(rows: list[tuple[int, int, int, tuple[str, str], int]]
                                           ) -> None:
    runs = []
    for n, (wf, run_id, attempt, (status, conclusion), seconds) in enumerate(rows):
        at = T0 + timedelta(minutes=n)
        runs.append(run(wf * 100 + run_id, conclusion, status=status, duration_s=seconds,
                        workflow=f"wf{wf}", attempt=attempt, at=at))
    stats = pipeline_stats(frame(runs)).set_index("workflow")
    last: dict[tuple[str, str, int], PipelineRun] = {}
    for r in runs:  # the completed row wins, else the newest
        key = (r.workflow, r.run_id, r.attempt)
        if key not in last or r.status == "completed" or last[key].status != "completed":
            last[key] = r
    for wf, group in stats.iterrows():
        mine = [r for k, r in last.items() if k[0] == wf]
        failures = sum(r.conclusion in ("failure", "timed_out") for r in mine)
        verdicts = failures + sum(r.conclusion == "success" for r in mine)
        assert group.runs == len(mine)
        assert group.failures == failures
        assert group.running == sum(r.status == "running" for r in mine)
        if verdicts:
            assert group.failure_rate == pytest.approx(failures / verdicts)
        else:
            assert pd.isna(group.failure_rate)
