"""Prediction logs in every format, with one malformed row each, and late labels."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from opscockpit.sources.prediction_files import (
    OBSERVATION_COLUMNS,
    ColumnMap,
    LineError,
    TailState,
    join_labels,
    read_labels,
    read_predictions,
    read_table,
    tail_predictions,
    to_observations,
)

CSV = """ts,model,version,id,amount,colour,y_pred,y_pred_proba
2024-01-01T00:00:00Z,churn,2,a1,10.5,red,1,0.9
2024-01-01T01:00:00Z,churn,2,a2,3.0,blue,0,0.2
2024-01-01T02:00:00Z,churn,2,a3,7.25,red,1
2024-01-01T03:00:00+01:00,churn,2,a4,,blue,0,0.4
"""


def _rows() -> list[dict[str, object]]:
    return [
        {"ts": "2024-01-01T00:00:00Z", "model": "churn", "version": "2", "id": "a1",
         "amount": 10.5, "colour": "red", "y_pred": 1, "y_pred_proba": 0.9},
        {"ts": 1704070800, "model": "churn", "version": "2", "id": "a2",
         "amount": 3.0, "colour": "blue", "y_pred": 0, "y_pred_proba": 0.2},
        {"ts": "not a time", "model": "churn", "version": "2", "id": "a3",
         "amount": 7.25, "colour": "red", "y_pred": 1, "y_pred_proba": 0.5},
        {"ts": "2024-01-01T02:00:00Z", "model": "churn", "version": "2", "id": "a4",
         "amount": None, "colour": "blue", "y_pred": 0, "y_pred_proba": 0.4},
    ]


def _check_wide(frame: pd.DataFrame) -> None:
    assert list(frame.columns[:7]) == ["ts", "model", "version", "record_id", "prediction",
                                       "score", "label"]
    assert {"amount", "colour"} <= set(frame.columns)
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["record_id"].tolist() == ["a1", "a2", "a4"]
    assert frame["score"].tolist() == [0.9, 0.2, 0.4]


@pytest.mark.parametrize("gz", [False, True])
def test_csv_with_wrong_field_count(tmp_path: Path, gz: bool) -> None:
    path = tmp_path / ("log.csv.gz" if gz else "log.csv")
    data = CSV.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    read = read_predictions(path)
    assert read.errors == [LineError(str(path), 4, "expected 8 fields, got 7")]
    _check_wide(read.frame)
    assert read.frame["ts"].iloc[2] == pd.Timestamp("2024-01-01T02:00:00Z")
    assert pd.isna(read.frame["amount"].iloc[2])
    assert read.frame["model"].unique().tolist() == ["churn"]


def test_ndjson_with_bad_json_and_bad_time(tmp_path: Path) -> None:
    path = tmp_path / "log.ndjson"
    lines = [json.dumps(r) for r in _rows()]
    lines.insert(2, "{broken")
    path.write_text("\n".join(lines) + "\n")
    read = read_predictions(path)
    assert [(e.line, e.reason.split(":")[0]) for e in read.errors] == [
        (3, "invalid JSON"), (4, "bad timestamp 'not a time'")]
    _check_wide(read.frame)
    assert read.frame["ts"].iloc[1] == pd.Timestamp("2024-01-01T01:00:00Z")  # epoch seconds


def test_ndjson_nested_features(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    path.write_text(json.dumps({"ts": 0, "prediction": "yes",
                                "features": {"a": 1, "b": "x"}}) + "\n")
    frame = read_predictions(path).frame
    assert frame[["a", "b"]].iloc[0].tolist() == [1, "x"]
    assert frame["model"].iloc[0] == "nested"  # the file stem when no model column


def test_parquet_and_directory(tmp_path: Path) -> None:
    frame = pd.DataFrame(_rows())
    frame["ts"] = frame["ts"].astype(str)
    frame.to_parquet(tmp_path / "part-1.parquet")
    (tmp_path / "part-2.csv").write_text(CSV)
    (tmp_path / "notes.txt").write_text("ignored")
    read = read_predictions(tmp_path)
    assert [(Path(e.path).name, e.line) for e in read.errors] == [
        ("part-1.parquet", 3), ("part-2.csv", 4)]
    assert len(read.frame) == 6
    assert read.frame["ts"].is_monotonic_increasing


def test_duckdb_sqlite_and_query(tmp_path: Path) -> None:
    frame = pd.DataFrame(_rows()).drop(index=2)
    frame["ts"] = frame["ts"].astype(str)
    db = tmp_path / "logs.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.register("f", frame)
        conn.execute("CREATE TABLE predictions AS SELECT * FROM f")
    _check_wide(read_table(db).frame)
    lite = tmp_path / "logs.sqlite"
    with sqlite3.connect(lite) as conn:
        frame.to_sql("preds", conn, index=False)
    _check_wide(read_table(lite).frame)
    csv = tmp_path / "q.csv"
    csv.write_text(CSV.replace("2024-01-01T02:00:00Z,churn,2,a3,7.25,red,1\n", ""))
    _check_wide(read_table(f"SELECT * FROM '{csv}' WHERE model = 'churn'").frame)
    tail = read_table(db, skip_rows=2)
    assert tail.frame["record_id"].tolist() == ["a4"] and tail.state.offset == 3


def test_column_map_and_features(tmp_path: Path) -> None:
    path = tmp_path / "custom.csv"
    path.write_text("when,who,guess,truth,f1,f2,junk\n0,m,1,0,1.5,2,zz\n60,m,0,0,2.5,3,zz\n")
    columns = ColumnMap(time="when", model="who", prediction="guess", label="truth",
                        exclude=("junk",), default_version="7")
    frame = read_predictions(path, columns).frame
    assert list(frame.columns) == ["ts", "model", "version", "record_id", "prediction",
                                   "score", "label", "f1", "f2"]
    assert frame["version"].tolist() == ["7", "7"]
    assert frame["record_id"].tolist() == ["custom.csv:2", "custom.csv:3"]
    only = read_predictions(path, ColumnMap(time="when", features=("f2",))).frame
    assert [c for c in only.columns if c not in frame.columns[:7]] == ["f2"]
    with pytest.raises(ValueError, match="no time column"):
        read_predictions(path, ColumnMap(exclude=("when",)))


def test_tail_plain_csv_by_bytes(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    lines = CSV.splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][:10])  # last line half written
    first = tail_predictions(path)
    assert first.frame["record_id"].tolist() == ["a1", "a2"]
    with path.open("a") as handle:
        handle.write(lines[3][10:] + lines[4])
    second = tail_predictions(path, first.state)
    assert second.frame["record_id"].tolist() == ["a4"]
    assert [e.line for e in second.errors] == [4]
    assert tail_predictions(path, second.state).frame.empty
    path.write_text(lines[0] + lines[1])  # rotated: starts over
    assert tail_predictions(path, second.state).frame["record_id"].tolist() == ["a1"]


def test_tail_gzip_and_ndjson(tmp_path: Path) -> None:
    gz = tmp_path / "live.csv.gz"
    gz.write_bytes(gzip.compress(CSV.encode()))
    state = TailState(offset=1, line=2)  # one data row already read
    assert tail_predictions(gz, state).frame["record_id"].tolist() == ["a2", "a4"]
    nd = tmp_path / "live.ndjson"
    nd.write_text(json.dumps(_rows()[0]) + "\n")
    first = tail_predictions(nd)
    with nd.open("a") as handle:
        handle.write(json.dumps(_rows()[2]) + "\n" + json.dumps(_rows()[3]) + "\n")
    second = tail_predictions(nd, first.state)
    assert second.frame["record_id"].tolist() == ["a4"]
    assert [e.line for e in second.errors] == [2]


def test_late_labels_joined_by_id(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    frame = read_predictions(path).frame
    labels = tmp_path / "labels.csv"
    labels.write_text("id,outcome\na2,1\na4,0\nzz,1\n")
    got = read_labels(labels)
    assert got.columns.tolist() == ["record_id", "label"]
    joined = join_labels(frame, got)
    assert joined["label"].tolist()[0] is None or pd.isna(joined["label"].iloc[0])
    assert joined.set_index("record_id")["label"].loc[["a2", "a4"]].tolist() == [1.0, 0.0]
    assert len(joined) == len(frame)


def test_observations_shape() -> None:
    frame = pd.DataFrame({
        "ts": pd.to_datetime(["2024-01-01T00:00:00Z"]), "model": ["m"], "version": ["1"],
        "record_id": ["r"], "prediction": [1.0], "score": [0.5], "label": [None],
        "zeta": [float("nan")], "alpha": ["x"],
    })
    obs = to_observations(frame)
    assert tuple(obs.columns) == OBSERVATION_COLUMNS
    assert obs["features"].iloc[0] == '{"alpha": "x", "zeta": null}'
