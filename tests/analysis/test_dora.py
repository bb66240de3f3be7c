"""DORA keys on a deploy history whose figures are worked out by hand below."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from opscockpit.analysis.dora import (
    DORA_KEYS,
    deploys_from_changes,
    dora_by_service,
    dora_metrics,
)
from opscockpit.records import Change, ChangeKind, PipelineRun
from opscockpit.sources.deploy_rules import deploy_changes, parse_rules

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour)


def history() -> pd.DataFrame:
    rows = [
        # service, finished, sha, conclusion, committed
        ("api", at(0, 10), "a", "success", at(0, 9)),      # lead 1 h
        ("api", at(1, 10), "b", "success", at(1, 8)),      # lead 2 h; failed: F1 follows
        ("api", at(1, 12), "c", "failure", at(1, 11)),     # F1 starts a streak
        ("api", at(1, 13), "c", "failure", at(1, 11)),     # F2
        ("api", at(1, 15), "c", "success", at(1, 11)),     # lead 4 h; restores after 3 h
        ("api", at(2, 10), "d", "success", at(2, 9.5)),    # lead 30 min; rolled back
        ("api", at(2, 11), "c", "success", at(1, 11)),     # rollback to c, lead 24 h
        ("api", at(4, 10), "e", "success", at(4, 9)),      # lead 1 h; incident 2 h later
        ("web", at(0, 12), "w1", "success", None),         # no commit time: no lead time
        ("web", at(3, 12), "w2", "success", at(3, 11)),    # lead 1 h; anonymous incident
    ]
    return pd.DataFrame(rows, columns=["service", "ts", "sha", "conclusion", "committed_at"])


def incidents() -> pd.DataFrame:
    return pd.DataFrame({
        "ts": [at(4, 12), at(3, 13), at(5, 12)],
        "service": ["api", None, "api"],  # the last one is 26 h after api's deploy: too late
    })


def test_the_four_keys_by_hand() -> None:
    m = dora_metrics(history(), incidents=incidents())
    assert (m.deployments, m.failed_deployments) == (8, 2)
    assert m.days == 4.0  # first deploy day 0 10:00 to last day 4 10:00
    assert m.deployment_frequency_per_day == 2.0
    # Lead times: 0.5, 1, 1, 1, 2, 4, 24 hours.
    assert m.lead_time_p50_s == 3600
    # Failed changes: api b (failed deploy follows), d (rolled back), e (incident); web w2.
    assert m.changes_failed == 4
    assert m.change_failure_rate == 0.5
    assert (m.restores, m.time_to_restore_p50_s) == (1, 3 * 3600)
    assert set(DORA_KEYS) <= set(m.as_dict())


def test_period_and_window_parameters() -> None:
    m = dora_metrics(history(), start=DAY0, end=at(5, 0))
    assert m.deployment_frequency_per_day == pytest.approx(8 / 5)
    assert m.changes_failed == 2  # without incidents: b and d
    tight = dora_metrics(history(), incidents=incidents(), failure_window_s=3600)
    # d (rolled back) and w2 (incident 1 h later) still count; F1 and e's incident came
    # 2 h after their deploys, outside a 1 h window.
    assert tight.changes_failed == 2
    assert dora_metrics(history().iloc[0:0]).deployment_frequency_per_day == 0.0


def test_by_service() -> None:
    per = dora_by_service(history(), incidents=incidents()).set_index("service")
    assert per.loc["api", "change_failure_rate"] == 0.5  # b, d, e of six
    assert per.loc["web", "change_failure_rate"] == 0.5  # w2 of two
    assert per.loc["api", "time_to_restore_p50_s"] == 3 * 3600
    assert pd.isna(per.loc["web", "time_to_restore_p50_s"])


def _run(run_id: str, workflow: str, sha: str, created: datetime, conclusion: str,
         committed: datetime | None = None) -> PipelineRun:
    return PipelineRun(
        ts=created, provider="github_actions", repo="acme/api", workflow=workflow,
        run_id=run_id, branch="main", sha=sha, status="completed", conclusion=conclusion,
        started_at=created, finished_at=created + timedelta(minutes=5),
        url=f"https://github.com/acme/api/actions/runs/{run_id}", committed_at=committed,
    )


def _frame(records: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(r) for r in records])  # type: ignore[call-overload]
    if "kind" in frame:
        frame["kind"] = frame["kind"].astype(str)
    return frame


def test_deploys_from_changes_reads_verdicts_and_commit_times() -> None:
    runs = [
        _run("1", "CI", "a", at(0, 9), "success"),          # push CI: sha a seen at 09:00
        _run("2", "Deploy", "a", at(0, 10), "failure"),
        _run("3", "Deploy", "a", at(0, 11), "success"),
    ]
    changes = deploy_changes(runs, [], parse_rules([{"workflow": "^Deploy$"}]))
    assert [c.id for c in changes] == ["github_actions:acme/api:2:1", "github_actions:acme/api:3:1"]
    assert [c.status for c in changes] == ["failure", "success"]
    deploys = deploys_from_changes(_frame(changes), _frame(runs))
    assert deploys["conclusion"].tolist() == ["failure", "success"]
    assert deploys["committed_at"].tolist() == [pd.Timestamp(at(0, 9))] * 2
    m = dora_metrics(deploys)
    assert m.lead_time_p50_s == 2 * 3600 + 5 * 60  # 09:00 -> 11:05
    assert (m.failed_deployments, m.time_to_restore_p50_s) == (1, 3600)


def test_lead_time_starts_at_the_head_commit_when_the_source_names_it() -> None:
    committed = at(0, 7)  # committed at 07:00, pushed (first CI run) at 09:00
    runs = [_run("1", "CI", "a", at(0, 9), "success", committed),
            _run("2", "Deploy", "a", at(0, 11), "success", committed)]
    changes = deploy_changes(runs, [], parse_rules([{"workflow": "^Deploy$"}]))
    m = dora_metrics(deploys_from_changes(_frame(changes), _frame(runs)))
    assert m.lead_time_p50_s == 4 * 3600 + 5 * 60  # 07:00 -> 11:05


def test_a_change_without_a_verdict_is_a_success() -> None:
    change = Change(ts=at(0, 10), id="argo:1", kind=ChangeKind.DEPLOY, service="api", sha="x")
    config = Change(ts=at(0, 11), id="cfg:1", kind=ChangeKind.CONFIG, service="api")
    deploys = deploys_from_changes(_frame([change, config]))
    assert deploys[["service", "conclusion"]].values.tolist() == [["api", "success"]]
    assert deploys["committed_at"].isna().all()
    legacy = _frame([change]).drop(columns=["status"])  # a store from before the column
    assert deploys_from_changes(legacy)["conclusion"].tolist() == ["success"]


def test_deploys_from_changes_without_any_runs() -> None:
    import pandas as pd

    from opscockpit.analysis.dora import deploys_from_changes

    changes = pd.DataFrame({"ts": [pd.Timestamp("2026-03-14T10:02:00Z")], "id": ["d1"],
                            "kind": ["deploy"], "service": ["api"], "sha": ["abc"],
                            "status": [None]})
    runs = pd.DataFrame({"sha": pd.Series([], dtype=object),
                         "ts": pd.Series([], dtype="datetime64[ns, UTC]"),
                         "committed_at": pd.Series([], dtype="datetime64[ns, UTC]")})
    deploys = deploys_from_changes(changes, runs)
    assert deploys["conclusion"].tolist() == ["success"]
    assert deploys["committed_at"].isna().all()
