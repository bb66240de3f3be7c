"""A fixed CI history and the Pipelines view the analyzer makes of it (no clock, no network).

Three systems, six pipelines: a deploy workflow that failed then recovered, a CI workflow
whose ``test`` job failed then passed on re-run (flaky), a run in progress, GitLab and
Jenkins pipelines. ``at`` is fixed, so the view (and every screenshot) is reproducible.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from opscockpit.analyzers.pipelines import PipelinesAnalyzer, PipelinesView
from opscockpit.records import PipelineJob, PipelineRun
from opscockpit.snapshot import Snapshot
from opscockpit.sources.base import Batch, HealthState, SourceHealth
from opscockpit.sources.deploy_rules import deploy_changes, parse_rules
from opscockpit.store import Store
from tests.ui.fixtures import AT, fixed_snapshot

GH = "https://github.com/acme/checkout/actions/runs"


def _run(run_id: int, workflow: str, hours_ago: float, conclusion: str, *, took_s: float = 300,
         repo: str = "acme/checkout", provider: str = "github_actions", branch: str = "main",
         sha: str = "", attempt: int = 1, status: str = "completed") -> PipelineRun:
    created = AT - timedelta(hours=hours_ago)
    done = status == "completed"
    url = (f"{GH}/{run_id}" if provider == "github_actions"
           else f"https://ci.example.com/{repo}/{run_id}/")
    return PipelineRun(
        ts=created, provider=provider, repo=repo, workflow=workflow, run_id=str(run_id),
        branch=branch, sha=sha or hashlib.sha1(str(run_id).encode()).hexdigest(), status=status,
        conclusion=conclusion if done else "", started_at=created + timedelta(seconds=20),
        finished_at=created + timedelta(seconds=20 + took_s) if done else None, url=url,
        actor="dana", event="push", attempt=attempt,
        committed_at=created - timedelta(minutes=30),
    )


def _job(run: PipelineRun, name: str, conclusion: str, failed_step: str = "",
         took_s: float = 120) -> PipelineJob:
    start = run.started_at or run.ts
    return PipelineJob(
        ts=run.ts, provider=run.provider, repo=run.repo, run_id=run.run_id,
        job_id=f"{run.run_id}{run.attempt}{len(name)}{name[0]}", name=name, status="completed",
        conclusion=conclusion, started_at=start, finished_at=start + timedelta(seconds=took_s),
        url=f"https://github.com/{run.repo}/actions/runs/{run.run_id}/job/{len(name)}",
        failed_step=failed_step, attempt=run.attempt,
    )


def history() -> Batch:
    runs: list[PipelineRun] = []
    jobs: list[PipelineJob] = []
    # CI of checkout: mostly green; 9001 failed in "test" and passed on re-run (flaky).
    for i in range(14):
        run = _run(9000 - i, "CI", 2 + i * 5, "success", took_s=260 + 25 * (i % 4))
        runs.append(run)
        jobs += [_job(run, "build", "success"), _job(run, "test", "success")]
    first = _run(9001, "CI", 1.5, "failure", took_s=240)
    rerun = replace(_run(9001, "CI", 1.5, "success", took_s=250), attempt=2)
    runs += [first, rerun]
    jobs += [_job(first, "build", "success"),
             _job(first, "test", "failure", "Run pytest -q"),
             _job(rerun, "build", "success"), _job(rerun, "test", "success")]
    # Deploy of checkout: failed at 7 h, restored at 5 h; the latest deploy failed again.
    for run_id, ago, verdict in ((700, 30, "success"), (701, 20, "success"),
                                 (702, 7, "failure"), (703, 5, "success"),
                                 (704, 0.5, "failure")):
        run = _run(run_id, "Deploy production", ago, verdict, took_s=180)
        runs.append(run)
        step = "kubectl rollout status deploy/checkout" if verdict == "failure" else ""
        jobs += [_job(run, "deploy", verdict, step)]
    # A pull-request branch, in progress now.
    runs.append(_run(9100, "CI", 0.1, "", branch="feature/cart-v2", status="running"))
    runs.append(_run(9099, "CI", 3, "success", branch="feature/cart-v2", took_s=280))
    # GitLab: a long pipeline; Jenkins: nightly build, unstable twice.
    for i in range(8):
        runs.append(_run(31 + i, "pipeline", 1 + i * 12, "success", took_s=900 + 60 * i,
                         repo="platform/billing", provider="gitlab_ci", branch="master"))
    for i, verdict in enumerate(["success", "unstable", "success", "unstable", "success"]):
        runs.append(_run(120 - i, "nightly", 6 + 24 * i, verdict, took_s=3000 + 100 * i,
                         repo="ops/data-loader", provider="jenkins", branch=""))
    changes = deploy_changes(runs, jobs, parse_rules([{"workflow": "^Deploy"}]),
                             source="gh")
    return Batch(runs=runs, jobs=jobs, changes=changes)


def fixed_view() -> PipelinesView:
    store = Store.open(None)
    analyzer = PipelinesAnalyzer()
    batch = history()
    store.append(batch)
    analyzer.observe(batch, AT)
    view = analyzer.view(store, AT)
    store.close()
    assert view is not None
    return view


def pipelines_snapshot(*, stale_reason: str = "") -> Snapshot:
    """The telemetry fixture plus the Pipelines view and a GitHub source's health."""
    base = fixed_snapshot()
    state = HealthState.STALE if stale_reason else HealthState.OK
    gh = SourceHealth("gh", "github_actions", state, stale_reason, last_ok=AT, rows=80)
    return replace(base, health=(*base.health, gh),
                   views={**base.views, "pipelines": fixed_view()})


__all__ = ["AT", "fixed_view", "history", "pipelines_snapshot"]
