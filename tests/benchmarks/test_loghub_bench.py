"""The LogHub template-mining benchmark runs end to end on a small slice of the real data."""

from __future__ import annotations

import json

from benchmarks.loghub import DRAIN3_PY, leave_one_out, main
from tests.conftest import require_dataset


def test_loghub_benchmark_prints_both_tables(capsys) -> None:  # type: ignore[no-untyped-def]
    require_dataset("loghub/HDFS")
    require_dataset("loghub/Linux")
    assert main(["--limit", "150", "--repeat", "1", "--datasets", "HDFS,Linux"]) == 0
    out = capsys.readouterr().out
    assert "group accuracy (GA)" in out and "throughput, lines/s" in out
    for row in ("HDFS", "Linux", "mean"):
        assert out.count(f"\n{row} ") == 2  # one row in each table
    if DRAIN3_PY.exists():
        assert "cold_ratio_vs_drain3" in out and "drain3_masks_GA" in out


def test_loghub_benchmark_json_rows(capsys) -> None:  # type: ignore[no-untyped-def]
    require_dataset("loghub/Apache")
    assert main(["--limit", "100", "--repeat", "1", "--datasets", "Apache", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["dataset"] == "Apache" and row["lines"] == 100
    assert 0.0 <= row["GA"] <= 1.0 and row["cold_lines_s"] > 0 and row["warm_lines_s"] > 0
    assert row["drain_paper_GA"] == 1.0


def test_leave_one_out_reports_each_held_out_set() -> None:
    require_dataset("loghub/Apache")
    require_dataset("loghub/HDFS")
    frame = leave_one_out(["Apache", "HDFS"], limit=100)
    assert frame["held_out"].tolist() == ["Apache", "HDFS"]
    assert frame["shipped_among_them"].dtype == bool
    assert ((frame["GA_tuned_worst"] <= frame["GA_tuned_mean"] + 1e-12)
            & frame["GA_shipped"].between(0, 1)).all()
