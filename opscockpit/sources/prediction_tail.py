"""A live source that tails prediction logs (a file, or every prediction file of a directory)
and, optionally, a file or directory of late labels.

Each file is read from where the last poll stopped (bytes for plain CSV and NDJSON, rows for
gzipped CSV and Parquet); a half-written last line waits for the next poll, and a file that
shrank (rotated, truncated) is read again from its start. Rows are parsed exactly as
``opscockpit ingest predictions`` parses them (same column mapping, model names, JSON).

Labels are emitted as *label rows* (an observation with a ``record_id`` and a ``label`` and
nothing else) the moment they are read, whether their prediction came before or comes later:
the store and the models analyzer join them by id.

Offsets live in memory. By default a (re)started cockpit starts at the end of the files it
finds, so a restart never stores the same rows twice (history goes in once with
``opscockpit ingest predictions``); ``from_start`` reads them whole, and then also reads the
``reference`` file once and declares it as the model's reference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from opscockpit.records import ModelObservation
from opscockpit.sources.base import Batch, Option, Source, SourceError

if TYPE_CHECKING:
    import pandas as pd

    from opscockpit.sources.prediction_formats import TailState

log = logging.getLogger(__name__)

class PredictionFileSource(Source):
    kind = "predictions"
    summary = "Prediction logs (CSV, CSV.gz, Parquet, NDJSON) tailed as they grow, late labels"
    options: ClassVar[tuple[Option, ...]] = (
        Option("path", str, required=True, help="A prediction log, or a directory of them."),
        Option("columns", list, None,
               help="Column mapping ROLE=NAME (time, model, version, id, prediction, score, "
                    "label, features=a,b, exclude=a,b)."),
        Option("labels", str, None, help="A file or directory of late labels (id, label)."),
        Option("reference", str, None,
               help="The model's reference file, read once when from_start is set."),
        Option("model", str, None, help="Model name for files without a model column."),
        Option("version", str, None, help="Version for files without a version column."),
        Option("from_start", bool, False, help="Read what the files already hold at start."),
    )
    default_interval_s = 5.0

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        from opscockpit.sources.prediction_ingest import column_map

        self.columns = column_map(self.settings["columns"] or (),
                                  model=self.settings["model"], version=self.settings["version"])
        self.path = Path(self.settings["path"]).expanduser()
        self.labels = Path(self.settings["labels"]).expanduser() \
            if self.settings["labels"] else None
        self._tails: dict[Path, TailState] = {}
        self._label_tails: dict[Path, TailState] = {}
        self._started = False
        self.errors: list[Any] = []  # the last poll's unreadable lines, for `sources`

    def poll(self, since: datetime | None) -> Batch:
        import pandas as pd

        from opscockpit.sources.prediction_ingest import (
            observations_batch,
            parse_predictions,
        )

        first, self._started = not self._started, True
        skip_existing = first and not self.settings["from_start"]
        self.errors = []
        batch = Batch()
        if first and self.settings["from_start"] and self.settings["reference"]:
            parsed = parse_predictions(Path(self.settings["reference"]).expanduser(),
                                       self._ingest_options(reference=True))
            batch = parsed.batch
            self.errors += parsed.errors
        frames = [self._tail(path, skip_existing) for path in self._files(self.path)]
        frames = [f for f in frames if f is not None and len(f)]
        if frames:
            rows = observations_batch(pd.concat(frames, ignore_index=True))
            existing = batch.frames.get("model_observations")
            mine = rows.frames["model_observations"]
            batch.frames["model_observations"] = mine if existing is None else pd.concat(
                [existing, mine], ignore_index=True)
        if self.labels is not None:
            batch.observations.extend(self._label_rows(skip_existing))
        if self.errors:
            first_error = self.errors[0]
            log.warning("%s: %d unreadable lines, first %s:%d: %s", self.name, len(self.errors),
                        first_error.path, first_error.line, first_error.reason)
        return batch

    # ------------------------------------------------------------------ inside

    def _files(self, root: Path | None) -> list[Path]:
        from opscockpit.sources.prediction_formats import expand_paths

        if root is None:
            return []
        if not root.exists():
            raise SourceError(f"{root} does not exist")
        found = expand_paths(root)
        if root.is_dir() and self.labels is not None and root != self.labels:
            labels = set(self._files(self.labels)) if self.labels.exists() else set()
            found = [p for p in found if p not in labels]
        return found

    def _tail(self, path: Path, skip_existing: bool) -> pd.DataFrame | None:
        from opscockpit.sources.prediction_files import tail_predictions
        from opscockpit.sources.prediction_formats import TailState
        from opscockpit.sources.prediction_ingest import model_name

        columns = replace(self.columns, default_model=self.columns.default_model
                          or model_name(path))
        try:
            read = tail_predictions(path, self._tails.get(path, TailState()), columns)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        except OSError as exc:
            raise SourceError(f"{path}: {exc.strerror or exc}") from None
        self._tails[path] = read.state
        if skip_existing:
            return None  # like tail -f: what the file held at start is history
        self.errors += read.errors
        return read.frame

    def _label_rows(self, skip_existing: bool) -> list[ModelObservation]:
        from opscockpit.sources.prediction_files import tail_labels
        from opscockpit.sources.prediction_formats import TailState

        if self.labels is None or not self.labels.exists():
            return []  # labels often start later than predictions: not an error
        out: list[ModelObservation] = []
        now = datetime.now(UTC)  # when the label was read: its prediction has its own time
        for path in self._files(self.labels):
            try:
                labels, errors, state = tail_labels(path, self._label_tails.get(path,
                                                                                TailState()),
                                                    self.columns)
            except ValueError as exc:
                raise SourceError(str(exc)) from None
            self._label_tails[path] = state
            if skip_existing:
                continue
            self.errors += errors
            known = labels[(labels["record_id"] != "") & labels["label"].notna()]
            out += [ModelObservation(now, "", "", str(record_id), {}, None, None, label)
                    for record_id, label in zip(known["record_id"], known["label"],
                                                strict=True)]
        return out

    def _ingest_options(self, reference: bool = False) -> dict[str, Any]:
        reference_path = self.settings["reference"]
        return {"columns": tuple(self.settings["columns"] or ()),
                "model": self.settings["model"], "version": self.settings["version"],
                "reference": (reference_path,) if reference and reference_path else ()}
