"""Prediction logs from files and tables: CSV (plain or gzipped), Parquet, NDJSON, a
directory of those, a DuckDB or SQLite database, or a SQL query run by in-process DuckDB.

Everything is read into one *wide* frame - ``ts, model, version, record_id, prediction,
score, label`` and one column per feature - because analysis works on columns; a JSON
string per row (:func:`to_observations`, the store's ``ModelObservation`` shape) is made
only when asked for. Rows that cannot be read become :class:`LineError` and the rest is
kept. Plain CSV and NDJSON can be tailed by byte offset, everything else by row count.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from opscockpit.records import ModelObservation
from opscockpit.sources.alert_formats import LineError  # one error type for every file reader

FIXED = ("ts", "model", "version", "record_id", "prediction", "score", "label")
OBSERVATION_COLUMNS = tuple(f.name for f in dataclasses.fields(ModelObservation))
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".ndjson", ".jsonl", ".ndjson.gz",
            ".jsonl.gz", ".duckdb", ".db", ".sqlite", ".sqlite3")

_DATABASES = (".duckdb", ".db", ".sqlite", ".sqlite3")
_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("ts", "timestamp", "time", "datetime", "event_time", "prediction_time",
             "created_at", "date"),
    "model": ("model", "model_name", "model_id"),
    "version": ("version", "model_version"),
    "id": ("record_id", "id", "prediction_id", "request_id", "row_id", "uid", "identifier"),
    "prediction": ("prediction", "y_pred", "pred", "predicted", "predicted_label", "output"),
    "score": ("score", "y_pred_proba", "y_score", "proba", "probability",
              "prediction_proba", "predicted_probability", "confidence"),
    "label": ("label", "target", "y_true", "actual", "ground_truth", "y"),
}


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which input column plays which part; ``None`` means detect it by its usual names.
    ``features=None`` takes every column not otherwise mapped or excluded."""

    time: str | None = None
    model: str | None = None
    version: str | None = None
    id: str | None = None
    prediction: str | None = None
    score: str | None = None
    label: str | None = None
    features: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    default_model: str | None = None  # when no model column: this, else the file's stem
    default_version: str = ""


@dataclass(frozen=True, slots=True)
class TailState:
    """How far a file has been read: ``offset`` in bytes for plain CSV/NDJSON, in rows
    otherwise; ``line`` is the last line (or row) number consumed."""

    offset: int = 0
    line: int = 0


@dataclass(slots=True)
class PredictionRead:
    frame: pd.DataFrame
    errors: list[LineError] = field(default_factory=list)
    state: TailState = field(default_factory=TailState)

    def observations(self) -> pd.DataFrame:
        return to_observations(self.frame)


# ---------------------------------------------------------------- public entry points


def read_predictions(
    paths: str | Path | Sequence[str | Path], columns: ColumnMap | None = None
) -> PredictionRead:
    """Read files and directories of prediction logs into one wide frame, sorted by ts."""
    columns = columns or ColumnMap()
    frames: list[pd.DataFrame] = []
    errors: list[LineError] = []
    for path in _expand(paths):
        default_model = columns.default_model or _stem(path)
        raw, raw_errors, _ = _read_raw(path, TailState())
        wide, bad = normalise(raw, columns, str(path), default_model)
        frames.append(wide)
        errors += raw_errors + bad
    frame = _concat(frames)
    return PredictionRead(frame.sort_values("ts", kind="stable", ignore_index=True), errors)


def tail_predictions(
    path: str | Path, state: TailState | None = None, columns: ColumnMap | None = None
) -> PredictionRead:
    """Rows added to one file since ``state``; a half-written last line waits for the
    next call. A file that shrank (rotated, truncated) is read again from the start."""
    path = Path(path)
    columns = columns or ColumnMap()
    state = state or TailState()
    raw, errors, new_state = _read_raw(path, state)
    wide, bad = normalise(raw, columns, str(path), columns.default_model or _stem(path))
    return PredictionRead(wide, errors + bad, new_state)


def read_table(
    source: str | Path, *, table: str | None = None, columns: ColumnMap | None = None,
    skip_rows: int = 0,
) -> PredictionRead:
    """A table of a DuckDB/SQLite database, a Parquet/CSV path, or a SQL query for DuckDB
    (``SELECT ... FROM 'logs/*.parquet'``). ``skip_rows`` tails by row count."""
    columns = columns or ColumnMap()
    text = str(source)
    name = Path(text).stem if _looks_like_path(text) else (table or "query")
    if _looks_like_path(text) and not text.lower().endswith(_DATABASES):
        quoted = text.replace("'", "''")
        raw = _query_table(f"SELECT * FROM '{quoted}'", None)
    else:
        raw = _query_table(text, table)
    raw = raw.iloc[skip_rows:].reset_index(drop=True)
    raw.insert(0, "_line", np.arange(skip_rows + 1, skip_rows + len(raw) + 1))
    state = TailState(skip_rows + len(raw), skip_rows + len(raw))
    wide, bad = normalise(raw, columns, text, columns.default_model or name)
    return PredictionRead(wide, bad, state)


def read_labels(
    paths: str | Path | Sequence[str | Path], columns: ColumnMap | None = None
) -> pd.DataFrame:
    """Labels that arrived later: a frame of ``record_id, label`` (the last one wins).
    With two columns and no recognised label name, the one that is not the id is it."""
    columns = columns or ColumnMap()
    found: list[pd.DataFrame] = []
    for path in _expand(paths):
        raw, _, _ = _read_raw(path, TailState())
        names = [c for c in raw.columns if c != "_line"]
        id_col = columns.id or _detect(names, "id")
        label_col = columns.label or _detect(names, "label")
        if label_col is None and id_col is not None and len(names) == 2:
            label_col = next(c for c in names if c != id_col)
        if id_col is None or label_col is None:
            raise ValueError(f"{path}: cannot tell the id and label columns in {names}")
        found.append(pd.DataFrame({
            "record_id": raw[id_col].map(_as_id),
            "label": _infer(raw[label_col]),
        }))
    labels = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["record_id", "label"])
    return labels.drop_duplicates("record_id", keep="last").reset_index(drop=True)


def join_labels(frame: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Fill ``label`` from late labels by ``record_id``; a known late label wins."""
    late = labels.set_index("record_id")["label"]
    joined = frame["record_id"].map(late)
    out = frame.copy()
    out["label"] = joined.where(joined.notna(), frame["label"]).astype(object)
    out["label"] = _infer(out["label"]) if out["label"].notna().any() else out["label"]
    return out


def to_observations(frame: pd.DataFrame) -> pd.DataFrame:
    """The store's shape: exactly the fields of ``ModelObservation``, features as sorted
    JSON (missing values as null)."""
    features = [c for c in frame.columns if c not in FIXED]
    values = frame[features].astype(object)
    values = values.where(values.notna(), None)
    encoded = [json.dumps(row, sort_keys=True, default=_json_default)
               for row in values.to_dict("records")]
    out = pd.DataFrame({name: frame.get(name)
                        for name in OBSERVATION_COLUMNS if name != "features"})
    out.insert(OBSERVATION_COLUMNS.index("features"), "features", encoded)
    return out[list(OBSERVATION_COLUMNS)]


# ---------------------------------------------------------------- normalisation


def resolve_columns(names: Sequence[str], columns: ColumnMap) -> dict[str, str | None]:
    """The input column for each role, explicit names first, then the usual spellings."""
    roles: dict[str, str | None] = {}
    for role in ("time", "model", "version", "id", "prediction", "score", "label"):
        given = getattr(columns, role)
        if given is not None and given not in names:
            raise ValueError(f"column {given!r} for {role} not found in {list(names)}")
        roles[role] = given or _detect(names, role, taken=set(filter(None, roles.values())))
    return roles


def normalise(
    raw: pd.DataFrame, columns: ColumnMap, path: str, default_model: str
) -> tuple[pd.DataFrame, list[LineError]]:
    """Raw rows (with a ``_line`` column) to the wide frame; bad rows to errors."""
    names = [c for c in raw.columns if c != "_line"]
    if raw.empty:
        return _empty_wide(columns.features or ()), []
    roles = resolve_columns(names, columns)
    if roles["time"] is None:
        raise ValueError(f"{path}: no time column among {names} (set ColumnMap.time)")
    lines = raw["_line"].to_numpy()
    bad: dict[int, str] = {}

    ts = parse_times(raw[roles["time"]])
    for pos in np.flatnonzero(ts.isna().to_numpy()):
        bad.setdefault(pos, f"bad timestamp {raw[roles['time']].iloc[pos]!r}")

    score = pd.Series(np.nan, index=raw.index)
    if roles["score"] is not None:
        given = raw[roles["score"]]
        score = pd.to_numeric(given, errors="coerce").astype("float64")
        for pos in np.flatnonzero((score.isna() & _present(given)).to_numpy()):
            bad.setdefault(pos, f"score is not a number: {given.iloc[pos]!r}")

    mapped = set(filter(None, roles.values())) | set(columns.exclude)
    features = list(columns.features) if columns.features is not None else [
        c for c in names if c not in mapped]
    missing = [c for c in features if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: feature columns {missing} not found")
    clashes = [c for c in features if c in FIXED]
    if clashes:
        raise ValueError(f"{path}: feature names {clashes} clash with fixed columns")

    def role(name: str, default: object) -> pd.Series:
        column = roles[name]
        return raw[column] if column is not None else pd.Series(default, index=raw.index)

    ids = raw[roles["id"]].map(_as_id) if roles["id"] else pd.Series(
        [f"{Path(path).name}:{n}" for n in lines], index=raw.index)
    wide = pd.DataFrame({
        "ts": ts,
        "model": role("model", default_model).map(_as_text),
        "version": role("version", columns.default_version).map(_as_text),
        "record_id": ids,
        "prediction": _infer(role("prediction", None)).astype(object),
        "score": score,
        "label": _infer(role("label", None)).astype(object),
    })
    for name in features:
        wide[name] = _infer(raw[name])
    keep = np.ones(len(raw), dtype=bool)
    keep[list(bad)] = False
    errors = [LineError(path, int(lines[pos]), reason) for pos, reason in sorted(bad.items())]
    wide = wide[keep].reset_index(drop=True)
    for name in features:  # re-infer: the dropped rows may have been what made it text
        wide[name] = _infer(wide[name])
    return wide, errors


def parse_times(values: pd.Series) -> pd.Series:
    """ISO 8601 text or epoch seconds (milliseconds when too large) to UTC; bad -> NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = pd.to_datetime(values, utc=True)
        return out.dt.as_unit("us")
    numbers = pd.to_numeric(values, errors="coerce")
    is_epoch = numbers.notna()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if is_epoch.any():
        seconds = numbers[is_epoch].astype("float64")
        seconds = seconds.where(seconds.abs() < 1e11, seconds / 1000.0)
        out[is_epoch] = pd.to_datetime(seconds, unit="s", utc=True).dt.as_unit("us")
    text = ~is_epoch & _present(values)
    if text.any():
        parsed = pd.to_datetime(values[text].astype(str).str.strip(), utc=True,
                                errors="coerce", format="ISO8601")
        out[text] = parsed.dt.as_unit("us")
    return out


def _infer(values: pd.Series) -> pd.Series:
    """Text from files becomes numbers or booleans where every value agrees; a column
    mostly of numbers keeps its odd values as text so data quality can see them."""
    if values.dtype != object and not pd.api.types.is_string_dtype(values):
        return values
    present = _present(values)
    cleaned = values.where(present, None).astype(object)
    if not present.any():
        return pd.Series(np.nan, index=values.index)
    texts = cleaned[present].map(str).str.strip()
    lowered = texts.str.lower()
    if lowered.isin(("true", "false")).all():
        out = pd.Series(None, index=values.index, dtype=object)
        out[present] = lowered == "true"
        return out.astype(bool) if present.all() else out
    numbers = pd.to_numeric(cleaned[present], errors="coerce")
    parsed = numbers.notna()
    if parsed.all():
        out = pd.Series(np.nan, index=values.index, dtype="float64")
        out[present] = numbers.astype("float64")
        return out
    if parsed.mean() > 0.5:
        out = cleaned.copy()
        out[numbers.index[parsed]] = numbers[parsed].astype(float)
        return out
    return cleaned


def _present(values: pd.Series) -> pd.Series:
    present = values.notna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        present &= values.map(lambda v: not (isinstance(v, str) and not v.strip()))
    return present


# ---------------------------------------------------------------- raw readers


def _read_raw(path: Path, state: TailState) -> tuple[pd.DataFrame, list[LineError], TailState]:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return _read_parquet(path, state)
    if name.endswith((".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz", ".json")):
        return _read_ndjson(path, state)
    if name.endswith(_DATABASES):
        raw = _query_table(str(path), None).iloc[state.offset:].reset_index(drop=True)
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


def _query_table(source: str, table: str | None) -> pd.DataFrame:
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


# ---------------------------------------------------------------- small helpers


def _expand(paths: str | Path | Sequence[str | Path]) -> list[Path]:
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


def _stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _detect(names: Sequence[str], role: str, taken: set[str] | None = None) -> str | None:
    by_lower = {n.lower(): n for n in names if n not in (taken or set())}
    for alias in _ALIASES[role]:
        if alias in by_lower:
            return by_lower[alias]
    if role == "label":
        ends = [n for low, n in by_lower.items() if low.endswith("_target")]
        if len(ends) == 1:
            return ends[0]
    return None


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and not text.lstrip().lower().startswith(("select", "with", "from"))


def _as_id(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None or value is pd.NA else str(value).strip()


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return _as_id(value)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _empty_wide(features: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame({
        "ts": pd.Series([], dtype="datetime64[us, UTC]"),
        "model": pd.Series([], dtype=object), "version": pd.Series([], dtype=object),
        "record_id": pd.Series([], dtype=object), "prediction": pd.Series([], dtype=object),
        "score": pd.Series([], dtype="float64"), "label": pd.Series([], dtype=object),
    })
    for name in features:
        frame[name] = pd.Series([], dtype=object)
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty] or frames[:1]
    if not frames:
        return _empty_wide(())
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
