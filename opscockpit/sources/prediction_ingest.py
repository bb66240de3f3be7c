"""``opscockpit ingest predictions``: prediction logs, with late labels joined, as store batches.

Options (from the command line or a source's config):

* ``columns``: ``ROLE=NAME`` strings mapping input columns to roles: ``time`` (``ts``),
  ``model``, ``version``, ``id``, ``prediction``, ``score``, ``label``; ``features=a,b``
  keeps only those features, ``exclude=a,b`` drops columns; one string may hold several,
  ``ts=timestamp,id=id,label=repaid``. Roles not given are found by
  their usual names (``timestamp``, ``y_pred``, ``y_pred_proba``, ``target`` ...). A
  ``label`` or ``score`` column a file lacks is no error: a reference file has labels,
  the logs that follow it usually not.
* ``labels``: files of ``id,label`` joined by id, the last one per id winning.
* ``reference``: files that are a model's reference (also any file named
  ``*_reference.*`` or ``*_ref.*``). Their rows are stored like any other, plus an
  annotation of kind ``model_reference`` stating the time range they cover, so the
  analyzer and the report judge the model against the same rows.
* ``model`` / ``version``: names for files without such columns. Without them the model is
  the file name less its role word (``car_loan_reference.csv`` and
  ``car_loan_analysis.csv`` are both ``car_loan``) and the version is empty.

The batch holds one ``model_observations`` frame: the store's columns (features as JSON)
and, beside them, each feature as its own column named ``feature:NAME``. The store keeps
only its columns; the models analyzer reads the wide ones and so never parses the JSON of
rows it was handed a moment ago.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opscockpit.ingest import IngestError, ParsedFile
from opscockpit.records import Annotation
from opscockpit.sources.base import Batch

if TYPE_CHECKING:
    import pandas as pd

    from opscockpit.sources.prediction_files import ColumnMap

REFERENCE_KIND = "model_reference"
WIDE_PREFIX = "feature:"
ROLE_WORDS = ("reference", "ref", "analysis", "current", "production", "prod", "live")
_ROLES = {
    "time": "time", "ts": "time", "timestamp": "time", "model": "model", "version": "version",
    "id": "id", "record_id": "id", "prediction": "prediction", "score": "score",
    "probability": "score", "label": "label", "target": "label", "features": "features",
    "exclude": "exclude",
}


def parse_predictions(path: Path, options: Mapping[str, Any]) -> ParsedFile:
    from opscockpit.sources.prediction_files import join_labels, read_predictions

    path = Path(path)
    labels = tuple(Path(p) for p in options.get("labels") or ())
    if path.resolve() in {p.resolve() for p in labels}:
        # A directory given whole holds its label files too: they are joined, not rows.
        return ParsedFile(path, "labels", Batch())
    columns = column_map(options.get("columns") or (), model=options.get("model"),
                         version=options.get("version"))
    columns = replace(columns, default_model=columns.default_model or model_name(path))
    try:
        read = read_predictions(path, columns)
        frame = read.frame
        if labels and len(frame):
            frame = join_labels(frame, _labels(labels, columns))
    except ValueError as exc:
        message = str(exc)
        raise IngestError(message if str(path) in message else f"{path}: {message}") from None
    batch = observations_batch(frame)
    if is_reference(path, options.get("reference") or ()):
        batch.annotations.extend(reference_annotations(frame, path.name))
    return ParsedFile(path, _format(path), batch, list(read.errors))


def column_map(
    specs: Sequence[str], *, model: str | None = None, version: str | None = None
) -> ColumnMap:
    """``ROLE=NAME`` strings (``features=a,b`` for lists) to a column map."""
    from opscockpit.sources.prediction_files import ColumnMap

    given: dict[str, Any] = {}
    for spec in specs:
        last: str | None = None
        # "ts=timestamp,id=id" maps several roles; "features=a,b" lists several names.
        for part in str(spec).split(","):
            role, sep, name = part.partition("=")
            if not sep and last in ("features", "exclude") and part.strip():
                given[last] += (part.strip(),)
                continue
            key = _ROLES.get(role.strip().lower())
            if not sep or not name.strip() or key is None:
                raise IngestError(f"column mapping {spec!r}: use ROLE=NAME with ROLE one of "
                                  f"{', '.join(sorted(set(_ROLES)))}")
            given[key] = (name.strip(),) if key in ("features", "exclude") else name.strip()
            last = key
    return ColumnMap(**given, default_model=model or None, default_version=version or "",
                     optional=("label", "score"))


def model_name(path: Path) -> str:
    """The file name less its suffixes and a trailing role word."""
    from opscockpit.sources.prediction_formats import file_stem

    stem = file_stem(path)
    for word in ROLE_WORDS:
        for sep in ("_", "-", "."):
            if stem.lower().endswith(sep + word) and len(stem) > len(word) + 1:
                return stem[: -len(word) - 1]
    return stem


def is_reference(path: Path, references: Sequence[str | Path]) -> bool:
    given = {Path(p).resolve() for p in references}
    if path.resolve() in given:
        return True
    from opscockpit.sources.prediction_formats import file_stem

    stem = file_stem(path).lower()
    return stem.endswith(("_reference", "-reference", "_ref", "-ref"))


def observations_batch(frame: pd.DataFrame) -> Batch:
    """The store's ``model_observations`` frame with the wide feature columns beside it."""
    from opscockpit.sources.prediction_files import FIXED, to_observations

    batch = Batch()
    if frame.empty:
        return batch
    stored = to_observations(frame)
    wide = frame[[c for c in frame.columns if c not in FIXED]]
    wide.columns = [WIDE_PREFIX + str(c) for c in wide.columns]
    batch.frames["model_observations"] = stored.join(wide.reset_index(drop=True))
    return batch


def reference_annotations(frame: pd.DataFrame, source: str) -> list[Annotation]:
    """One ``model_reference`` annotation per model version in the frame: its time range."""
    out: list[Annotation] = []
    for (model, version), rows in frame.groupby(["model", "version"], sort=True):
        start, end = rows["ts"].min(), rows["ts"].max()
        text = json.dumps({"model": str(model), "version": str(version),
                           "from": start.isoformat(), "to": end.isoformat(),
                           "rows": len(rows), "source": source})
        out.append(Annotation(
            ts=end.to_pydatetime(), id=f"{REFERENCE_KIND}:{model}/{version}:{start.isoformat()}",
            kind=REFERENCE_KIND, target=f"model:{model}/{version}", text=text,
            author="opscockpit ingest"))
    return out


def _labels(paths: tuple[Path, ...], columns: ColumnMap) -> pd.DataFrame:
    stamps = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return _read_labels_cached(stamps, columns.id, columns.label)


@lru_cache(maxsize=4)
def _read_labels_cached(stamps: tuple[tuple[str, int, int], ...], id_column: str | None,
                        label_column: str | None) -> pd.DataFrame:
    """Every file of one ingest joins the same label files: read them once."""
    from opscockpit.sources.prediction_files import ColumnMap, read_labels

    return read_labels([s[0] for s in stamps], ColumnMap(id=id_column, label=label_column))


def _format(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".csv.gz", ".ndjson.gz", ".jsonl.gz", ".csv", ".parquet", ".pq", ".ndjson",
                   ".jsonl", ".duckdb", ".sqlite", ".sqlite3", ".db"):
        if name.endswith(suffix):
            return suffix.lstrip(".")
    return "csv"
