"""The report's pipelines, dora and changes sections: DESIGN.md names, order, JSON-safe."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from opscockpit.records import Change, ChangeKind
from opscockpit.report import builder
from opscockpit.report.pipelines import pipelines_section
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from tests.ui.pipelines_fixture import AT, fixed_view, history

SECTION = (("pipelines", "dora", "changes"), "opscockpit.report.pipelines:pipelines_section")


@pytest.fixture
def store() -> Store:
    store = Store.open(None)
    store.append(history())
    model = Change(ts=AT - timedelta(hours=2), id="fraud:v7", kind=ChangeKind.MODEL,
                   service="fraud-scorer", version="v7", source="registry")
    config = Change(ts=AT - timedelta(hours=3), id="cfg:42", kind=ChangeKind.CONFIG,
                    service="checkout", version="42", url="https://git.example.com/cfg/42")
    store.append(Batch(changes=[model, config]))
    return store


def _report(store: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setattr(builder, "SECTIONS", (*builder.SECTIONS, SECTION))
    return json.loads(json.dumps(builder.build_report(store), allow_nan=False))


def test_fields_scripts_rely_on(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _report(store, monkeypatch)
    pipelines = report["pipelines"]
    assert isinstance(pipelines, list)
    for row in pipelines:
        assert {"provider", "repo", "workflow", "runs", "failures", "failure_rate",
                "duration_p50_s", "duration_p95_s", "flaky_jobs"} <= set(row)
    first = pipelines[0]
    # Failing now first: the deploy whose last run failed.
    assert (first["workflow"], first["runs"], first["failures"]) == ("Deploy production", 5, 2)
    assert first["failure_rate"] == 0.4 and first["last_conclusion"] == "failure"
    assert first["duration_p50_s"] == 180.0
    ci = next(p for p in pipelines if p["workflow"] == "CI")
    # Branches together: 14 runs and a run of two attempts on main, two runs on the
    # feature branch, one of them still running at the window's end.
    assert (ci["runs"], ci["failures"], ci["running"]) == (18, 1, 1)
    assert ci["failure_rate"] == round(1 / 17, 4)  # failures / completed runs
    assert (ci["flaky_jobs"], ci["flaky_job_names"]) == (1, ["test"])
    assert ci["last_run_at"] == "2026-11-22T09:24:00Z"


def test_dora_matches_the_pane(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    dora = _report(store, monkeypatch)["dora"]
    assert isinstance(dora, dict)
    pane = fixed_view().dora
    assert pane is not None
    assert dora["change_failure_rate"] == round(pane.change_failure_rate or 0, 4)
    assert dora["lead_time_p50_s"] == pane.lead_time_p50_s
    assert dora["time_to_restore_p50_s"] == pane.time_to_restore_p50_s
    assert (dora["deployments"], dora["failed_deployments"]) == (3, 2)
    # Over the report's own window (first to last row): 3 deploys in 4.25 days.
    assert dora["deployment_frequency_per_day"] == pytest.approx(3 / dora["days"], abs=1e-3)
    assert dora["by_service"][0]["service"] == "checkout"


def test_changes_list_every_kind_newest_first(store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    changes = _report(store, monkeypatch)["changes"]
    assert isinstance(changes, list)
    kinds = [c["kind"] for c in changes]
    assert kinds[:3] == ["deploy", "model", "config"]
    assert len(changes) == 7
    newest = changes[0]
    assert newest["id"] == "github_actions:acme/checkout:704:1"
    assert (newest["status"], newest["service"]) == ("failure", "checkout")
    assert newest["ts"].endswith("Z") and newest["url"].endswith("/runs/704")
    assert {"id", "kind", "service", "version", "sha", "ts", "url"} <= set(newest)
    assert [c["ts"] for c in changes] == sorted((c["ts"] for c in changes), reverse=True)


def test_window_bounds_and_an_empty_store() -> None:
    store = Store.open(None)
    empty = pipelines_section(store, builder.ReportWindow(None, None))
    assert empty["pipelines"] == [] and empty["changes"] == []
    assert empty["dora"]["deployment_frequency_per_day"] == 0.0
    store.append(history())
    last_day = pipelines_section(store, builder.ReportWindow(AT - timedelta(hours=12), AT))
    deploy = next(p for p in last_day["pipelines"] if p["workflow"] == "Deploy production")
    assert (deploy["runs"], deploy["failures"]) == (3, 2)  # 702, 703, 704
    assert [c["id"].split(":")[2] for c in last_day["changes"]] == ["704", "703", "702"]


def test_a_redelivered_change_is_listed_once(store: Store) -> None:
    again = [c for c in history().changes if c.id.endswith(":704:1")]
    store.append(Batch(changes=again))
    changes = pipelines_section(store, builder.ReportWindow(None, None))["changes"]
    assert [c["id"] for c in changes].count("github_actions:acme/checkout:704:1") == 1
