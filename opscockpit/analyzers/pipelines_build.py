"""Build a :class:`~opscockpit.analyzers.pipelines.PipelinesView` from run records.

Kept apart from the analyzer because it needs pandas: the analyzer imports this module
only when there are runs to show. The statistics are the report's (``analysis/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from opscockpit.analysis.dora import deploys_from_changes, dora_metrics
from opscockpit.analysis.flaky_jobs import flaky_jobs
from opscockpit.analysis.pipelines import FAILED, pipeline_stats
from opscockpit.analyzers.pipelines import (
    DoraStrip,
    FlakyJob,
    JobLine,
    PipelineLine,
    PipelinesView,
    RunLine,
    outcome_of,
)
from opscockpit.records import Change, PipelineJob, PipelineRun, utc
from opscockpit.store import Store
from opscockpit.store import pipeline_queries as q

# Only what the statistics read: building the frame is most of a view's cost.
RUN_FIELDS = ("ts", "provider", "repo", "workflow", "run_id", "branch", "sha", "status",
              "conclusion", "started_at", "finished_at", "attempt")
JOB_FIELDS = ("ts", "provider", "repo", "run_id", "job_id", "name", "status", "conclusion",
              "attempt")
RunLines = dict[tuple[str, str, str, int],
                tuple[PipelineRun, tuple[PipelineJob, ...], RunLine]]


def records_frame(records: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """Records as a frame, built column by column (far faster than row by row)."""
    frame = pd.DataFrame({c: [getattr(r, c) for r in records] for c in columns},
                         columns=list(columns))
    if "kind" in frame:
        frame["kind"] = frame["kind"].astype(str)
    return frame


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def build_view(
    runs: Sequence[PipelineRun],
    jobs: Sequence[PipelineJob],
    deploys: Sequence[Change],
    store: Store,
    now: datetime,
    *,
    last_n: int = 20,
    dora_period: timedelta = timedelta(days=30),
    lines: RunLines | None = None,
) -> PipelinesView:
    """``lines`` caches the drill-down line of each run between calls: most runs and
    their jobs do not change from one view to the next."""
    # Time order, re-runs (same creation time) by attempt: the later attempt is the latest.
    runs = sorted(runs, key=lambda r: (r.ts, r.attempt))
    runs_df = records_frame(runs, RUN_FIELDS)
    jobs_df = records_frame(jobs, JOB_FIELDS)
    flaky_df = flaky_jobs(jobs_df, runs_df)
    flaky = tuple(
        FlakyJob(str(r.provider), str(r.repo), str(r.workflow), str(r.job),
                 int(r.flaky_commits), float(r.flake_rate), str(r.reason))
        for r in flaky_df.itertuples(index=False)
    )
    stats = pipeline_stats(runs_df, now=now, by_branch=True, flaky=flaky_df, last_n=last_n)
    history = _histories(runs, jobs, {} if lines is None else lines)
    lines = []
    for r in stats.itertuples(index=False):
        key = (str(r.provider), str(r.repo), str(r.workflow), str(r.branch))
        past = history.get(key, ())
        lines.append(PipelineLine(
            provider=key[0], repo=key[1], workflow=key[2], branch=key[3],
            outcome=past[0].outcome if past else "unknown",
            last_verdict=str(r.last_conclusion or ""),
            last_run_at=utc(pd.Timestamp(r.last_run_at).to_pydatetime()),
            last_runs=tuple(str(o) for o in r.last_runs),
            durations=tuple(float(d) for d in r.durations),
            runs=int(r.runs), failures=int(r.failures),
            failure_rate=_float(r.failure_rate), running=int(r.running),
            duration_p50_s=_float(r.duration_p50_s), duration_p95_s=_float(r.duration_p95_s),
            flaky=tuple(f for f in flaky if (f.provider, f.repo, f.workflow) == key[:3]),
            history=past,
        ))
    # Failing now first, then what runs now, then the most recently active.
    lines.sort(key=lambda p: (p.last_verdict not in FAILED, p.running == 0,
                              -p.last_run_at.timestamp(), p.key))
    return PipelinesView(
        at=now,
        dora=dora_strip(deploys, store, now, dora_period,
                        known_since=min([*(r.ts for r in runs[:1]), *(d.ts for d in deploys)],
                                        default=None)),
        pipelines=tuple(lines),
        running=sum(p.running for p in lines),
        failing=sum(p.last_verdict in FAILED for p in lines),
        flaky=flaky,
    )


def _histories(
    runs: Sequence[PipelineRun], jobs: Sequence[PipelineJob], cache: RunLines
) -> dict[tuple[str, str, str, str], tuple[RunLine, ...]]:
    """Per pipeline, its runs newest first (``runs`` come oldest first)."""
    by_run: dict[tuple[str, str, str, int], list[PipelineJob]] = {}
    for job in jobs:
        by_run.setdefault((job.provider, job.repo, job.run_id, job.attempt), []).append(job)
    out: dict[tuple[str, str, str, str], list[RunLine]] = {}
    fresh: RunLines = {}
    for run in reversed(runs):
        key = (run.provider, run.repo, run.run_id, run.attempt)
        own = tuple(by_run.get(key, ()))
        hit = cache.get(key)
        # Tuples compare item identity first, in C: unchanged runs cost a lookup.
        line = hit[2] if hit is not None and hit[0] is run and hit[1] == own else (
            _run_line(run, own))
        fresh[key] = (run, own, line)
        out.setdefault((run.provider, run.repo, run.workflow, run.branch), []).append(line)
    cache.clear()
    cache.update(fresh)
    return {k: tuple(v) for k, v in out.items()}


def _run_line(run: PipelineRun, jobs: Sequence[PipelineJob]) -> RunLine:
    own = sorted(jobs, key=lambda j: (j.started_at or j.ts, j.name))
    return RunLine(
        run_id=run.run_id, attempt=run.attempt,
        outcome=outcome_of(run.status, run.conclusion), branch=run.branch,
        sha=run.sha, actor=run.actor, event=run.event, created_at=run.ts,
        duration_s=_seconds(run.started_at, run.finished_at), url=run.url,
        jobs=tuple(
            JobLine(job_id=j.job_id, name=j.name, outcome=outcome_of(j.status, j.conclusion),
                    attempt=j.attempt, started_at=j.started_at,
                    duration_s=_seconds(j.started_at, j.finished_at),
                    failed_step=j.failed_step, url=j.url)
            for j in own
        ),
    )


def dora_strip(
    deploys: Sequence[Change], store: Store, now: datetime, period: timedelta,
    known_since: datetime | None = None,
) -> DoraStrip | None:
    """DORA over ``period`` up to now; for imported history, up to its newest deploy.

    The period starts no earlier than the oldest run or deploy known (``known_since``):
    an hour-long recording with one deploy deployed once that day, not once a month.
    """
    if not deploys:
        return None
    end = now
    if not any(end - period <= d.ts <= end for d in deploys):
        end = max(d.ts for d in deploys)
    start = end - period
    if known_since is not None and known_since > start:
        start = min(known_since, end)
    chosen = [d for d in deploys if start <= d.ts <= end]
    changes = records_frame(chosen, q.CHANGE_COLUMNS)
    commits = q.commit_times_frame(store, [d.sha for d in chosen if d.sha])
    found = deploys_from_changes(changes, commits)
    m = dora_metrics(found, incidents=q.incidents_frame(store, start, end), start=start,
                     end=end)
    return DoraStrip(
        deployment_frequency_per_day=m.deployment_frequency_per_day,
        lead_time_p50_s=m.lead_time_p50_s,
        change_failure_rate=m.change_failure_rate,
        time_to_restore_p50_s=m.time_to_restore_p50_s,
        deployments=m.deployments,
        failed_deployments=m.failed_deployments,
        days=m.days,
        until=end,
    )
