"""The ``predictions`` live source: tailing logs and labels, history skipped or read, and the
whole way through an Engine to the Models view with labels arriving either side."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from opscockpit.analysis.model_health import HealthSettings
from opscockpit.analyzers.models import ModelsAnalyzer
from opscockpit.analyzers.telemetry import TelemetryAnalyzer
from opscockpit.engine import Engine, Scheduled
from opscockpit.sources.base import SourceError
from opscockpit.sources.prediction_tail import PredictionFileSource
from opscockpit.store import Store

HEADER = "ts,id,x,colour,y_pred\n"


def _lines(start: int, n: int, shift: float = 0.0, seed: int = 0) -> str:
    rng = np.random.default_rng(seed + start)
    return "".join(
        f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00Z,r{i},{rng.normal(shift, 1):.4f},"
        f"{rng.choice(['red', 'blue'])},{i % 2}\n" for i in range(start, start + n))


def _source(tmp_path: Path, **options: object) -> PredictionFileSource:
    return PredictionFileSource("preds", {"path": str(tmp_path / "logs"),
                                          "labels": str(tmp_path / "labels.csv"), **options})


def test_tails_from_the_end_and_emits_label_rows(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "churn_live.csv"
    log.write_text(HEADER + _lines(0, 5))
    source = _source(tmp_path)
    assert len(source.poll(None)) == 0  # what the file held at start is history
    more, half = _lines(5, 3), _lines(8, 1)
    with log.open("a") as handle:
        handle.write(more + half[:10])  # the last line half written
    frame = source.poll(None).frames["model_observations"]
    assert frame["record_id"].tolist() == ["r5", "r6", "r7"]
    assert frame["model"].unique().tolist() == ["churn"]
    assert json.loads(frame["features"].iloc[0]).keys() == {"x", "colour"}
    (tmp_path / "labels.csv").write_text("id,label\nr6,1\nr99,0\n")  # r99: not predicted yet
    batch = source.poll(None)
    assert [(o.record_id, o.label, o.prediction, o.features) for o in batch.observations] == [
        ("r6", 1.0, None, {}), ("r99", 0.0, None, {})]
    with log.open("a") as handle:
        handle.write(half[10:])
    assert source.poll(None).frames["model_observations"]["record_id"].tolist() == ["r8"]


def test_from_start_reads_history_and_the_reference(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "churn.csv").write_text(HEADER + _lines(100, 4))
    reference = tmp_path / "churn_reference.csv"
    reference.write_text(HEADER + _lines(0, 6))
    source = _source(tmp_path, from_start=True, reference=str(reference), version="2")
    batch = source.poll(None)
    frame = batch.frames["model_observations"]
    assert len(frame) == 10 and set(frame["version"]) == {"2"}
    [note] = batch.annotations
    assert json.loads(note.text)["rows"] == 6 and note.kind == "model_reference"
    (tmp_path / "logs" / "churn-2.csv").write_text(HEADER + _lines(200, 2))  # a new file
    assert len(source.poll(None).frames["model_observations"]) == 2


def test_a_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        _source(tmp_path).poll(None)


async def test_through_the_engine_labels_before_and_after(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "churn.csv"
    log.write_text(HEADER)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\n" + "".join(f"r{i},{i % 2}\n" for i in range(500, 600)))
    store = Store.open(None)
    models = ModelsAnalyzer(HealthSettings(window=100, reference_share=0.25),
                            auto_reference_rows=400)
    source = PredictionFileSource("preds", {"path": str(log), "labels": str(labels),
                                            "from_start": True})
    engine = Engine(store, [Scheduled(source, 0.05, 5.0)], refresh_s=0.05,
                    analyzers=[TelemetryAnalyzer(), models])
    task = asyncio.create_task(engine.run())
    try:
        with log.open("a") as handle:
            handle.write(_lines(0, 600))
        await _until(lambda: _model(engine) is not None and _model(engine).rows >= 450)
        assert _model(engine).labelled_rows == 100  # labels read before their predictions
        with labels.open("a") as handle:  # and labels after theirs
            handle.write("".join(f"r{i},{i % 2}\n" for i in range(150, 500)))
        await _until(lambda: _model(engine).labelled_rows == 450)
        model = _model(engine)
        assert model.status == "healthy" and model.metric == "accuracy"
        assert model.metric_value == 1.0 and model.reference_rows == 150
    finally:
        engine.stop()
        await asyncio.wait_for(task, 10)


def _model(engine: Engine):  # type: ignore[no-untyped-def]
    snapshot = engine.last_snapshot
    view = snapshot.views.get("models") if snapshot else None
    return view.models[0] if view and view.models else None


async def _until(condition, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        try:
            if condition():
                return
        except AttributeError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
