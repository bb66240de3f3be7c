"""The drift-vs-Evidently benchmark runs end to end on a tiny slice, without Evidently."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.drift_vs_evidently import build, main, run_ours
from tests.conftest import require_dataset


def test_twenty_features_from_the_car_loan_data() -> None:
    root = require_dataset("drift")
    require_dataset("drift/nannyml_synthetic_car_loan")
    ref, cur = build(root, 400)
    assert ref.shape == (200, 20)
    assert list(cur.columns) == [*ref.columns, "label", "prediction", "score"]
    assert cur["label"].isin([0, 1]).all()
    again, _ = build(root, 400)
    assert again.equals(ref)  # fixed seed
    times, drift, perf = run_ours(ref, cur, 20, repeats=1)
    assert len(times) == 1 and len(drift) == 10 * 20
    assert set(perf["metric"]) >= {"accuracy", "precision", "recall", "f1"}


def test_tiny_run_skips_evidently_when_its_venv_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = require_dataset("drift")
    require_dataset("drift/nannyml_synthetic_car_loan")
    missing = tmp_path / "no-venv" / "bin" / "python"
    assert main(["--data", str(root), "--rows", "600", "--repeats", "1",
                 "--evidently", str(missing)]) == 0
    out = capsys.readouterr().out
    assert "20 features" in out and "windows of 30" in out
    assert "ours:" in out and "Evidently comparison skipped" in out
