"""``opscockpit ingest predictions`` through the real entry point, on NannyML's car loan set:
reference file, analysis file, delayed labels; then the store judged by the report section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from opscockpit.report.builder import ReportWindow
from opscockpit.report.models import models_section
from opscockpit.store import Store
from tests.analyzers.car_loan import DRIFTING, MODEL, files


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opscockpit", *args], capture_output=True,
                          text=True, timeout=240, check=False)


def test_car_loan_reference_analysis_and_labels(tmp_path: Path) -> None:
    reference, analysis, labels = files()
    db = tmp_path / "models.duckdb"
    out = _cli("ingest", "predictions", str(reference), str(analysis), "--labels", str(labels),
               "--column", "label=repaid", "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "ingested 100001 rows from 2 files" in out.stdout  # + the reference declaration

    with Store.open(db, read_only=True) as store:
        assert store.rows("""SELECT model, version, count(*), count(label)
                             FROM model_observations GROUP BY ALL""") == [(MODEL, "", 100_000,
                                                                           100_000)]
        [(kind, text)] = store.rows("SELECT kind, text FROM annotations")
        assert kind == "model_reference" and json.loads(text)["rows"] == 50_000
        [entry] = models_section(store, ReportWindow.of(store, None, None))["models"]
    assert entry["status"] == "degraded" and entry["reference_rows"] == 50_000
    assert {d["feature"] for d in entry["drift"] if d["drifted"]} - {"score"} == set(DRIFTING)


def test_a_bad_mapping_is_one_line(tmp_path: Path) -> None:
    reference, _, _ = files()
    out = _cli("ingest", "predictions", str(reference), "--column", "colour",
               "--db", str(tmp_path / "x.duckdb"))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and "ROLE=NAME" in out.stderr
