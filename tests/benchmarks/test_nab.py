"""The NAB benchmark runs end to end on a small slice of the real data."""

from __future__ import annotations

import math

from benchmarks.nab import load_corpus, main, run, table
from tests.conftest import require_dataset


def test_nab_benchmark_runs_on_a_small_slice(capsys) -> None:  # type: ignore[no-untyped-def]
    data = require_dataset("nab/data")
    labels = require_dataset("nab/labels/combined_windows.json")
    corpus = load_corpus(data, labels, limit_rows=1500, files=2)
    assert {item.category for item in corpus} == {"realKnownCause", "realAWSCloudwatch"}
    assert all(len(item.frame) <= 1500 for item in corpus)
    result = run(corpus)
    text = table(result)
    for name in ("standard", "reward_low_FP", "reward_low_FN", "realKnownCause", "all"):
        assert name in text
    assert result["points"] == sum(len(item.frame) for item in corpus)

    assert main(["--data", str(data), "--limit-rows", "800", "--files", "1"]) == 0
    out = capsys.readouterr().out
    assert "throughput" in out and "ratio" in out
    scores = [float(cell) for line in out.splitlines()[3:5] for cell in line.split()[1:]]
    assert all(math.isfinite(s) or math.isnan(s) for s in scores)
