"""The CI benchmarks run end to end at a tiny size (figures in BENCHMARKS.md)."""

from __future__ import annotations

from benchmarks import pipelines, pipelines_live
from tests.conftest import require_dataset


def test_statistics_benchmark_agrees_with_duckdb_sql(capsys) -> None:  # type: ignore[no-untyped-def]
    assert pipelines.main(["--sizes", "2000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio = ours / DuckDB SQL" in out and "True | " in out


def test_etag_spares_the_rate_limit() -> None:
    require_dataset("ci/github_actions/list_workflow_runs_mixed.json")
    with_etag = pipelines_live.requests_per_refresh(4, 3, 1, etag=True)
    without = pipelines_live.requests_per_refresh(4, 3, 1, etag=False)
    # Each refresh: 4 runs lists + the jobs of the one new run, with or without ETag.
    assert with_etag["requests_per_refresh"] == without["requests_per_refresh"] == 5
    # With ETag only the changed list and the new run's jobs cost rate limit.
    assert (with_etag["rate_limited_per_refresh"], without["rate_limited_per_refresh"]) == (2, 5)
    assert with_etag["runs_sent_per_refresh"] == without["runs_sent_per_refresh"] == 1


def test_history_cost_runs_on_a_small_store() -> None:
    cost = pipelines_live.history_cost(3000)
    assert cost["pipelines"] > 0 and cost["report_pipelines"] > 0
    assert cost["kept_runs"] <= 3000
