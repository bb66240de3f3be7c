"""Prediction logs from files and tables: CSV (plain or gzipped), Parquet, NDJSON, a
directory of those, a DuckDB or SQLite database, or a SQL query run by in-process DuckDB.

Everything is read into one *wide* frame - ``ts, model, version, record_id, prediction,
score, label`` and one column per feature - because analysis works on columns; a JSON
string per row (:func:`to_observations`, the store's ``ModelObservation`` shape) is made
only when asked for. Rows that cannot be read become :class:`LineError` and the rest is
kept. Plain CSV and NDJSON can be tailed by byte offset, everything else by row count (the
byte-level readers are in :mod:`opscockpit.sources.prediction_formats`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from opscockpit.records import ModelObservation
from opscockpit.sources.alert_formats import LineError  # one error type for every file reader
from opscockpit.sources.prediction_formats import (
    DATABASES,
    SUFFIXES,
    TailState,
    encode_features,
    expand_paths,
    file_stem,
    query_table,
    read_raw,
)

__all__ = [
    "FIXED", "OBSERVATION_COLUMNS", "SUFFIXES", "ColumnMap", "LineError", "PredictionRead",
    "TailState", "encode_features", "join_labels", "normalise", "parse_times", "read_labels",
    "read_predictions", "read_table", "resolve_columns", "tail_labels", "tail_predictions",
    "to_observations",
]

FIXED = ("ts", "model", "version", "record_id", "prediction", "score", "label")
OBSERVATION_COLUMNS = tuple(f.name for f in dataclasses.fields(ModelObservation))
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
    optional: tuple[str, ...] = ()  # roles whose given column a file may lack


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
    for path in expand_paths(paths):
        default_model = columns.default_model or file_stem(path)
        raw, raw_errors, _ = read_raw(path, TailState())
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
    raw, errors, new_state = read_raw(path, state)
    wide, bad = normalise(raw, columns, str(path), columns.default_model or file_stem(path))
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
    if _looks_like_path(text) and not text.lower().endswith(DATABASES):
        quoted = text.replace("'", "''")
        raw = query_table(f"SELECT * FROM '{quoted}'", None)
    else:
        raw = query_table(text, table)
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
    found = [tail_labels(path, TailState(), columns)[0] for path in expand_paths(paths)]
    labels = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["record_id", "label"])
    return labels.drop_duplicates("record_id", keep="last").reset_index(drop=True)


def tail_labels(
    path: str | Path, state: TailState | None = None, columns: ColumnMap | None = None
) -> tuple[pd.DataFrame, list[LineError], TailState]:
    """The ``record_id, label`` rows added to one label file since ``state``."""
    columns = columns or ColumnMap()
    raw, errors, new_state = read_raw(Path(path), state or TailState())
    names = [c for c in raw.columns if c != "_line"]
    if raw.empty:
        return pd.DataFrame(columns=["record_id", "label"]), errors, new_state
    id_col = columns.id or _detect(names, "id")
    label_col = columns.label if columns.label in names else _detect(names, "label")
    if label_col is None and id_col is not None and len(names) == 2:
        label_col = next(c for c in names if c != id_col)
    if id_col is None or label_col is None:
        raise ValueError(f"{path}: cannot tell the id and label columns in {names}")
    labels = pd.DataFrame({"record_id": [_as_id(v) for v in raw[id_col].to_numpy()],
                           "label": _infer(raw[label_col])})
    return labels, errors, new_state


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
    encoded = encode_features(frame, features)
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
        if given is not None and given not in names and role in columns.optional:
            given = None  # this file lacks it (a reference has labels, later logs not)
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

    ids = pd.Series([_as_id(v) for v in raw[roles["id"]].to_numpy()], index=raw.index) \
        if roles["id"] else pd.Series(
        [f"{Path(path).name}:{n}" for n in lines], index=raw.index)
    wide = pd.DataFrame({
        "ts": ts,
        "model": _map_distinct(role("model", default_model), _as_text),
        "version": _map_distinct(role("version", columns.default_version), _as_text),
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
    if bad:
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
    kept = cleaned[present]
    texts = pd.Series([str(v) for v in kept.to_numpy()], index=kept.index).str.strip()
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
    """Not missing and not blank text."""
    present = values.notna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        blank = np.fromiter((isinstance(v, str) and not v.strip() for v in values.to_numpy()),
                            dtype=bool, count=len(values))
        present &= ~blank
    return present


def _map_distinct(values: pd.Series, convert: Callable[[object], str]) -> pd.Series:
    """``convert`` of each value, called once per distinct value (model names repeat)."""
    raw = values.to_numpy()
    lookup = {value: convert(value) for value in pd.unique(raw)}
    return pd.Series([lookup[v] if v in lookup else convert(v) for v in raw],
                     index=values.index, dtype=object)


# ---------------------------------------------------------------- small helpers


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
