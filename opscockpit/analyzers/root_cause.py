"""Ranked causes for what is going on now, for the Alerts pane and the timeline.

The same ranking as the report's ``root_cause_candidates`` (one function, so they never
disagree), over the last hours up to "now", recomputed at most every REFRESH of data time
and only when new rows arrived: ranking re-clusters the window, which is not free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opscockpit.analyzers.base import Analyzer
from opscockpit.sources.base import Batch
from opscockpit.store import Store

LOOKBACK = timedelta(hours=6)
REFRESH = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Cause:
    incident: str
    rank: int
    kind: str
    ref: str
    summary: str
    score: float
    evidence: tuple[str, ...]
    ts: str | None = None


@dataclass(frozen=True, slots=True)
class RootCauseView:
    causes: tuple[Cause, ...]  # rank-1 candidate of each incident, most important first

    @property
    def top(self) -> Cause | None:
        return self.causes[0] if self.causes else None


class RootCauseAnalyzer(Analyzer):
    name = "root_cause"

    def __init__(self) -> None:
        self._view: RootCauseView | None = None
        self._computed_at: datetime | None = None
        # Nothing to explain until symptoms or changes arrive: ranking loads pandas, and a
        # quiet host's cockpit should not pay for it.
        self._dirty = False

    def restore(self, store: Store) -> None:
        from opscockpit.store.root_cause_queries import has_symptoms

        self._dirty = has_symptoms(store)

    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        if batch.alerts or batch.anomalies or batch.changes or batch.frames.keys() & {
                "alerts", "changes"}:
            self._dirty = True
        return None

    def view(self, store: Store, now: datetime) -> RootCauseView | None:
        if not self._dirty:
            return self._view
        recent = (self._computed_at is not None and self._computed_at <= now
                  and now - self._computed_at < REFRESH)
        if recent:
            return self._view
        self._view = compute(store, now)
        self._computed_at, self._dirty = now, False
        return self._view


def compute(store: Store, now: datetime) -> RootCauseView | None:
    from opscockpit.report.builder import ReportWindow
    from opscockpit.report.root_cause import root_cause_section

    section = root_cause_section(store, ReportWindow(now - LOOKBACK, now))
    tops = [c for c in section.get("root_cause_candidates", []) if c.get("rank") == 1]
    if not tops:
        return None
    return RootCauseView(tuple(_cause(c) for c in tops))


def _cause(candidate: dict[str, Any]) -> Cause:
    return Cause(
        incident=str(candidate.get("incident", "")), rank=int(candidate["rank"]),
        kind=str(candidate["kind"]), ref=str(candidate["ref"]),
        summary=str(candidate["summary"]), score=float(candidate["score"]),
        evidence=tuple(str(e) for e in candidate.get("evidence", [])),
        ts=candidate.get("ts"),
    )
