"""Raw readers of prediction files: the bytes of CSV (plain or gzipped), NDJSON, Parquet and
DuckDB/SQLite tables into rows of text or typed values, with the file line of each row.

Nothing here knows what a column means (that is :mod:`opscockpit.sources.prediction_files`);
a reader only keeps every row it can read, names the lines it cannot, and says how far it
got, so a tail can resume: by byte offset for plain CSV and NDJSON, by row count otherwise.
The way back out, features as the store's JSON, is here too (:func:`encode_features`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from opscockpit.sources.alert_formats import LineError  # one error type for every file reader

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".ndjson", ".jsonl", ".ndjson.gz",
            ".jsonl.gz", ".duckdb", ".db", ".sqlite", ".sqlite3")
DATABASES = (".duckdb", ".db", ".sqlite", ".sqlite3")


@dataclass(frozen=True, slots=True)
class TailState:
    """How far a file has been read: ``offset`` in bytes for plain CSV/NDJSON, in rows
    otherwise; ``line`` is the last line (or row) number consumed."""

    offset: int = 0
    line: int = 0



def read_raw(path: Path, state: TailState) -> tuple[pd.DataFrame, list[LineError], TailState]:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return _read_parquet(path, state)
    if name.endswith((".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz", ".json")):
        return _read_ndjson(path, state)
    if name.endswith(DATABASES):
        raw = query_table(str(path), None).iloc[state.offset:].reset_index(drop=True)
        raw.insert(0, "_line", np.arange(state.offset + 1, state.offset + len(raw) + 1))
        end = state.offset + len(raw)
        return raw, [], TailState(end, end)
    return _read_csv(path, state)


def _read_csv(path: Path, state: TailState) -> tuple[pd.DataFrame, list[LineError], TailState]:
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            text = handle.read()
        header_text, body, base_line, new_state = _split_rows_by_count(text, state)
    else:
        header_text, body, base_line, new_state = _split_bytes(path, state)
    header = next(csv.reader([header_text]), [])
    fast = _read_csv_fast(body, header, base_line)
    if fast is not None:
        return fast, [], new_state
    records: list[list[str]] = []
    lines: list[int] = []
    errors: list[LineError] = []
    reader = csv.reader(io.StringIO(body))
    last = 0
    try:
        for record in reader:
            line = base_line + last + 1
            last = reader.line_num
            if not record or record == [""]:
                continue
            if len(record) != len(header):
                errors.append(LineError(str(path), line,
                                        f"expected {len(header)} fields, got {len(record)}"))
                continue
            records.append(record)
            lines.append(line)
    except csv.Error as exc:
        errors.append(LineError(str(path), base_line + last + 1, f"unreadable CSV: {exc}"))
    raw = pd.DataFrame(records, columns=header, dtype=object)
    raw.insert(0, "_line", np.asarray(lines, dtype=np.int64))
    return raw, errors, new_state


def _read_csv_fast(body: str, header: list[str], base_line: int) -> pd.DataFrame | None:
    """pandas' C parser for the common case of a clean, unquoted file: every line one row
    with every field. Anything else - quotes, a short or long row, a blank line - returns
    None, and the line-by-line reader names each bad line."""
    rows = body.count("\n")
    if not rows or len(header) < 2 or len(set(header)) != len(header) or '"' in body:
        return None
    # Unquoted, a row has its fields when its line has one comma fewer than the header.
    if any(line.count(",") != len(header) - 1 for line in body.split("\n")[:rows]):
        return None
    try:
        raw = pd.read_csv(io.StringIO(body), header=None, names=header, dtype=object,
                          na_filter=False, skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError):
        return None
    if len(raw) != rows:
        return None
    raw.insert(0, "_line", np.arange(base_line + 1, base_line + 1 + rows, dtype=np.int64))
    return raw


def _split_bytes(path: Path, state: TailState) -> tuple[str, str, int, TailState]:
    """Header, the complete new lines after ``state`` and the line number before them."""
    with path.open("rb") as handle:
        header = handle.readline()
        size = path.stat().st_size
        start = state.offset if len(header) <= state.offset <= size else len(header)
        line = state.line if start == state.offset else 1
        handle.seek(start)
        chunk = handle.read()
    cut = chunk.rfind(b"\n") + 1
    chunk = chunk[:cut]
    new_state = TailState(start + cut, line + chunk.count(b"\n"))
    return header.decode("utf-8-sig"), chunk.decode("utf-8"), line, new_state


def _split_rows_by_count(text: str, state: TailState) -> tuple[str, str, int, TailState]:
    """For compressed files, where seeking means inflating anyway: skip whole lines."""
    header, _, rest = text.partition("\n")
    lines = rest.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    skip = state.offset if state.offset <= len(lines) else 0
    body = "".join(lines[skip:])
    return header.lstrip("\ufeff"), body, skip + 1, TailState(len(lines), len(lines) + 1)


def _read_ndjson(path: Path, state: TailState) -> tuple[pd.DataFrame, list[LineError], TailState]:
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            text = handle.read()
        all_lines = text.splitlines(keepends=True)
        if all_lines and not all_lines[-1].endswith("\n"):
            all_lines.pop()
        skip = state.offset if state.offset <= len(all_lines) else 0
        body, base, new_state = all_lines[skip:], skip, TailState(len(all_lines), len(all_lines))
    else:
        with path.open("rb") as handle:
            size = path.stat().st_size
            start = state.offset if state.offset <= size else 0
            base = state.line if start == state.offset else 0
            handle.seek(start)
            chunk = handle.read()
        cut = chunk.rfind(b"\n") + 1
        body = chunk[:cut].decode("utf-8").splitlines(keepends=True)
        new_state = TailState(start + cut, base + len(body))
    rows: list[dict[str, object]] = []
    errors: list[LineError] = []
    for number, text_line in enumerate(body, start=base + 1):
        if not text_line.strip():
            continue
        try:
            item = json.loads(text_line)
        except json.JSONDecodeError as exc:
            errors.append(LineError(str(path), number, f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(item, dict):
            errors.append(LineError(str(path), number, "not a JSON object"))
            continue
        nested = item.pop("features", None)
        if isinstance(nested, dict):
            item = {**nested, **item}
        item["_line"] = number
        rows.append(item)
    raw = pd.DataFrame(rows) if rows else pd.DataFrame({"_line": []})
    return raw, errors, new_state


def _read_parquet(path: Path, state: TailState) -> tuple[pd.DataFrame, list[LineError], TailState]:
    raw = pq.read_table(path).to_pandas()
    total = len(raw)
    skip = state.offset if state.offset <= total else 0
    raw = raw.iloc[skip:].reset_index(drop=True)
    raw.insert(0, "_line", np.arange(skip + 1, total + 1))
    return raw, [], TailState(total, total)


def query_table(source: str, table: str | None) -> pd.DataFrame:
    lowered = source.lower()
    if lowered.endswith((".sqlite", ".sqlite3")) or (
        lowered.endswith(".db") and _is_sqlite(Path(source))
    ):
        # duckdb reads SQLite through an extension it would download; the stdlib needs none.
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            chosen = _pick_table(names, table, source)
            return pd.read_sql_query(f'SELECT * FROM "{chosen}"', conn)
    if lowered.endswith((".duckdb", ".db")):
        with duckdb.connect(source, read_only=True) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
            chosen = _pick_table(names, table, source)
            return conn.execute(f'SELECT * FROM "{chosen}"').df()
    with duckdb.connect() as conn:
        return conn.execute(source).df()


def _pick_table(names: Sequence[str], table: str | None, source: str) -> str:
    if table is not None:
        if table not in names:
            raise ValueError(f"{source}: no table {table!r} (tables: {', '.join(names)})")
        return table
    for preferred in ("predictions", "model_observations", "observations"):
        if preferred in names:
            return preferred
    if len(names) == 1:
        return names[0]
    raise ValueError(f"{source}: name a table, one of {', '.join(names) or '(none)'}")


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"



def expand_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    given: Iterable[str | Path] = [paths] if isinstance(paths, str | Path) else paths
    found: list[Path] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.name.lower().endswith(SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(path)
    return found


def file_stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def encode_features(frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """Each row's features as ``json.dumps(row, sort_keys=True)`` writes them (missing values
    as null), built a column at a time: typed columns need no per-value dispatch, text is
    encoded once per distinct value, and Arrow joins the pieces of a row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = sorted(features)
    if not names:
        return ["{}"] * len(frame)
    pieces = [pc.binary_join_element_wise(f"{json.dumps(name)}: ",
                                          pa.array(_json_values(frame[name]), pa.string()), "")
              for name in names]
    rows = pc.binary_join_element_wise(*pieces, ", ")
    return pc.binary_join_element_wise("{", rows, "}", "").to_pylist()


def _json_values(values: pd.Series) -> list[str]:
    if pd.api.types.is_bool_dtype(values):
        return ["true" if v else "false" for v in values.to_numpy()]
    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(float)
        if np.isfinite(numbers).all():
            return [repr(v) for v in numbers.tolist()]  # what json writes for a float
        return ["null" if v != v else json.dumps(v) for v in numbers.tolist()]
    if pd.api.types.is_integer_dtype(values):
        return [str(v) for v in values.tolist()]
    # Keyed by type too: True, 1 and 1.0 are equal keys but different JSON.
    cache: dict[tuple[type, object], str] = {}
    out: list[str] = []
    for value in values.to_numpy():
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            out.append("null")
            continue
        key = (type(value), value)
        try:
            text = cache.get(key)
        except TypeError:  # unhashable (a list from NDJSON)
            text = None
        if text is None:
            text = json.dumps(value, sort_keys=True, default=_json_default)
            if isinstance(value, str | int | float | bool):
                cache[key] = text
        out.append(text)
    return out


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
