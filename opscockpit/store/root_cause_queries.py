"""Queries the root-cause section needs beyond the alert and anomaly ones.

Changes are read with ``history`` before the window: how unusual a deploy is depends on
how often its service was deployed before, not only inside the window. Operator verdicts
on candidates (annotations ``confirm``/``reject``) are never cut by the window, like the
marks on clusters.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from opscockpit.store.duck import Store

if TYPE_CHECKING:
    import pandas as pd

VERDICT_KINDS = ("confirm", "reject")
DEPENDENCIES_META_KEY = "topology.depends_on"


def changes_with_history(store: Store, start: datetime | None, end: datetime | None,
                         history: timedelta = timedelta(days=7)) -> pd.DataFrame:
    """Every change from ``history`` before ``start`` to ``end``, latest row per id."""
    since = start - history if start is not None else None
    return store.query(
        """SELECT ts, id, kind, service, version, sha, author, url, source, status
           FROM changes WHERE (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?)
           QUALIFY row_number() OVER (PARTITION BY id ORDER BY rowid DESC) = 1
           ORDER BY ts, id""",
        [since, since, end, end],
    )


def candidate_verdicts(store: Store) -> pd.DataFrame:
    """``ts, kind, target, text, author`` of every confirm/reject annotation, oldest first."""
    kinds = ", ".join(f"'{k}'" for k in VERDICT_KINDS)
    return store.query(
        f"""SELECT ts, kind, target, coalesce(text, '') AS text, coalesce(author, '') AS author
            FROM annotations WHERE kind IN ({kinds}) ORDER BY ts, id"""
    )


def metric_hosts(store: Store, start: datetime | None, end: datetime | None) -> list[str]:
    """Hosts with samples in the window: the monitored ones."""
    return [h for (h,) in store.rows(
        """SELECT DISTINCT host FROM metrics WHERE host <> ''
           AND (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?) ORDER BY host""",
        [start, start, end, end])]


def configured_dependencies(store: Store) -> dict[str, list[str]]:
    """``service -> upstream services`` kept in the store's meta (JSON), else empty."""
    text = store.get_meta(DEPENDENCIES_META_KEY)
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {str(k): [str(u) for u in (v if isinstance(v, list) else [v])]
            for k, v in parsed.items()}


def has_symptoms(store: Store) -> bool:
    """Whether the store holds anything root-cause ranking could explain."""
    row = store.rows("SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM anomalies)")
    return bool(row and row[0][0])
