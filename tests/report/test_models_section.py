"""The report's ``models`` section: DESIGN.md's fields, the pane's verdicts, a --from/--to
range judged on its own windows, most serious first, plain JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from opscockpit.report import builder
from opscockpit.report.builder import ReportWindow, build_report
from opscockpit.report.models import models_section
from opscockpit.sources.prediction_ingest import observations_batch, reference_annotations
from opscockpit.store import Store
from tests.analyzers.car_loan import DRIFTING, MODEL, car_loan

ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def test_car_loan_section_agrees_with_the_pane(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = car_loan()
    monkeypatch.setattr(builder, "SECTIONS", (
        (("hosts",), "opscockpit.report.hosts:hosts_section"),
        (("models",), "opscockpit.report.models:models_section")))
    report = build_report(loaded.store)
    json.dumps(report, allow_nan=False)
    [entry] = report["models"]
    assert {"model", "version", "status", "drift", "performance", "data_quality"} <= set(entry)
    assert (entry["model"], entry["version"], entry["status"]) == (MODEL, "", "degraded")
    drifted = [d["feature"] for d in entry["drift"] if d["drifted"]]
    assert set(drifted) - {"score"} == set(DRIFTING)
    assert entry["drift"][0]["drifted"]  # drifting first
    for item in entry["drift"]:
        assert {"feature", "method", "statistic", "threshold", "drifted", "onset"} <= set(item)
    assert {d["onset"] for d in entry["drift"] if d["drifted"]} == {"2019-03-31T03:00:00Z"}
    assert set(entry["performance"][0]) >= {"window_start", "metric", "value"}
    assert pd.Series([p["window_start"] for p in entry["performance"]]).str.match(ISO).all()

    view = loaded.analyzer.view(loaded.store, datetime(2030, 1, 1, tzinfo=UTC))
    model = view.models[0]  # type: ignore[union-attr]
    assert model.status == entry["status"]
    assert [f.feature for f in model.features if f.drifted] == drifted
    pane_accuracy = next(s for s in model.metrics if s.metric == "accuracy").values
    report_accuracy = [p["value"] for p in entry["performance"] if p["metric"] == "accuracy"]
    assert pane_accuracy == pytest.approx(report_accuracy)


def test_a_range_is_judged_on_its_own_windows() -> None:
    loaded = car_loan()
    calm = ReportWindow(datetime(2018, 11, 1, tzinfo=UTC), datetime(2019, 2, 1, tzinfo=UTC))
    [entry] = models_section(loaded.store, calm)["models"]
    assert entry["status"] == "healthy"
    assert not any(d["drifted"] for d in entry["drift"])
    assert all("2018-11-01" <= p["window_start"] < "2019-02-01" for p in entry["performance"])


def _version(version: str, shift: float, labels: bool) -> pd.DataFrame:
    rng = np.random.default_rng(len(version) + int(shift))
    n = 6000
    x = rng.normal(0, 1, n)
    x[3000:] += shift
    truth = (rng.random(n) < 0.5).astype(float)
    return pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"), "model": "m",
        "version": version, "record_id": [f"{version}-{i}" for i in range(n)],
        "prediction": truth.astype(object), "score": np.nan,
        "label": truth.astype(object) if labels else None, "x": x,
    })


def test_most_serious_first_and_an_empty_store() -> None:
    store = Store.open(None)
    assert models_section(store, ReportWindow(None, None)) == {"models": []}
    for version, shift, labels in (("a", 0.0, True), ("b", 2.0, True), ("c", 0.0, False)):
        frame = _version(version, shift, labels)
        batch = observations_batch(frame)
        batch.annotations = reference_annotations(frame.iloc[:1000], "ref.csv")
        store.append(batch, origin="import")
    report = models_section(store, ReportWindow.of(store, None, None))
    assert [(m["version"], m["status"]) for m in report["models"]] == [
        ("b", "drifting"), ("c", "no labels yet"), ("a", "healthy")]
    assert all(m["reference_rows"] == 1000 for m in report["models"])
