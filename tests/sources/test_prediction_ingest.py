"""The ``predictions`` ingest adapter: column mapping, model names, reference files, labels
joined by id, and rows through an Intake into the store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from opscockpit.ingest import IngestError, ingest
from opscockpit.intake import Intake
from opscockpit.sources.prediction_files import FIXED
from opscockpit.sources.prediction_ingest import (
    REFERENCE_KIND,
    WIDE_PREFIX,
    column_map,
    model_name,
    parse_predictions,
)
from opscockpit.store import Store

REFERENCE = """when,id,amount,colour,guess,truth
2024-01-01T00:00:00Z,r1,1.5,red,1,1
2024-01-01T01:00:00Z,r2,2.5,blue,0,0
2024-01-01T02:00:00Z,r3,3.5,red,1,0
"""
LOG = """when,id,amount,colour,guess
2024-01-02T00:00:00Z,a1,4.5,red,1
2024-01-02T01:00:00Z,a2,,green,0
2024-01-02T02:00:00Z,a3,x,red
"""
LABELS = "id,truth\na1,1\na2,0\nzz,1\n"
COLUMNS = ("time=when", "prediction=guess", "label=truth")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = (tmp_path / "churn_reference.csv", tmp_path / "churn_analysis.csv",
             tmp_path / "churn_labels.csv")
    for path, text in zip(paths, (REFERENCE, LOG, LABELS), strict=True):
        path.write_text(text)
    return paths


def test_column_map_roles_and_errors() -> None:
    columns = column_map(["ts=when", "ID=key", "features=a, b", "exclude=junk"],
                         model="m", version="3")
    assert (columns.time, columns.id, columns.features, columns.exclude) == (
        "when", "key", ("a", "b"), ("junk",))
    assert (columns.default_model, columns.default_version) == ("m", "3")
    several = column_map(["ts=timestamp,id=id,features=a,b,label=repaid"])
    assert (several.time, several.id, several.features, several.label) == (
        "timestamp", "id", ("a", "b"), "repaid")
    for bad in ("when", "colour=", "flavour=x", "ts=t,oops"):
        with pytest.raises(IngestError, match="ROLE=NAME"):
            column_map([bad])


@pytest.mark.parametrize(("name", "model"), [
    ("car_loan_reference.csv.gz", "car_loan"), ("car_loan-analysis.parquet", "car_loan"),
    ("fraud.ndjson", "fraud"), ("reference.csv", "reference"), ("x_ref.csv", "x"),
])
def test_model_name_drops_the_role_word(name: str, model: str) -> None:
    assert model_name(Path(name)) == model


def test_reference_file_with_labels_and_log_without(files: tuple[Path, Path, Path]) -> None:
    reference, log, labels = files
    options = {"columns": COLUMNS, "labels": (str(labels),)}
    ref = parse_predictions(reference, options)
    assert ref.format == "csv" and ref.errors == []
    [note] = ref.batch.annotations
    spec = json.loads(note.text)
    assert (note.kind, spec["model"], spec["version"], spec["rows"]) == (
        REFERENCE_KIND, "churn", "", 3)
    assert spec["from"].startswith("2024-01-01T00:00") and spec["to"].startswith("2024-01-01T02")
    frame = ref.batch.frames["model_observations"]
    assert frame["label"].tolist() == [1.0, 0.0, 0.0]  # its own column, no label file row

    cur = parse_predictions(log, options)  # no "truth" column here: labels from the file
    assert not cur.batch.annotations
    assert [(e.line, e.reason) for e in cur.errors] == [(4, "expected 5 fields, got 4")]
    frame = cur.batch.frames["model_observations"]
    assert frame["model"].unique().tolist() == ["churn"]
    assert frame["label"].tolist() == [1.0, 0.0]
    assert json.loads(frame["features"].iloc[1]) == {"amount": None, "colour": "green"}
    wide = [c for c in frame.columns if c.startswith(WIDE_PREFIX)]
    assert wide == [WIDE_PREFIX + "amount", WIDE_PREFIX + "colour"]
    assert set(frame.columns) - set(wide) == {"ts", "features", *FIXED}


def test_explicit_reference_option_and_a_labels_file_in_the_directory(
        files: tuple[Path, Path, Path]) -> None:
    _, log, labels = files
    options = {"columns": COLUMNS, "labels": (str(labels),), "reference": (str(log),),
               "model": "churn", "version": "7"}
    parsed = parse_predictions(log, options)
    assert [json.loads(a.text)["version"] for a in parsed.batch.annotations] == ["7"]
    skipped = parse_predictions(labels, options)
    assert skipped.format == "labels" and len(skipped.batch) == 0


def test_a_file_without_time_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(IngestError, match=r"odd\.csv: no time column"):
        parse_predictions(path, {})
    with pytest.raises(IngestError, match="column 'nope' for time not found"):
        parse_predictions(path, {"columns": ("time=nope",)})


def test_ingest_into_the_store(files: tuple[Path, Path, Path]) -> None:
    reference, _, labels = files
    store = Store.open(None)
    summary = ingest(Intake(store, []), "predictions", [reference.parent],
                     {"columns": COLUMNS, "labels": (str(labels),)})
    assert summary.files == 3 and summary.rows == 3 + 2 + 1  # + the reference annotation
    assert [e.line for e in summary.errors] == [4]
    stored = store.window("model_observations")
    assert stored["record_id"].tolist() == ["r1", "r2", "r3", "a1", "a2"]
    assert stored["label"].tolist() == ["1.0", "0.0", "0.0", "1.0", "0.0"]
    assert pd.isna(stored["score"]).all()
    assert store.count("annotations") == 1


def test_clean_and_quoted_csv_read_alike(tmp_path: Path) -> None:
    """A clean file takes pandas' parser, a quoted one the line reader: same rows."""
    from opscockpit.sources.prediction_files import ColumnMap, read_predictions

    clean, quoted = tmp_path / "a.csv", tmp_path / "b.csv"
    clean.write_text(LOG.replace("x,red\n", "x,red,1\n"))
    quoted.write_text(LOG.replace("x,red\n", "x,red,1\n").replace(",red,", ',"red",'))
    columns = ColumnMap(time="when")
    one, two = read_predictions(clean, columns).frame, read_predictions(quoted, columns).frame
    pd.testing.assert_frame_equal(one.drop(columns=["model", "record_id"]),
                                  two.drop(columns=["model", "record_id"]))
    assert one["record_id"].tolist() == ["a1", "a2", "a3"]
