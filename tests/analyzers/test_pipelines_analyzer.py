"""The Pipelines analyzer: latest row per run, bounded memory, the view and its figures."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pandas as pd

from opscockpit.analyzers.pipelines import PipelinesAnalyzer, PipelinesView
from opscockpit.analyzers.telemetry import TelemetryAnalyzer
from opscockpit.engine import Engine
from opscockpit.records import Alert, PipelineRun, Severity
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from opscockpit.store.schema import TABLE_COLUMNS
from tests.ui.pipelines_fixture import AT, _job, _run, fixed_view, history


def _view(batch: Batch, analyzer: PipelinesAnalyzer | None = None,
          store: Store | None = None) -> PipelinesView:
    store = store or Store.open(None)
    analyzer = analyzer or PipelinesAnalyzer()
    store.append(batch)
    analyzer.observe(batch, AT)
    view = analyzer.view(store, AT)
    assert view is not None
    return view


def test_nothing_to_show_without_runs_and_no_pandas_loaded() -> None:
    code = (
        "import sys; from datetime import datetime, UTC; "
        "from opscockpit.store import Store; "
        "from opscockpit.analyzers.pipelines import PipelinesAnalyzer; "
        "s = Store.open(None); a = PipelinesAnalyzer(); a.restore(s); "
        "print(a.view(s, datetime.now(UTC)), 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["None", "False"]


def test_latest_row_per_run_wins_and_completed_is_never_undone() -> None:
    running = _run(1, "CI", 1, "", status="running")
    done = _run(1, "CI", 1, "failure")
    late_open = running  # a delayed webhook saying "running" after the end
    view = _view(Batch(runs=[running, done, late_open]))
    (line,) = view.pipelines
    assert (line.runs, line.outcome, line.failures, line.running) == (1, "failure", 1, 0)
    assert [r.outcome for r in line.history] == ["failure"]


def test_memory_is_bounded_per_pipeline_and_drops_jobs_of_forgotten_runs() -> None:
    analyzer = PipelinesAnalyzer(keep_runs=3)
    runs = [_run(i, "CI", 10 - i, "success") for i in range(5)]
    jobs = [_job(r, "test", "success") for r in runs]
    view = _view(Batch(runs=runs, jobs=jobs), analyzer)
    (line,) = view.pipelines
    assert [r.run_id for r in line.history] == ["4", "3", "2"]
    assert all(len(r.jobs) == 1 for r in line.history)
    assert set(analyzer.memory.jobs) == {("github_actions", "acme/checkout", str(i))
                                         for i in (2, 3, 4)}


def test_view_of_the_fixed_history() -> None:
    view = fixed_view()
    keys = [(p.workflow, p.branch, p.outcome) for p in view.pipelines]
    # Failing now first, then what runs now, then the most recently active.
    assert keys[0] == ("Deploy production", "main", "failure")
    assert keys[1] == ("CI", "feature/cart-v2", "running")
    assert (view.failing, view.running) == (1, 1)  # the deploy; the nightly passed last
    deploy = view.pipelines[0]
    assert deploy.last_runs == ("success", "success", "failure", "success", "failure")
    assert deploy.failure_rate == 0.4
    latest = deploy.history[0]
    assert latest.run_id == "704"
    assert latest.url == "https://github.com/acme/checkout/actions/runs/704"
    (failed,) = latest.failed_jobs
    assert (failed.name, failed.failed_step) == ("deploy", "kubectl rollout status deploy/checkout")
    # "test" failed on attempt 1 and passed on the re-run of the same commit: flaky.
    assert [(f.workflow, f.job, f.reason) for f in view.flaky] == [("CI", "test", "rerun")]
    ci_main = next(p for p in view.pipelines if (p.workflow, p.branch) == ("CI", "main"))
    assert [f.job for f in ci_main.flaky] == ["test"]
    assert ci_main.durations and len(ci_main.last_runs) == 16  # 15 runs, one re-run
    jenkins = next(p for p in view.pipelines if p.provider == "jenkins")
    assert (jenkins.last_verdict, jenkins.failure_rate) == ("success", 0.4)


def test_dora_strip_by_hand() -> None:
    dora = fixed_view().dora
    assert dora is not None
    # Deploys 700 ok, 701 ok, 702 failed (13 h after 701), 703 ok, 704 failed (4.5 h
    # after 703): three successes, two of them followed by a failure.
    assert (dora.deployments, dora.failed_deployments) == (3, 2)
    assert dora.change_failure_rate == 2 / 3
    assert dora.time_to_restore_p50_s == 2 * 3600  # 702 failed at 7 h, 703 fixed at 5 h
    assert dora.lead_time_p50_s == 30 * 60 + 200  # committed 30 min before, 200 s to deploy
    # The period: 30 days at most, from the oldest run known (the nightly, 102 h ago).
    assert dora.days == 102 / 24 and dora.deployment_frequency_per_day == 3 / (102 / 24)


def test_a_critical_incident_after_a_deploy_is_a_change_failure() -> None:
    batch = history()
    ok_deploys = [c for c in batch.changes if c.status == "success"]
    newest_ok = max(ok_deploys, key=lambda c: c.ts)
    store = Store.open(None)
    incident = Alert(ts=newest_ok.ts - timedelta(hours=40), id="a1", source="am",
                     severity=Severity.CRITICAL, host="web-1", service="checkout",
                     title="checkout 5xx", message="")
    store.append(Batch(alerts=[incident]))
    before = _view(batch, store=store).dora
    assert before is not None and before.change_failure_rate == 2 / 3
    # Now an incident right after deploy 700, the one success nothing failed yet.
    first = min(ok_deploys, key=lambda c: c.ts)
    store.append(Batch(alerts=[replace(incident, id="a2", ts=first.ts + timedelta(hours=1))]))
    analyzer = PipelinesAnalyzer()
    analyzer.observe(batch, AT)
    after = analyzer.view(store, AT)
    assert after is not None and after.dora is not None
    assert after.dora.change_failure_rate == 1.0


def test_restore_rebuilds_the_same_view_from_the_store() -> None:
    store = Store.open(None)
    live = PipelinesAnalyzer()
    batch = history()
    store.append(batch)
    live.observe(batch, AT)
    restored = PipelinesAnalyzer()
    restored.restore(store)
    assert restored.view(store, AT) == live.view(store, AT)


def test_ready_frames_are_read_like_records() -> None:
    batch = history()
    frame = pd.DataFrame([[getattr(r, c) for c in TABLE_COLUMNS["pipeline_runs"]]
                          for r in batch.runs], columns=list(TABLE_COLUMNS["pipeline_runs"]))
    view = _view(Batch(frames={"pipeline_runs": frame}, jobs=batch.jobs, changes=batch.changes))
    assert view == fixed_view()


def test_view_is_cached_until_something_changes() -> None:
    store = Store.open(None)
    analyzer = PipelinesAnalyzer()
    first = _view(history(), analyzer, store)
    assert analyzer.view(store, AT + timedelta(seconds=1)) is first
    analyzer.observe(Batch(runs=[_run(5000, "CI", 0, "failure")]), AT)
    assert analyzer.view(store, AT + timedelta(seconds=1)) is not first


async def test_engine_publishes_the_view_beside_telemetry() -> None:
    store = Store.open(None)
    engine = Engine(store, [], analyzers=[TelemetryAnalyzer(), PipelinesAnalyzer()])
    assert engine.snapshot().views["pipelines"] is None
    await engine.ingest(history(), AT, origin="import")
    view = engine.snapshot().views["pipelines"]
    assert isinstance(view, PipelinesView)
    assert len(view.pipelines) == 5


def test_running_runs_lost_for_a_day_are_not_counted() -> None:
    stuck = _run(1, "CI", 30, "", status="running")
    (line,) = _view(Batch(runs=[stuck])).pipelines
    assert (line.outcome, line.running) == ("running", 0)


def test_run_without_times_still_shows() -> None:
    bare = PipelineRun(ts=AT, provider="jenkins", repo="fish", workflow="fish", run_id="1",
                       branch="", sha="", status="completed", conclusion="success",
                       started_at=None, finished_at=None, url="")
    (line,) = _view(Batch(runs=[bare])).pipelines
    assert line.duration_p50_s is None and line.history[0].duration_s is None
