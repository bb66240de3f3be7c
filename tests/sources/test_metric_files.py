"""Metric files: NAB-style and long CSV, Prometheus query JSON, gzip, malformed rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from opscockpit.sources.metric_files import (
    METRIC_COLUMNS,
    LineError,
    detect_metric_format,
    parse_metric_file,
    parse_metric_files,
    parse_metric_text,
)
from opscockpit.sources.prometheus_api import series_name
from tests.conftest import require_dataset

NAB_STYLE = """timestamp,value
2014-02-14 14:30:00,0.132
2014-02-14 14:35:00,0.134
2014-02-14 14:40:00,not-a-number
2014-02-14 14:45:00

bad-time,0.2
1392389400,nan
1392389700,inf
1392389700,0.5
"""

LONG = """timestamp,host,metric,value
2024-01-01T00:00:00Z,web-1,cpu_pct,12.5
2024-01-01T00:01:00+01:00,web-2,cpu_pct,7
1704067260000,web-1,mem_pct,40
2024-01-01T00:02:00Z,web-1,,3
2024-01-01T00:03:00Z,web-1,cpu_pct,1,extra
"""


def write(tmp_path: Path, name: str, text: str, zipped: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(gzip.compress(data) if zipped else data)
    return path


def test_nab_style_csv_is_named_after_the_file_and_keeps_good_rows(tmp_path: Path) -> None:
    got = parse_metric_file(write(tmp_path, "ec2_cpu_utilization_5f5533.csv", NAB_STYLE))
    frame = got.frame
    assert list(frame.columns) == METRIC_COLUMNS
    assert str(frame["ts"].dtype).endswith("UTC]")
    assert frame["metric"].unique().tolist() == ["ec2_cpu_utilization_5f5533"]
    assert frame["host"].unique().tolist() == [""]
    assert frame["value"].tolist() == [0.132, 0.134, 0.5]
    assert frame["ts"].iloc[2] == pd.Timestamp(1392389700, unit="s", tz="UTC")
    lines = {e.line: e.reason for e in got.errors}
    assert sorted(lines) == [4, 5, 7, 8, 9]
    assert "not a number" in lines[4]
    assert "expected 2 fields" in lines[5]
    assert "bad timestamp" in lines[7]
    assert "not finite" in lines[8] and "not finite" in lines[9]
    assert all(isinstance(e, LineError) and e.path.endswith("5f5533.csv") for e in got.errors)


def test_long_csv_mixes_iso_offsets_and_epoch_milliseconds(tmp_path: Path) -> None:
    got = parse_metric_file(write(tmp_path, "hosts.csv", LONG))
    frame = got.frame
    assert got.formats == {str(tmp_path / "hosts.csv"): "long_csv"}
    assert frame[["host", "metric"]].values.tolist() == [
        ["web-1", "cpu_pct"],
        ["web-2", "cpu_pct"],
        ["web-1", "mem_pct"],
    ]
    assert frame["ts"].tolist() == [
        pd.Timestamp("2024-01-01T00:00:00Z"),
        pd.Timestamp("2023-12-31T23:01:00Z"),
        pd.Timestamp("2024-01-01T00:01:00Z"),
    ]
    assert [(e.line, e.reason) for e in got.errors] == [
        (5, "empty metric name"),
        (6, "expected 4 fields, got 5"),
    ]


def test_format_comes_from_content_not_extension(tmp_path: Path) -> None:
    doc = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {
                    "metric": {"__name__": "up", "instance": "10.0.0.5:9100", "job": "node"},
                    "value": [1700000000.5, "1"],
                }
            ],
        },
    }
    as_txt = write(tmp_path, "export.txt", json.dumps(doc))
    gz_without_suffix = write(tmp_path, "hosts.csv", LONG, zipped=True)
    headerless = write(tmp_path, "latency.data", "1700000000,3.5\n1700000060,4\n")
    got = parse_metric_files([as_txt, gz_without_suffix, headerless])
    assert list(got.formats.values()) == ["prometheus", "long_csv", "csv"]
    assert ("10.0.0.5", "up{job=node}") in set(zip(got.frame.host, got.frame.metric, strict=True))
    assert got.frame[got.frame.metric == "latency"]["value"].tolist() == [3.5, 4.0]
    assert len(got.frame) == 1 + 3 + 2
    with pytest.raises(ValueError, match="not a metric file"):
        detect_metric_format("hello world\n")
    assert parse_metric_text("hello\n", "x.csv").errors[0].line == 1


def test_gzip_nab_file_keeps_its_stem(tmp_path: Path) -> None:
    got = parse_metric_file(write(tmp_path, "nyc_taxi.csv.gz", NAB_STYLE, zipped=True))
    assert got.frame["metric"].unique().tolist() == ["nyc_taxi"]


def test_prometheus_names_sort_labels_and_take_the_host_from_instance() -> None:
    labels = {
        "__name__": "node_cpu_seconds_total",
        "mode": "idle",
        "cpu": "0",
        "instance": "db-1:9100",
        "job": "node",
    }
    assert series_name(labels) == (
        "db-1",
        "node_cpu_seconds_total{cpu=0,job=node,mode=idle}",
    )
    assert series_name({"mode": "user"}) == ("", "{mode=user}")
    assert series_name({"__name__": "up", "instance": "[::1]:9090"}) == ("::1", "up")
    assert series_name({"__name__": "up", "host": "h", "instance": "x:1"}) == ("h", "up")


def test_prometheus_bad_samples_are_reported_and_the_rest_kept() -> None:
    doc = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "x"},
                    "values": [[1, "1"], [2, "NaN"], [3, "+Inf"], [4, "2"]],
                },
                {"metric": {"__name__": "y"}, "values": [["later", "1"], [5]]},
            ],
        },
    }
    got = parse_metric_text(json.dumps(doc), "q.json")
    assert got.frame["value"].tolist() == [1.0, 2.0]
    reasons = sorted(e.reason for e in got.errors)
    assert len(reasons) == 4
    assert any("series 0 x sample 1" in r and "not finite" in r for r in reasons)
    assert any("series 1 y sample 0" in r and "bad timestamp" in r for r in reasons)


def test_real_prometheus_recordings() -> None:
    base = require_dataset("prometheus")
    matrix = parse_metric_file(base / "query_range_matrix.json")
    assert not matrix.errors
    assert set(matrix.frame["metric"]) >= {"{mode=idle}", "{mode=user}", "{mode=system}"}
    assert (matrix.frame["host"] == "").all()
    assert matrix.frame.groupby("metric").size().min() >= 2
    assert matrix.frame["ts"].dt.tz is not None

    ranged = parse_metric_file(base / "query_range_vector_matrix.json").frame
    assert set(zip(ranged.host, ranged.metric, strict=True)) == {
        ("127.0.0.1", "node_load1{job=node}")
    }
    assert ranged["ts"].iloc[0] == pd.Timestamp(1795380407.122, unit="s", tz="UTC").round("ms")

    up = parse_metric_file(base / "query_up_vector.json").frame
    assert sorted(up["metric"]) == ["up{job=node}", "up{job=prometheus}"]
    assert up["value"].tolist() == [1.0, 1.0]

    failed = parse_metric_file(base / "query_error.json")
    assert failed.frame.empty
    assert "Prometheus query failed (bad_data)" in failed.errors[0].reason
    assert "unclosed left parenthesis" in failed.errors[0].reason
    scalar = parse_metric_file(base / "query_scalar.json")
    assert scalar.frame.empty and "scalar" in scalar.errors[0].reason


def test_real_nab_file() -> None:
    path = require_dataset("nab/data/realKnownCause/nyc_taxi.csv")
    got = parse_metric_file(path)
    assert not got.errors and len(got.frame) == 10320
    assert got.frame["ts"].is_monotonic_increasing


def test_unreadable_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    got = parse_metric_file(tmp_path / "missing.csv")
    assert got.frame.empty and got.errors[0].line == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"status": "success",\n "data": ')
    got = parse_metric_file(broken)
    assert got.errors[0].line == 2 and "not JSON" in got.errors[0].reason
