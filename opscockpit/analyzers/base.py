"""The contract of an analyzer: learn from each batch, derive records, offer a view.

The engine feeds every appended batch to each analyzer in order. ``observe`` may
return derived records (an anomaly alert, say); those are appended with origin
``derived`` and fed to the analyzers after it, so one analyzer's output is the next
one's input. ``view`` builds the immutable picture a pane renders. Analyzers run
off the main thread, never touch widgets, and only see time through ``now``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from opscockpit.sources.base import Batch
from opscockpit.store import Store


class Analyzer(ABC):
    name: ClassVar[str] = ""

    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        """Learn from a batch just stored; return derived records, if any."""
        return None

    @abstractmethod
    def view(self, store: Store, now: datetime) -> Any:
        """An immutable view for the pane named ``name`` (``None``: nothing to show)."""

    def save(self, store: Store) -> None:  # noqa: B027 - stateless analyzers keep nothing
        """Persist learned state so a restart does not relearn from zero."""

    def restore(self, store: Store) -> None:  # noqa: B027
        """Load state saved by :meth:`save`."""
