"""The Models pane's analyzer: health of every model version, kept up to date window by window.

Each model version has a :class:`~opscockpit.analysis.model_tracker.ModelTracker`: the
reference is prepared once, a window is judged when it closes, and the open one only when a
view is built. The reference is the time range a ``model_reference`` annotation declares
(``opscockpit ingest`` writes one for a reference file); without one, the first 25% of the
version's rows once it has :data:`AUTO_REFERENCE_ROWS`, which is then declared by a derived
annotation so the report judges against the same rows.

Derived records: a :class:`~opscockpit.records.Change` of kind ``model`` when a version is
first seen (a model deploy is a candidate cause like any deploy), and an alert (source
``model``) when a version turns drifting or degraded, resolved when it recovers.

Rows arriving out of order, or a reference declared after the fact, make a version *stale*:
it is rebuilt from the store (which already holds every row) at the next chance. pandas and
scikit-learn are imported only once observations arrive, so a cockpit with no model source
never loads them.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opscockpit.analyzers.base import Analyzer
from opscockpit.analyzers.models_view import STATUS_ORDER, ModelsView, ModelView
from opscockpit.records import Alert, Annotation, Change, ChangeKind, Severity
from opscockpit.sources.base import Batch
from opscockpit.store import Store

if TYPE_CHECKING:
    import pandas as pd

    from opscockpit.analysis.model_health import HealthSettings
    from opscockpit.analysis.model_tracker import ModelTracker

REFERENCE_KIND = "model_reference"  # as written by sources.prediction_ingest
WIDE_PREFIX = "feature:"
AUTO_REFERENCE_ROWS = 1000
DEFAULT_WINDOW = 5000  # rows: the chunk NannyML and Evidently users judge drift on
MAX_PENDING_LABELS = 200_000
_BAD = {"drifting": Severity.WARNING, "degraded": Severity.ERROR}

Key = tuple[str, str]


def default_settings() -> HealthSettings:
    """The settings the analyzer and the report share (one place, so they agree)."""
    from opscockpit.analysis.model_health import HealthSettings

    return HealthSettings(window=DEFAULT_WINDOW, reference_share=0.25)


@dataclass(slots=True)
class _Version:
    model: str
    version: str
    tracker: ModelTracker | None = None
    held: list[pd.DataFrame] = field(default_factory=list)  # rows waiting for a reference
    declared: tuple[Any, Any] | None = None  # reference (from, to)
    stale: bool = False
    status: str | None = None
    alert_id: str = ""
    last_seen: Any = None
    view: tuple[Any, ModelView] | None = None  # (the health it was built from, the view)

    def name_for_alert(self) -> str:
        return f"{self.model} {self.version}".strip()


class ModelsAnalyzer(Analyzer):
    name = "models"

    def __init__(self, settings: HealthSettings | None = None,
                 auto_reference_rows: int = AUTO_REFERENCE_ROWS) -> None:
        self._settings = settings
        self.auto_reference_rows = auto_reference_rows
        self._lock = threading.RLock()  # observe and view may come from different threads
        self._versions: dict[Key, _Version] = {}
        self._known: set[Key] | None = None  # versions in the store at restore
        self._store: Store | None = None
        self._pending_labels: OrderedDict[str, Any] = OrderedDict()
        self._to_declare: list[Annotation] = []

    @property
    def settings(self) -> HealthSettings:
        if self._settings is None:
            self._settings = default_settings()
        return self._settings

    # ------------------------------------------------------------------ lifecycle

    def restore(self, store: Store) -> None:
        with self._lock:
            self._restore(store)

    def _restore(self, store: Store) -> None:
        from opscockpit.store.model_queries import first_seen

        self._store = store
        self._known = set(first_seen(store))
        for model, version in self._known:
            if (model, version) not in self._versions:
                self._versions[model, version] = _Version(model, version, stale=True)

    # ------------------------------------------------------------------ observe

    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        declared = [a for a in batch.annotations if a.kind == REFERENCE_KIND]
        has_rows = bool(batch.observations) or "model_observations" in batch.frames
        if not has_rows and not declared and not self._to_declare:
            return None
        with self._lock:
            derived = Batch(annotations=self._to_declare)
            self._to_declare = []
            for note in declared:
                self._declare(note)
            if has_rows:
                from opscockpit.analyzers.models_frames import batch_frame, split_label_rows

                rows, labels = split_label_rows(batch_frame(batch))
                self._apply_labels(labels)
                for (model, version), part in rows.groupby(["model", "version"], sort=True):
                    self._feed(self._version(str(model), str(version), part, derived), part,
                               derived)
            self._alerts(derived)
        return derived if len(derived) else None

    def _version(self, model: str, version: str, rows: pd.DataFrame, derived: Batch
                 ) -> _Version:
        key = (model, version)
        entry = self._versions.get(key)
        if entry is None:
            entry = self._versions[key] = _Version(model, version)
        if self._known is None or key not in self._known:
            first = rows["ts"].min().to_pydatetime()
            derived.changes.append(Change(
                ts=first, id=f"model:{model}:{version}", kind=ChangeKind.MODEL, service=model,
                version=version, source="models", status="first seen"))
            if self._known is not None:
                self._known.add(key)
            else:
                self._known = {key}
        return entry

    def _feed(self, entry: _Version, rows: pd.DataFrame, derived: Batch) -> None:
        rows = self._with_pending_labels(rows)
        entry.last_seen = rows["ts"].max()
        if entry.stale:
            self._rebuild(entry)  # the store already holds these rows
        elif entry.tracker is not None:
            if not entry.tracker.add(rows):
                entry.stale = True
                self._rebuild(entry)
        else:
            entry.held.append(rows)
            self._start(entry, derived)

    def _declare(self, note: Annotation) -> None:
        try:
            spec = json.loads(note.text)
            key = (str(spec["model"]), str(spec["version"]))
            span = (_timestamp(spec["from"]), _timestamp(spec["to"]))
        except (ValueError, KeyError, TypeError):
            return  # not ours to judge: an annotation we cannot read is left alone
        entry = self._versions.setdefault(key, _Version(*key))
        if entry.declared == span:
            return
        entry.declared = span
        if entry.tracker is not None:
            entry.stale = True  # judged against another reference so far

    def _start(self, entry: _Version, derived: Batch) -> None:
        """Make the tracker once the reference is known."""
        import pandas as pd

        held = pd.concat(entry.held, ignore_index=True) if len(entry.held) > 1 else \
            entry.held[0]
        if entry.declared is None and self._store is not None:
            # A reference may have been declared before its model's first row came.
            from opscockpit.store.model_queries import annotations_of_kind

            found = declared_references(annotations_of_kind(self._store, REFERENCE_KIND))
            entry.declared = found.get((entry.model, entry.version))
        reference, current = self._split(entry, held)
        if reference is None:
            return
        if entry.declared is None:
            span = (reference["ts"].iloc[0], reference["ts"].iloc[-1])
            entry.declared = span
            derived.annotations.append(reference_note(entry.model, entry.version, span,
                                                      len(reference)))
        self._track(entry, reference, current)

    def _split(self, entry: _Version, rows: pd.DataFrame
               ) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        from opscockpit.analysis.model_health import split_reference

        rows = rows.sort_values("ts", kind="stable", ignore_index=True)
        if entry.declared is not None:
            start, end = entry.declared
            inside = (rows["ts"] >= start) & (rows["ts"] <= end)
            if inside.any():
                return rows[inside], rows[rows["ts"] > end]
            if len(rows) and rows["ts"].iloc[0] <= end:
                return None, rows  # its rows are still to come
            # Every row is newer than the declared reference, whose rows are gone (live
            # retention) or never came: choose one anew, and say so.
            entry.declared = None
        if len(rows) < self.auto_reference_rows:
            return None, rows
        return split_reference(rows, self.settings)

    def _track(self, entry: _Version, reference: pd.DataFrame, current: pd.DataFrame) -> None:
        from opscockpit.analysis.model_tracker import ModelTracker

        entry.tracker = ModelTracker(entry.model, entry.version, reference, self.settings,
                                     sample=current)
        entry.tracker.add(current)
        entry.held = []
        entry.stale = False

    def _rebuild(self, entry: _Version) -> None:
        """Start this version over from the store; without a store, wait for one."""
        if self._store is None:
            return
        from opscockpit.analysis.model_health import typed_outputs
        from opscockpit.store.model_queries import annotations_of_kind, model_frame

        rows = typed_outputs(model_frame(self._store, entry.model, entry.version))
        declared = declared_references(annotations_of_kind(self._store, REFERENCE_KIND))
        if (entry.model, entry.version) in declared:
            entry.declared = declared[entry.model, entry.version]
        entry.tracker, entry.held, entry.stale = None, [], False
        if rows.empty:
            return
        entry.last_seen = rows["ts"].max()
        reference, current = self._split(entry, rows)
        if reference is None:
            entry.held = [rows]
            return
        if entry.declared is None:
            span = (reference["ts"].iloc[0], reference["ts"].iloc[-1])
            entry.declared = span
            if not self._store.read_only:
                self._to_declare.append(reference_note(entry.model, entry.version, span,
                                                       len(reference)))
        self._track(entry, reference, current)
        entry.status = str(entry.tracker.health().status)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ labels

    def _apply_labels(self, labels: pd.DataFrame) -> None:
        if labels.empty:
            return
        matched: set[str] = set()
        for entry in self._versions.values():
            if entry.tracker is not None:
                matched |= entry.tracker.add_labels(labels)
        for record_id, label in zip(labels["record_id"], labels["label"], strict=True):
            if record_id not in matched:
                self._pending_labels[str(record_id)] = label
                self._pending_labels.move_to_end(str(record_id))
        while len(self._pending_labels) > MAX_PENDING_LABELS:
            self._pending_labels.popitem(last=False)

    def _with_pending_labels(self, rows: pd.DataFrame) -> pd.DataFrame:
        """A label that came before its prediction is joined when the prediction comes."""
        if not self._pending_labels:
            return rows
        found = rows["record_id"].map(lambda r: self._pending_labels.pop(str(r), None))
        if found.isna().all():
            return rows
        rows = rows.copy()
        rows["label"] = found.where(found.notna(), rows["label"]).astype(object)
        return rows

    # ------------------------------------------------------------------ alerts

    def _alerts(self, derived: Batch) -> None:
        for entry in self._versions.values():
            if entry.tracker is None or entry.stale:
                continue
            health = entry.tracker.health()
            status = str(health.status)
            if status == entry.status:
                continue
            previous, entry.status = entry.status, status
            alert = status_alert(entry, health, previous)
            if alert is not None:
                derived.alerts.append(alert)
                entry.alert_id = alert.id if alert.status == "firing" else ""

    # ------------------------------------------------------------------ view

    def view(self, store: Store, now: datetime) -> ModelsView | None:
        with self._lock:
            if self._known is None:
                self._restore(store)
            elif self._store is None:
                self._store = store
            for entry in list(self._versions.values()):
                if entry.stale:
                    self._rebuild(entry)
            views = [] if not self._versions else self._views()
        if not views:
            return None
        views.sort(key=lambda v: (STATUS_ORDER.index(v.status), v.model, v.version))
        return ModelsView(at=now, models=tuple(views))

    def _views(self) -> list[ModelView]:
        from opscockpit.analyzers.models_frames import model_view, waiting_view

        views = []
        for entry in self._versions.values():
            if entry.tracker is not None:
                health = entry.tracker.health()
                if entry.view is None or entry.view[0] is not health:
                    entry.view = (health, model_view(entry.tracker, health, entry.last_seen))
                views.append(entry.view[1])
            elif entry.held:
                views.append(waiting_view(entry.model, entry.version, entry.held,
                                          self.settings))
        return views


def reference_note(model: str, version: str, span: tuple[Any, Any], rows: int) -> Annotation:
    """The derived declaration of a reference chosen by default, for the report to reuse."""
    start, end = span
    text = json.dumps({"model": model, "version": version, "from": start.isoformat(),
                       "to": end.isoformat(), "rows": rows, "source": "first 25% of rows"})
    return Annotation(ts=end.to_pydatetime(), id=f"{REFERENCE_KIND}:{model}/{version}:auto",
                      kind=REFERENCE_KIND, target=f"model:{model}/{version}", text=text,
                      author="models analyzer")


def declared_references(rows: list[tuple[Any, str, str, str]]) -> dict[Key, tuple[Any, Any]]:
    """The reference range of each version: a declaration from data wins over a derived one,
    a later one over an earlier one."""
    found: dict[Key, tuple[bool, Any, tuple[Any, Any]]] = {}
    for ts, _, text, origin in rows:
        try:
            spec = json.loads(text)
            key = (str(spec["model"]), str(spec["version"]))
            span = (_timestamp(spec["from"]), _timestamp(spec["to"]))
        except (ValueError, KeyError, TypeError):
            continue
        rank = (origin != "derived", ts)
        if key not in found or rank >= found[key][:2]:
            found[key] = (*rank, span)
    return {key: value[2] for key, value in found.items()}


def status_alert(entry: _Version, health: Any, previous: str | None) -> Alert | None:
    """Firing when a version turns drifting or degraded, resolved when it recovers."""
    status = str(health.status)
    labels = {"model": entry.model, "version": entry.version, "status": status}
    if status in _BAD:
        since = health.degraded_since if status == "degraded" else health.drift_onset
        at = since if since is not None else entry.last_seen
        drifting = sorted(set(health.onsets.loc[health.onsets["active"], "feature"]))
        detail = f"drifting: {', '.join(drifting)}" if drifting else "no column drifting"
        if status == "degraded" and health.primary_metric:
            low, high = health.band or (float("nan"), float("nan"))
            latest = health.sparkline[-1] if health.sparkline else float("nan")
            detail = (f"{health.primary_metric} {latest:.3f} outside {low:.3f}-{high:.3f}; "
                      + detail)
        return Alert(
            ts=at.to_pydatetime(), id=f"model-{status}:{entry.model}:{entry.version}:"
            f"{at.isoformat()}", source="model", severity=_BAD[status], host="",
            service=entry.model, title=f"model {entry.name_for_alert()} {status}",
            message=detail, labels=labels, fingerprint=f"model:{entry.model}:{entry.version}")
    if previous in _BAD and entry.alert_id:
        at = entry.last_seen.to_pydatetime()
        return Alert(ts=at, id=entry.alert_id, source="model", severity=_BAD[previous],
                     host="", service=entry.model,
                     title=f"model {entry.name_for_alert()} {previous}",
                     message=f"now {status}", labels=labels,
                     fingerprint=f"model:{entry.model}:{entry.version}", status="resolved",
                     ends_at=at)
    return None


def _timestamp(text: str) -> Any:
    import pandas as pd

    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
