"""The report's ``pipelines``, ``dora`` and ``changes`` sections (DESIGN.md field names).

Computed from the store over the report window with the functions the Pipelines pane
uses (``analysis.pipelines``, ``analysis.flaky_jobs``, ``analysis.dora``): per pipeline
(provider, repo, workflow) over every branch, the window's runs; DORA over the window's
deploys with critical alerts as incidents; every change (deploy, config, model).
"""

from __future__ import annotations

import math
from typing import Any

from opscockpit.report.builder import ReportWindow, iso
from opscockpit.store import Store
from opscockpit.store import pipeline_queries as q


def _num(value: Any, digits: int = 3) -> float | None:
    """A JSON-safe float: NaN and infinities become null."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else round(number, digits)


def _plain(value: Any) -> Any:
    """numpy and pandas scalars as JSON's own types."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return _num(value, 4)
    return value


def _text(value: Any) -> str:
    return "" if value is None or value != value else str(value)


def pipelines_section(store: Store, window: ReportWindow) -> dict[str, Any]:
    from opscockpit.analysis.dora import deploys_from_changes, dora_by_service, dora_metrics
    from opscockpit.analysis.flaky_jobs import flaky_jobs
    from opscockpit.analysis.pipelines import pipeline_stats

    start, end = window.start, window.end
    runs = q.runs_frame(store, start, end)
    jobs = q.jobs_frame(store, start, end)
    changes = q.changes_frame(store, start, end)

    flaky = flaky_jobs(jobs, runs)
    stats = pipeline_stats(runs, now=end, flaky=flaky)  # most important first already
    names = flaky.groupby(["provider", "repo", "workflow"])["job"].apply(list).to_dict() if (
        not flaky.empty) else {}
    pipelines = [
        {
            "provider": r.provider, "repo": r.repo, "workflow": r.workflow,
            "runs": int(r.runs), "failures": int(r.failures),
            "failure_rate": _num(r.failure_rate, 4),
            "duration_p50_s": _num(r.duration_p50_s, 1),
            "duration_p95_s": _num(r.duration_p95_s, 1),
            "flaky_jobs": int(r.flaky_jobs),
            "flaky_job_names": names.get((r.provider, r.repo, r.workflow), []),
            "successes": int(r.successes), "cancelled": int(r.cancelled),
            "running": int(r.running), "queue_p50_s": _num(r.queue_p50_s, 1),
            "duration_trend": _num(r.duration_trend, 4),
            "last_run_at": iso(r.last_run_at), "last_conclusion": _text(r.last_conclusion),
        }
        for r in stats.itertuples(index=False)
    ]

    shas = [s for s in changes["sha"].dropna().astype(str) if s] if not changes.empty else []
    deploys = deploys_from_changes(changes, q.commit_times_frame(store, shas))
    incidents = q.incidents_frame(store, start, end)
    m = dora_metrics(deploys, incidents=incidents, start=start, end=end)
    dora: dict[str, Any] = {
        "deployment_frequency_per_day": _num(m.deployment_frequency_per_day, 4),
        "lead_time_p50_s": _num(m.lead_time_p50_s, 1),
        "change_failure_rate": _num(m.change_failure_rate, 4),
        "time_to_restore_p50_s": _num(m.time_to_restore_p50_s, 1),
        "lead_time_p95_s": _num(m.lead_time_p95_s, 1),
        "deployments": m.deployments, "failed_deployments": m.failed_deployments,
        "changes_failed": m.changes_failed, "incidents": len(incidents),
        "days": _num(m.days, 3),
        "by_service": [
            {k: _plain(v) for k, v in row.items()}
            for row in dora_by_service(deploys, incidents=incidents, start=start, end=end)
            .to_dict("records")
        ],
    }

    listed = []
    if not changes.empty:
        # Newest first: "what changed just before" is the question a report answers.
        for r in changes.sort_values("ts", ascending=False, kind="stable").itertuples():
            listed.append({
                "id": _text(r.id), "kind": _text(r.kind), "service": _text(r.service),
                "version": _text(r.version), "sha": _text(r.sha), "ts": iso(r.ts),
                "url": _text(r.url), "status": _text(r.status), "author": _text(r.author),
                "source": _text(r.source),
            })
    return {"pipelines": pipelines, "dora": dora, "changes": listed}
