"""The Pipelines pane's view: every pipeline's state, its last runs, flaky jobs, DORA keys.

The analyzer keeps, in memory, the latest row of each recent run attempt (the store
appends one row per state a run was seen in) and the jobs of those runs, bounded per
pipeline, plus the recent deploy changes. ``view`` turns them into an immutable
:class:`PipelinesView` with the same analysis functions the report uses. pandas is
loaded only when there is something to show, so a cockpit without CI never pays for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opscockpit.analyzers.base import Analyzer
from opscockpit.records import Change, ChangeKind, PipelineJob, PipelineRun
from opscockpit.sources.base import Batch
from opscockpit.store import Store

RunKey = tuple[str, str, str, int]  # provider, repo, run_id, attempt
PipeKey = tuple[str, str, str, str]  # provider, repo, workflow, branch
Run3 = tuple[str, str, str]  # provider, repo, run_id


def outcome_of(status: str, conclusion: str) -> str:
    """A completed run's conclusion, else its status: the word a row shows."""
    status = (status or "").lower()
    if status == "completed":
        return (conclusion or "").lower() or "completed"
    return status or "unknown"


@dataclass(frozen=True, slots=True)
class DoraStrip:
    """The four keys over ``days`` days up to ``until``."""

    deployment_frequency_per_day: float
    lead_time_p50_s: float | None
    change_failure_rate: float | None
    time_to_restore_p50_s: float | None
    deployments: int
    failed_deployments: int
    days: float
    until: datetime


@dataclass(frozen=True, slots=True)
class JobLine:
    job_id: str
    name: str
    outcome: str
    attempt: int
    started_at: datetime | None
    duration_s: float | None
    failed_step: str
    url: str


@dataclass(frozen=True, slots=True)
class RunLine:
    run_id: str
    attempt: int
    outcome: str
    branch: str
    sha: str
    actor: str
    event: str
    created_at: datetime
    duration_s: float | None
    url: str
    jobs: tuple[JobLine, ...] = ()

    @property
    def failed_jobs(self) -> tuple[JobLine, ...]:
        return tuple(j for j in self.jobs if j.outcome in FAILED_OUTCOMES)


@dataclass(frozen=True, slots=True)
class FlakyJob:
    provider: str
    repo: str
    workflow: str
    job: str
    flaky_commits: int
    flake_rate: float
    reason: str  # rerun or same_commit


@dataclass(frozen=True, slots=True)
class PipelineLine:
    """One pipeline (provider, repo, workflow, branch) and its recent runs."""

    provider: str
    repo: str
    workflow: str
    branch: str
    outcome: str  # the latest run's
    last_verdict: str  # the latest completed run's conclusion
    last_run_at: datetime
    last_runs: tuple[str, ...]  # outcomes, oldest first
    durations: tuple[float, ...]  # durations of the runs with a verdict, oldest first
    runs: int
    failures: int
    failure_rate: float | None
    running: int
    duration_p50_s: float | None
    duration_p95_s: float | None
    flaky: tuple[FlakyJob, ...] = ()
    history: tuple[RunLine, ...] = ()  # newest first

    @property
    def key(self) -> PipeKey:
        return (self.provider, self.repo, self.workflow, self.branch)

    @property
    def name(self) -> str:
        return f"{self.repo} {self.workflow}"


@dataclass(frozen=True, slots=True)
class PipelinesView:
    at: datetime
    dora: DoraStrip | None
    pipelines: tuple[PipelineLine, ...]
    running: int
    failing: int
    flaky: tuple[FlakyJob, ...] = ()

    def find(self, key: PipeKey) -> PipelineLine | None:
        return next((p for p in self.pipelines if p.key == key), None)


FAILED_OUTCOMES = frozenset({"failure", "timed_out", "startup_failure", "unstable"})


def _newer(old: Any, new: Any) -> bool:
    """The rule of ``latest_runs``: a completed row is never replaced by an open one."""
    return old is None or new.status == "completed" or old.status != "completed"


class RunMemory:
    """The latest row of the recent runs of each pipeline, their jobs, recent deploys."""

    def __init__(self, keep_runs: int = 50, keep_deploys: int = 2000,
                 max_runs: int = 20_000) -> None:
        self.keep_runs = keep_runs  # per pipeline (provider, repo, workflow, branch)
        self.keep_deploys = keep_deploys
        self.max_runs = max_runs  # in all: many short-lived branches must not grow it
        self.runs: dict[RunKey, PipelineRun] = {}
        self.pipes: dict[PipeKey, set[RunKey]] = {}
        self.attempts: dict[Run3, int] = {}
        self.jobs: dict[Run3, dict[tuple[str, int], PipelineJob]] = {}
        self.deploys: dict[str, Change] = {}
        # Runs dropped for age: their late jobs are dropped too (bounded, oldest first).
        self.forgotten: dict[Run3, None] = {}
        self.version = 0

    def add_run(self, run: PipelineRun) -> None:
        key = (run.provider, run.repo, run.run_id, run.attempt)
        old = self.runs.get(key)
        if old == run or not _newer(old, run):
            return
        self.version += 1
        self.runs[key] = run
        if old is None:
            run3 = key[:3]
            self.attempts[run3] = self.attempts.get(run3, 0) + 1
            self.forgotten.pop(run3, None)
        pipe = (run.provider, run.repo, run.workflow, run.branch)
        members = self.pipes.setdefault(pipe, set())
        members.add(key)
        if len(members) > self.keep_runs:
            self._forget(min(members, key=lambda k: self.runs[k].ts))
        if len(self.runs) > self.max_runs * 1.1:
            # The oldest runs of all go, in one sort per 10 % of growth.
            by_age = sorted(self.runs, key=lambda k: self.runs[k].ts)
            for old_key in by_age[: len(self.runs) - self.max_runs]:
                self._forget(old_key)

    def _forget(self, key: RunKey) -> None:
        run = self.runs.pop(key)
        pipe = (run.provider, run.repo, run.workflow, run.branch)
        self.pipes[pipe].discard(key)
        if not self.pipes[pipe]:
            del self.pipes[pipe]
        run3 = key[:3]
        self.attempts[run3] -= 1
        if self.attempts[run3] <= 0:
            del self.attempts[run3]
            self.jobs.pop(run3, None)
            self.forgotten[run3] = None
            if len(self.forgotten) > 5000:
                del self.forgotten[next(iter(self.forgotten))]

    def add_job(self, job: PipelineJob) -> None:
        run3 = (job.provider, job.repo, job.run_id)
        if run3 in self.forgotten and run3 not in self.attempts:
            return
        per = self.jobs.setdefault(run3, {})
        key = (job.job_id, job.attempt)
        old = per.get(key)
        if old == job or not _newer(old, job):
            return
        self.version += 1
        per[key] = job
        # Jobs whose run was never seen (a jobs file alone): bounded, oldest dropped.
        orphans = len(self.jobs) - len(self.attempts)
        if orphans > 2000:
            for run3 in [r for r in self.jobs if r not in self.attempts][:orphans - 1000]:
                del self.jobs[run3]

    def add_change(self, change: Change) -> None:
        if str(change.kind) != ChangeKind.DEPLOY.value or self.deploys.get(change.id) == change:
            return
        self.version += 1
        self.deploys[change.id] = change
        if len(self.deploys) > self.keep_deploys * 1.1:
            newest = sorted(self.deploys.values(), key=lambda c: c.ts)[-self.keep_deploys:]
            self.deploys = {c.id: c for c in newest}

    def observe(self, batch: Batch) -> None:
        for run in batch.runs:
            self.add_run(run)
        for job in batch.jobs:
            self.add_job(job)
        for change in batch.changes:
            self.add_change(change)
        for table, add, cls in (("pipeline_runs", self.add_run, PipelineRun),
                                ("pipeline_jobs", self.add_job, PipelineJob),
                                ("changes", self.add_change, Change)):
            frame = batch.frames.get(table)
            if frame is not None and len(frame):
                for record in records_of_frame(frame, cls):
                    add(record)  # type: ignore[operator]

    def contents(self) -> tuple[list[PipelineRun], list[PipelineJob], list[Change]]:
        jobs = [j for run3 in self.attempts for j in self.jobs.get(run3, {}).values()]
        return list(self.runs.values()), jobs, list(self.deploys.values())


def make_record(cls: type, values: dict[str, Any]) -> Any:
    """A record from stored values: NULL text is "", NaN/NaT is None, kinds are enums."""
    fields = cls.__dataclass_fields__
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            continue
        if value is not None and value != value:  # NaN, NaT
            value = None
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        if value is None and fields[name].type == "str":
            value = ""
        clean[name] = value
    if cls is Change:
        clean["kind"] = ChangeKind(str(clean.get("kind") or "deploy"))
    if "attempt" in clean:
        clean["attempt"] = int(clean["attempt"] or 1)
    return cls(**clean)


def records_of_frame(frame: Any, cls: type) -> list[Any]:
    """Rows of a ready frame (a replay, a bulk import) as records."""
    names = [f for f in cls.__dataclass_fields__ if f in frame.columns]
    return [make_record(cls, dict(zip(names, row, strict=True)))
            for row in frame[names].itertuples(index=False, name=None)]


class PipelinesAnalyzer(Analyzer):
    name = "pipelines"

    def __init__(self, *, keep_runs: int = 50, last_n: int = 20, dora_days: float = 30.0,
                 recompute_s: float = 30.0) -> None:
        self.memory = RunMemory(keep_runs=keep_runs)
        self.last_n = last_n
        self.dora_days = dora_days
        self.recompute_s = recompute_s
        self._lock = threading.Lock()  # observe (intake thread) vs view (snapshot thread)
        self._cache: tuple[tuple[int, int], PipelinesView] | None = None
        self._lines: dict[Any, Any] = {}  # drill-down lines kept between views

    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        if batch.runs or batch.jobs or batch.changes or batch.frames:
            with self._lock:
                self.memory.observe(batch)
        return None

    def restore(self, store: Store) -> None:
        """Reload the recent runs, their jobs and deploys from the store (no pandas)."""
        from opscockpit.store import pipeline_queries as q

        keep, limit = self.memory.keep_runs, self.memory.max_runs
        runs = [make_record(PipelineRun, dict(zip(q.RUN_COLUMNS, row, strict=True)))
                for row in q.recent_runs(store, keep, limit)]
        jobs = [make_record(PipelineJob, dict(zip(q.JOB_COLUMNS, row, strict=True)))
                for row in q.jobs_of_recent_runs(store, keep, limit)]
        deploys = [make_record(Change, dict(zip(q.CHANGE_COLUMNS, row, strict=True)))
                   for row in q.recent_deploys(store, self.memory.keep_deploys)]
        with self._lock:
            self.memory.observe(Batch(runs=runs, jobs=jobs, changes=deploys))

    def view(self, store: Store, now: datetime) -> PipelinesView | None:
        with self._lock:
            if not self.memory.runs and not self.memory.deploys:
                return None
            stamp = (self.memory.version, int(now.timestamp() // self.recompute_s))
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            runs, jobs, deploys = self.memory.contents()
        from opscockpit.analyzers.pipelines_build import build_view

        view = build_view(runs, jobs, deploys, store, now, last_n=self.last_n,
                          dora_period=timedelta(days=self.dora_days), lines=self._lines)
        self._cache = (stamp, view)
        return view
