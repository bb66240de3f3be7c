"""The one path by which rows enter the store: append, then run the analyzers.

The engine (live and replay) and ``opscockpit ingest`` all go through an Intake,
so the same data gives the same anomaly episodes and clusters whichever way it came.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from opscockpit.analyzers.base import Analyzer
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from opscockpit.store.schema import BATCH_TABLES

log = logging.getLogger(__name__)


class Intake:
    def __init__(
        self,
        store: Store,
        analyzers: list[Analyzer],
        on_batch: Callable[[Batch], None] | None = None,
    ) -> None:
        self.store = store
        self.analyzers = analyzers
        self.on_batch = on_batch
        self._lock = threading.Lock()  # analyzers are not thread-safe; batches go one by one

    def accept(self, batch: Batch, now: datetime, origin: str = "live") -> int:
        """Store ``batch``, feed it to every analyzer, store what they derive."""
        with self._lock:
            rows = self.store.append(batch, origin=origin)
            if self.on_batch is not None:
                self.on_batch(batch)
            pending = batch
            for analyzer in self.analyzers:
                derived = analyzer.observe(pending, now)
                if derived is not None and len(derived):
                    self.store.append(derived, origin="derived")
                    # Later analyzers see the source's rows and what earlier ones derived.
                    pending = merge_batches(pending, derived)
            return rows

    def views(self, now: datetime) -> dict[str, Any]:
        """Each analyzer's view, never while a batch is half-way through them."""
        views: dict[str, Any] = {}
        with self._lock:
            for analyzer in self.analyzers:
                try:
                    views[analyzer.name] = analyzer.view(self.store, now)
                except Exception as exc:  # one broken view must not blank the others
                    log.warning("view %s failed: %s", analyzer.name, exc, exc_info=True)
                    views[analyzer.name] = None
        return views

    def restore(self) -> None:
        for analyzer in self.analyzers:
            analyzer.restore(self.store)

    def save(self) -> None:
        if not self.store.read_only:
            for analyzer in self.analyzers:
                analyzer.save(self.store)


def merge_batches(first: Batch, second: Batch) -> Batch:
    merged = Batch()
    for name in BATCH_TABLES:
        setattr(merged, name, [*getattr(first, name), *getattr(second, name)])
    merged.frames = {**first.frames, **second.frames}
    return merged


def default_analyzers() -> list[Analyzer]:
    """Every analyzer the cockpit runs, in the order their outputs feed each other."""
    from opscockpit.analyzers.alerts import AlertsAnalyzer
    from opscockpit.analyzers.anomalies import AnomalyAnalyzer
    from opscockpit.analyzers.models import ModelsAnalyzer
    from opscockpit.analyzers.pipelines import PipelinesAnalyzer
    from opscockpit.analyzers.root_cause import RootCauseAnalyzer
    from opscockpit.analyzers.telemetry import TelemetryAnalyzer

    # Anomalies and model health raise alerts (and model changes), so the alert analyzer
    # comes after both.
    return [TelemetryAnalyzer(), AnomalyAnalyzer(), ModelsAnalyzer(), AlertsAnalyzer(),
            PipelinesAnalyzer(), RootCauseAnalyzer()]
