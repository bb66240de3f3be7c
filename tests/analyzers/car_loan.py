"""NannyML's synthetic car loan set ingested once per test run through an Intake that runs
the models analyzer: reference file, analysis file, delayed labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from opscockpit.analyzers.models import ModelsAnalyzer
from opscockpit.ingest import IngestSummary, ingest
from opscockpit.intake import Intake
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from tests.conftest import require_dataset

MODEL = "synthetic_car_loan"
INPUTS = ("car_value", "salary_range", "debt_to_income_ratio", "loan_length",
          "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure")
DRIFTING = ("car_value", "loan_length", "salary_range", "repaid_loan_on_prev_car")


def files() -> tuple[Path, Path, Path]:
    root = require_dataset("drift/nannyml_synthetic_car_loan")
    return (root / "synthetic_car_loan_reference.csv.gz",
            root / "synthetic_car_loan_analysis.csv.gz",
            root / "synthetic_car_loan_analysis_target.csv.gz")


def options(labels: Path) -> dict[str, object]:
    return {"labels": (str(labels),), "columns": ("label=repaid",)}


@dataclass
class Loaded:
    store: Store
    analyzer: ModelsAnalyzer
    summary: IngestSummary
    derived: list[Batch]


@cache
def car_loan() -> Loaded:
    """Do not write to it: several test modules share it."""
    reference, analysis, labels = files()
    store = Store.open(None)
    analyzer = ModelsAnalyzer()
    derived: list[Batch] = []
    original = analyzer.observe

    def observe(batch: Batch, now):  # type: ignore[no-untyped-def]
        out = original(batch, now)
        if out is not None:
            derived.append(out)
        return out

    analyzer.observe = observe  # type: ignore[method-assign]
    intake = Intake(store, [analyzer])
    intake.restore()
    summary = ingest(intake, "predictions", [reference, analysis], options(labels))
    return Loaded(store, analyzer, summary, derived)
