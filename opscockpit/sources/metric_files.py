"""Metric samples from files: NAB-style ``timestamp,value`` CSV, long CSV
``timestamp,host,metric,value``, and Prometheus HTTP API query results (JSON).

The format is read from the content (gzip magic, a JSON brace, the CSV header or the shape
of the first row), never from the extension alone, so ``data.txt`` or a gzipped export
without ``.gz`` still parses. Every reader returns the same long frame ``ts, host, metric,
value`` (``ts`` aware UTC, ``value`` finite float). A row that cannot be used becomes a
:class:`LineError` naming the file and line; every other row is kept.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from opscockpit.sources.alert_files import LineError  # one error type for every file reader
from opscockpit.sources.prometheus_api import query_result, series_name

__all__ = [
    "FORMATS",
    "METRIC_COLUMNS",
    "LineError",
    "ParseResult",
    "detect_metric_format",
    "parse_metric_file",
    "parse_metric_files",
    "parse_metric_text",
]

METRIC_COLUMNS = ["ts", "host", "metric", "value"]
FORMATS = ("csv", "long_csv", "prometheus")

_TIME_NAMES = ("timestamp", "ts", "time", "datetime", "date")
_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")
# Epoch numbers above this are milliseconds: no metric sample is dated after 5138 AD.
_EPOCH_MS = 1e11


@dataclass(slots=True)
class ParseResult:
    """Samples read (``frame``), rows refused (``errors``), and each file's format."""

    frame: pd.DataFrame
    errors: list[LineError] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.Series([], dtype="datetime64[us, UTC]"),
            "host": pd.Series([], dtype=object),
            "metric": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=float),
        }
    )


def _header(row: Sequence[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff").lower() for cell in row]


def _looks_like_time(cell: str) -> bool:
    cell = cell.strip()
    if _NUMBER.fullmatch(cell):
        return True
    return bool(re.match(r"\d{4}-\d{2}-\d{2}", cell))


def _first_row(text: str) -> list[str]:
    for row in csv.reader(io.StringIO(text)):
        if any(cell.strip() for cell in row):
            return row
    return []


def detect_metric_format(text: str) -> str:
    """``prometheus``, ``long_csv`` or ``csv`` from the text itself; ValueError if none."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        return "prometheus"
    row = _first_row(stripped)
    names = _header(row)
    if {"host", "metric", "value"} <= set(names) and any(n in _TIME_NAMES for n in names):
        return "long_csv"
    if "value" in names and any(n in _TIME_NAMES for n in names):
        return "csv"
    # No header: judge by the shape of the first row.
    if row and _looks_like_time(row[0]):
        if len(row) == 2:
            return "csv"
        if len(row) == 4:
            return "long_csv"
    raise ValueError(
        "not a metric file: expected a 'timestamp,value' or 'timestamp,host,metric,value' "
        "CSV header, or Prometheus query JSON"
    )


# -- timestamps and values, a column at a time ---------------------------------------------


def _parse_times(raw: Sequence[str]) -> pd.Series:
    """Epoch seconds (or milliseconds) and ISO 8601 text, mixed freely; NaT where neither."""
    text = pd.Series(list(raw), dtype=object).astype(str).str.strip()
    numeric = pd.to_numeric(text.where(text.str.fullmatch(_NUMBER.pattern)), errors="coerce")
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    is_epoch = numeric.notna() & np.isfinite(numeric)
    if is_epoch.any():
        seconds = numeric[is_epoch]
        micros = np.where(seconds.abs() > _EPOCH_MS, seconds * 1e3, seconds * 1e6).round()
        out[is_epoch] = pd.to_datetime(micros.astype("int64"), unit="us", utc=True)
    rest = ~is_epoch & (text != "")
    if rest.any():
        out[rest] = pd.to_datetime(text[rest], utc=True, errors="coerce", format="ISO8601")
    return out


def _value_reason(cell: str) -> str:
    try:
        number = float(cell)
    except ValueError:
        return f"value {cell[:40]!r} is not a number"
    if not math.isfinite(number):
        return f"value {cell!r} is not finite"
    return ""


def _assemble(
    path: str,
    lines: list[int],
    stamps: list[str],
    hosts: list[str],
    metrics: list[str],
    values: list[str],
    errors: list[LineError],
    where: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Vectorised checks over collected rows; bad rows become errors, good rows a frame.

    ``where`` prefixes each row's error reason (a sample's place inside a JSON document).
    """
    if not lines:
        return _empty()
    ts = _parse_times(stamps)
    value = pd.to_numeric(pd.Series(values, dtype=object).str.strip(), errors="coerce")
    good = ts.notna() & np.isfinite(value.to_numpy(dtype=float))
    named = pd.Series([bool(m.strip()) for m in metrics])
    good &= named
    for i in np.flatnonzero(~good.to_numpy()):
        if pd.isna(ts.iat[i]):
            reason = f"bad timestamp {stamps[i][:40]!r}"
        elif not named.iat[i]:
            reason = "empty metric name"
        else:
            reason = _value_reason(values[i].strip())
        if where is not None:
            reason = f"{where[i]}: {reason}"
        errors.append(LineError(path, lines[i], reason))
    keep = good.to_numpy()
    return pd.DataFrame(
        {
            "ts": ts[keep].reset_index(drop=True),
            "host": pd.Series(hosts, dtype=object)[keep].reset_index(drop=True),
            "metric": pd.Series(metrics, dtype=object)[keep].reset_index(drop=True),
            "value": value[keep].astype(float).reset_index(drop=True),
        }
    )


# -- CSV -----------------------------------------------------------------------------------


def _parse_csv(text: str, path: str, stem: str, fmt: str, errors: list[LineError]) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    lines: list[int] = []
    stamps: list[str] = []
    hosts: list[str] = []
    metrics: list[str] = []
    values: list[str] = []
    columns: dict[str, int] | None = None
    width = 2 if fmt == "csv" else 4
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            names = _header(row)
            time_col = next((names.index(n) for n in _TIME_NAMES if n in names), None)
            if time_col is not None and "value" in names:
                columns = {"ts": time_col, "value": names.index("value")}
                if fmt == "long_csv":
                    columns |= {"host": names.index("host"), "metric": names.index("metric")}
                width = len(names)
                continue
            # Headerless: positional columns.
            columns = (
                {"ts": 0, "value": 1}
                if fmt == "csv"
                else {"ts": 0, "host": 1, "metric": 2, "value": 3}
            )
        if len(row) != width:
            errors.append(LineError(path, line, f"expected {width} fields, got {len(row)}"))
            continue
        lines.append(line)
        stamps.append(row[columns["ts"]])
        values.append(row[columns["value"]])
        if fmt == "long_csv":
            hosts.append(row[columns["host"]].strip())
            metrics.append(row[columns["metric"]].strip())
        else:
            hosts.append("")
            metrics.append(stem)
    return _assemble(path, lines, stamps, hosts, metrics, values, errors)


# -- Prometheus ----------------------------------------------------------------------------


def _parse_prometheus(text: str, path: str, errors: list[LineError]) -> pd.DataFrame:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        errors.append(LineError(path, line, f"not JSON: {exc}"))
        return _empty()
    try:
        result = query_result(doc)
    except ValueError as exc:
        errors.append(LineError(path, 1, str(exc)))
        return _empty()
    # A response is one document, usually on one line: errors name line 1 and say which
    # series and sample inside it.
    stamps: list[str] = []
    hosts: list[str] = []
    metrics: list[str] = []
    values: list[str] = []
    where: list[str] = []
    for n, series in enumerate(result):
        labels = series.get("metric") if isinstance(series, dict) else None
        if not isinstance(labels, dict):
            errors.append(LineError(path, 1, f"series {n}: no 'metric' label object"))
            continue
        host, metric = series_name(labels)
        samples = series.get("values")
        if samples is None and "value" in series:
            samples = [series["value"]]
        if not isinstance(samples, list):
            errors.append(LineError(path, 1, f"series {n} {metric}: no samples"))
            continue
        for k, sample in enumerate(samples):
            if not (isinstance(sample, list) and len(sample) == 2):
                errors.append(LineError(path, 1, f"series {n} {metric} sample {k}: not [ts, v]"))
                continue
            stamps.append(str(sample[0]))
            values.append(str(sample[1]))
            hosts.append(host)
            metrics.append(metric or "{}")
            where.append(f"series {n} {metric} sample {k}")
    return _assemble(path, [1] * len(stamps), stamps, hosts, metrics, values, errors, where)


# -- files ---------------------------------------------------------------------------------


def _stem(path: str) -> str:
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem


def parse_metric_text(text: str, path: str = "<text>", stem: str | None = None) -> ParseResult:
    """Parse one file's decoded text; ``stem`` names a ``timestamp,value`` series."""
    errors: list[LineError] = []
    try:
        fmt = detect_metric_format(text)
    except ValueError as exc:
        return ParseResult(_empty(), [LineError(path, 1, str(exc))])
    if fmt == "prometheus":
        frame = _parse_prometheus(text, path, errors)
    else:
        frame = _parse_csv(text, path, stem if stem is not None else _stem(path), fmt, errors)
    errors.sort(key=lambda e: e.line)
    return ParseResult(frame, errors, {path: fmt})


def parse_metric_file(path: str | Path) -> ParseResult:
    """Read one file, gzipped or not (told by its first bytes, not its name)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        return ParseResult(_empty(), [LineError(name, 0, f"cannot read: {exc}")])
    return parse_metric_text(text, name, _stem(name))


def parse_metric_files(paths: Iterable[str | Path]) -> ParseResult:
    """Every file into one frame; errors and formats of all of them."""
    frames: list[pd.DataFrame] = []
    out = ParseResult(_empty())
    for path in paths:
        one = parse_metric_file(path)
        if len(one.frame):
            frames.append(one.frame)
        out.errors.extend(one.errors)
        out.formats.update(one.formats)
    if frames:
        out.frame = pd.concat(frames, ignore_index=True)
    return out
