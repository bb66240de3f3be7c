"""``ingest runs`` adapter: provider names, deploy rules from text or tables, the intake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opscockpit.analyzers.pipelines import PipelinesAnalyzer, PipelinesView
from opscockpit.ingest import IngestError, ingest
from opscockpit.intake import Intake
from opscockpit.sources.run_ingest import parse_runs, provider_of, rules_of
from opscockpit.store import Store
from tests.conftest import require_dataset

RUNS = "ci/github_actions/list_workflow_runs_mixed.json"


@pytest.mark.parametrize(("given", "provider"), [
    ("github", "github_actions"), ("GitHub", "github_actions"), ("gitlab", "gitlab_ci"),
    ("jenkins", "jenkins"), ("gitlab-ci", "gitlab_ci"), ("", None), (None, None),
])
def test_provider_names(given: str | None, provider: str | None) -> None:
    assert provider_of(given) == provider


def test_unknown_provider_names_the_choices() -> None:
    with pytest.raises(IngestError, match="choose github, gitlab or jenkins"):
        provider_of("circleci")


def test_parse_runs_reports_format_and_rows() -> None:
    path = require_dataset(RUNS)
    parsed = parse_runs(path, {"provider": "github"})
    assert parsed.format == "github_actions/runs"
    assert len(parsed.batch.runs) == 6 and parsed.errors == []
    assert parsed.batch.runs[0].committed_at == datetime(2023, 11, 8, 21, 53, 11, tzinfo=UTC)


def test_wrong_provider_is_a_rejected_line() -> None:
    parsed = parse_runs(require_dataset("ci/gitlab/get_pipeline.json"), {"provider": "github"})
    assert parsed.batch.runs == []
    assert [e.reason for e in parsed.errors] == ["not a github_actions runs or jobs document"]


def test_deploy_rules_from_command_line_text_and_config_tables() -> None:
    path = require_dataset(RUNS)
    text = parse_runs(path, {"deploys": ("workflow=^(Fast|Failing) workflow$;branch=^main$;"
                                         "service=api",)})
    table = parse_runs(path, {"deploys": [{"workflow": "^(Fast|Failing) workflow$",
                                           "branch": "^main$", "service": "api"}]})
    assert text.batch.changes == table.batch.changes
    assert sorted(c.status for c in text.batch.changes) == ["failure", "success", "success"]
    assert {(c.service, c.source) for c in text.batch.changes} == {("api", "ingest")}


@pytest.mark.parametrize(("rule", "reason"), [
    ("workflow", "is not KEY=REGEX"), ("env=prod", "no key 'env'"), ("job=(", "not a regex"),
])
def test_bad_rules_say_why(rule: str, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        rules_of([rule])


def test_ingest_through_the_intake_feeds_the_pipelines_view(tmp_path: Path) -> None:
    store = Store.open(None)
    analyzer = PipelinesAnalyzer()
    files = [require_dataset(RUNS), require_dataset("ci/gitlab/webhook_pipeline_event.json"),
             require_dataset("ci/jenkins/wfapi_runs.json")]
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    summary = ingest(Intake(store, [analyzer]), "runs", [*files, bad],
                     {"deploys": ("workflow=^Fast",)})
    assert summary.files == 4 and [e.path for e in summary.errors] == [str(bad)]
    assert summary.formats[str(files[1])] == "gitlab_ci/webhook"
    assert store.count("pipeline_runs") == 9 and store.count("changes") == 2
    view = analyzer.view(store, datetime(2024, 2, 10, tzinfo=UTC))
    assert isinstance(view, PipelinesView)
    assert {p.provider for p in view.pipelines} == {"github_actions", "gitlab_ci", "jenkins"}
    # Two "Fast workflow" deploys (2023-11 and 2024-02): the 30 days up to now hold one,
    # its lead time counted from its head commit (2023-11-08 21:53:11).
    assert view.dora is not None and view.dora.deployments == 1
    assert view.dora.lead_time_p50_s == 7993068.0
