"""The models analyzer: the car loan set's documented drift and drop, and on small synthetic
streams: incremental equals batch, late labels either side of their predictions, rows out
of order, a reference declared afterwards, the derived change and alerts."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from opscockpit.analysis.model_health import HealthSettings, version_health
from opscockpit.analyzers.models import ModelsAnalyzer
from opscockpit.intake import Intake
from opscockpit.records import ChangeKind, ModelObservation
from opscockpit.sources.base import Batch
from opscockpit.sources.prediction_ingest import observations_batch, reference_annotations
from opscockpit.store import Store
from tests.analyzers.car_loan import DRIFTING, INPUTS, MODEL, car_loan

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SETTINGS = HealthSettings(window=200, reference_share=0.25)


def _stream(n: int = 2000, shift_from: int | None = 1200, seed: int = 1,
            version: str = "1") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    if shift_from is not None:
        x[shift_from:] += 1.5
    truth = (rng.random(n) < 0.5).astype(float)
    pred = np.where(rng.random(n) < 0.05, 1 - truth, truth)
    return pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"),
        "model": "churn", "version": version, "record_id": [f"{version}-{i}" for i in range(n)],
        "prediction": pred.astype(object), "score": np.nan, "label": truth.astype(object),
        "x": x, "colour": rng.choice(["red", "blue", "green"], n),
    })


def _analyzer(store: Store) -> tuple[ModelsAnalyzer, Intake]:
    analyzer = ModelsAnalyzer(SETTINGS)
    intake = Intake(store, [analyzer])
    intake.restore()
    return analyzer, intake


def _batches(frame: pd.DataFrame, parts: int) -> list[Batch]:
    cuts = np.linspace(0, len(frame), parts + 1).astype(int)
    return [observations_batch(frame.iloc[lo:hi].reset_index(drop=True))
            for lo, hi in itertools.pairwise(cuts) if hi > lo]


# ---------------------------------------------------------------- the car loan set


def test_car_loan_drift_onset_and_accuracy_drop() -> None:
    loaded = car_loan()
    view = loaded.analyzer.view(loaded.store, NOW)
    assert view is not None and [m.name for m in view.models] == [MODEL]
    model = view.models[0]
    assert (model.rows, model.reference_rows, model.windows) == (50_000, 50_000, 10)
    assert model.status == "degraded"
    features = {f.feature: f for f in model.features}
    assert {f.feature for f in model.features if f.drifted and not f.output} == set(DRIFTING)
    assert model.drifted_features == 4 and model.features_total == len(INPUTS)
    for name in INPUTS:
        flags = [p.drifted for p in features[name].history]
        assert flags[:5] == [False] * 5  # windows 0-4 look like the reference
        assert flags[5:] == [name in DRIFTING] * 5  # 5-9: exactly the four drift
    onset = features["car_value"].history[5].start
    assert all(features[n].onset == onset for n in DRIFTING) and model.drift_onset == onset
    statistic = {n: np.mean([p.statistic for p in features[n].history[5:]]) for n in DRIFTING}
    assert statistic["car_value"] == pytest.approx(0.92, abs=0.03)
    assert statistic["loan_length"] == pytest.approx(0.34, abs=0.03)
    assert statistic["salary_range"] == pytest.approx(0.15, abs=0.02)
    assert statistic["repaid_loan_on_prev_car"] == pytest.approx(0.19, abs=0.02)
    accuracy = next(s for s in model.metrics if s.metric == "accuracy").values
    assert np.mean(accuracy[:5]) == pytest.approx(0.94, abs=0.01)
    assert np.mean(accuracy[5:]) == pytest.approx(0.915, abs=0.01)
    shares = features["car_value"]
    assert len(shares.bins) == len(shares.reference) == len(shares.current) == 12
    assert sum(shares.reference) == pytest.approx(1.0)


def test_car_loan_derives_a_model_change_and_a_degraded_alert() -> None:
    loaded = car_loan()
    changes = [c for b in loaded.derived for c in b.changes]
    assert [(c.kind, c.service, c.ts) for c in changes] == [
        (ChangeKind.MODEL, MODEL, datetime(2018, 1, 1, tzinfo=UTC))]
    alerts = [a for b in loaded.derived for a in b.alerts]
    assert [(a.source, a.status, a.severity.value) for a in alerts] == [
        ("model", "firing", "error")]
    assert "car_value" in alerts[0].message and alerts[0].ts.month == 3


# ---------------------------------------------------------------- synthetic streams


def test_incremental_equals_batch_and_alerts_fire_once() -> None:
    frame = _stream()
    store = Store.open(None)
    analyzer, intake = _analyzer(store)
    stored = [intake.accept(b, NOW) for b in _batches(frame, 13)]
    assert sum(stored) == len(frame)
    view = analyzer.view(store, NOW)
    assert view is not None
    model = view.models[0]
    # The reference froze when 1000 rows had come: their first 25%, declared for the report.
    [(origin, text)] = store.rows("SELECT origin, text FROM annotations")
    n = json.loads(text)["rows"]
    assert origin == "derived" and n == model.reference_rows and 250 <= n < 500
    expected = version_health("churn", "1", frame.iloc[n:], frame.iloc[:n], SETTINGS)
    assert model.status == str(expected.status) == "drifting"
    assert model.drift_onset == expected.drift_onset.to_pydatetime()
    assert [f.feature for f in model.features if f.drifted] == ["x"]
    assert store.count("changes") == 1
    assert store.rows("SELECT count(*), any_value(severity) FROM alerts") == [(1, "warning")]


def test_labels_after_and_before_their_predictions() -> None:
    frame = _stream(shift_from=None)
    frame["label"] = None
    store = Store.open(None)
    analyzer, intake = _analyzer(store)
    truth = _stream(shift_from=None)[["record_id", "label"]]
    early = truth.iloc[1500:]  # labels of rows not yet predicted
    intake.accept(_label_batch(early), NOW)
    intake.accept(observations_batch(frame.iloc[:1400]), NOW)
    view = analyzer.view(store, NOW)
    assert view is not None and view.models[0].status == "no labels yet"
    intake.accept(_label_batch(truth.iloc[:1400]), NOW)  # late labels
    intake.accept(observations_batch(frame.iloc[1400:].reset_index(drop=True)), NOW)
    model = analyzer.view(store, NOW).models[0]  # type: ignore[union-attr]
    # The reference froze on the first batch: its first 25% (350 rows).
    joined = frame.set_index("record_id").assign(label=truth.set_index("record_id")["label"])
    joined.loc[[f"1-{i}" for i in range(1400, 1500)], "label"] = None  # never labelled
    joined = joined.reset_index()[frame.columns]
    expected = version_health("churn", "1", joined.iloc[350:], joined.iloc[:350], SETTINGS)
    assert model.status == "healthy" and model.metric == "accuracy"
    assert model.labelled_rows == expected.labelled_rows == 1550
    assert model.sparkline == pytest.approx(expected.sparkline) and min(model.sparkline) > 0.9
    fresh = ModelsAnalyzer(SETTINGS)
    fresh.restore(store)
    assert fresh.view(store, NOW).models[0].sparkline == model.sparkline  # type: ignore[union-attr]


def test_rows_out_of_order_and_a_late_reference_rebuild_from_the_store() -> None:
    frame = _stream()
    store = Store.open(None)
    analyzer, intake = _analyzer(store)
    intake.accept(observations_batch(frame.iloc[1000:].reset_index(drop=True)), NOW)
    intake.accept(observations_batch(frame.iloc[:1000]), NOW)  # older rows after newer
    reference = frame.iloc[:300]
    intake.accept(Batch(annotations=reference_annotations(reference, "ref.csv")), NOW)
    model = analyzer.view(store, NOW).models[0]  # type: ignore[union-attr]
    expected = version_health("churn", "1", frame.iloc[300:], reference, SETTINGS)
    assert model.reference_rows == 300 and model.rows == 1700
    assert model.status == str(expected.status)
    assert model.sparkline == tuple(expected.sparkline)


def test_a_new_version_is_a_change_and_versions_sort_worst_first() -> None:
    store = Store.open(None)
    analyzer, intake = _analyzer(store)
    intake.accept(observations_batch(_stream(shift_from=None, version="1")), NOW)
    intake.accept(observations_batch(_stream(version="2", seed=2)), NOW)
    view = analyzer.view(store, NOW)
    assert [(m.version, m.status) for m in view.models] == [  # type: ignore[union-attr]
        ("2", "drifting"), ("1", "healthy")]
    versions = store.rows("SELECT version FROM changes WHERE kind = 'model' ORDER BY version")
    assert versions == [("1",), ("2",)]
    again = ModelsAnalyzer(SETTINGS)
    Intake(store, [again]).restore()
    assert again.observe(observations_batch(_stream(version="2").iloc[-5:]), NOW) is None


def test_few_rows_wait_for_a_reference_and_records_work_too() -> None:
    store = Store.open(None)
    analyzer, intake = _analyzer(store)
    assert analyzer.view(store, NOW) is None
    at = datetime(2024, 1, 1, tzinfo=UTC)
    records = [ModelObservation(at + timedelta(minutes=i), "tiny", "", f"t{i}",
                                {"x": float(i)}, 1.0) for i in range(20)]
    intake.accept(Batch(observations=records), NOW)
    model = analyzer.view(store, NOW).models[0]  # type: ignore[union-attr]
    assert (model.name, model.status, model.rows, model.windows) == ("tiny", "no labels yet", 20, 0)
    assert "reference still gathering" in model.window


def test_no_pandas_without_model_rows() -> None:
    code = (
        "import sys; from datetime import datetime, timezone; "
        "from opscockpit.analyzers.models import ModelsAnalyzer; "
        "from opscockpit.sources.base import Batch; from opscockpit.records import MetricSample; "
        "from opscockpit.store import Store; s = Store.open(None); a = ModelsAnalyzer(); "
        "a.restore(s); now = datetime.now(timezone.utc); "
        "a.observe(Batch(metrics=[MetricSample(now, 'h', 'cpu_pct', 1.0)]), now); "
        "assert a.view(s, now) is None; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pandas', 'sklearn', 'scipy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def _label_batch(labels: pd.DataFrame) -> Batch:
    """Late labels as the tail source emits them: label rows, nothing else."""
    at = datetime(2024, 3, 1, tzinfo=UTC)
    return Batch(observations=[ModelObservation(at, "", "", str(r), {}, None, None, label)
                               for r, label in zip(labels["record_id"], labels["label"],
                                                   strict=True)])


def test_a_reference_lost_to_retention_is_chosen_anew() -> None:
    frame = _stream(shift_from=None)
    store = Store.open(None)
    _, intake = _analyzer(store)
    # The declaration is imported (retention spares it), the rows are live (it does not).
    store.append(Batch(annotations=reference_annotations(frame.iloc[:300], "ref.csv")),
                 origin="import")
    intake.accept(observations_batch(frame), NOW)
    cut = frame["ts"].iloc[500].to_pydatetime()
    assert store.apply_retention(cut, timedelta(0)) == 500
    assert store.count("annotations") == 1
    fresh = ModelsAnalyzer(SETTINGS)
    Intake(store, [fresh]).restore()
    model = fresh.view(store, NOW).models[0]  # type: ignore[union-attr]
    assert model.reference_rows == 375 and model.rows == 1125  # 25% of the 1500 left
    assert model.reference_from == cut
