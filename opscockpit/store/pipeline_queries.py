"""The queries the Pipelines pane and the report's pipelines, dora and changes sections need.

The store appends: one run appears once per state it was seen in (queued, running,
completed). "Latest" below is the rule of :func:`opscockpit.analysis.pipelines.latest_runs`:
a completed row beats an open one, then the row stored last wins (``rowid``).
Rows for the live pane come back as tuples (no pandas); frames only for the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from opscockpit.store.duck import Store
from opscockpit.store.schema import TABLE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

RUN_COLUMNS = TABLE_COLUMNS["pipeline_runs"]
JOB_COLUMNS = TABLE_COLUMNS["pipeline_jobs"]
CHANGE_COLUMNS = TABLE_COLUMNS["changes"]
# Alerts of this severity are incidents for DORA's change failure rate. Warnings and log
# errors are too frequent to say "this deploy broke something".
INCIDENT_SEVERITIES = ("critical",)


def _cols(columns: tuple[str, ...], prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{c}"' for c in columns)


_LATEST_RUNS = f"""
    SELECT {_cols(RUN_COLUMNS)} FROM pipeline_runs WHERE {{where}}
    QUALIFY row_number() OVER (
        PARTITION BY provider, repo, run_id, attempt
        ORDER BY (status = 'completed') DESC, rowid DESC) = 1"""

_LATEST_JOBS = f"""
    SELECT {_cols(JOB_COLUMNS)} FROM pipeline_jobs WHERE {{where}}
    QUALIFY row_number() OVER (
        PARTITION BY provider, repo, run_id, job_id, attempt
        ORDER BY (status = 'completed') DESC, rowid DESC) = 1"""


def _recent(per_pipeline_mark: str, limit_mark: str) -> str:
    """The newest runs: at most N per pipeline, at most M in all."""
    return f"""SELECT * FROM ({_LATEST_RUNS.format(where="true")})
               QUALIFY row_number() OVER (
                   PARTITION BY provider, repo, workflow, branch ORDER BY ts DESC)
                   <= {per_pipeline_mark}
               ORDER BY ts DESC LIMIT {limit_mark}"""


def recent_runs(store: Store, per_pipeline: int, limit: int) -> list[tuple[Any, ...]]:
    """The latest row of each run attempt, the newest ``per_pipeline`` of each pipeline
    (provider, repo, workflow, branch) and the newest ``limit`` in all, in
    :data:`RUN_COLUMNS` order, oldest first (re-runs by attempt)."""
    return store.rows(
        f"SELECT {_cols(RUN_COLUMNS)} FROM ({_recent('?', '?')}) ORDER BY ts, attempt",
        [per_pipeline, limit],
    )


def jobs_of_recent_runs(store: Store, per_pipeline: int, limit: int) -> list[tuple[Any, ...]]:
    """The latest row of each job of the runs :func:`recent_runs` returns."""
    return store.rows(
        f"""SELECT {_cols(JOB_COLUMNS, "j.")}
            FROM ({_LATEST_JOBS.format(where="true")}) j
            SEMI JOIN ({_recent('?', '?')}) r USING (provider, repo, run_id)
            ORDER BY j.ts""",
        [per_pipeline, limit],
    )


def recent_deploys(store: Store, limit: int) -> list[tuple[Any, ...]]:
    """The newest ``limit`` deploy changes (latest row per id), oldest first."""
    return store.rows(
        f"""SELECT * FROM (
                SELECT {_cols(CHANGE_COLUMNS)} FROM changes WHERE kind = 'deploy'
                QUALIFY row_number() OVER (PARTITION BY id ORDER BY rowid DESC) = 1
                ORDER BY ts DESC LIMIT ?) ORDER BY ts""",
        [limit],
    )


def commit_times(store: Store, shas: list[str]) -> list[tuple[str, datetime]]:
    """Per sha, its commit time if a source named it, else its first CI run's creation."""
    if not shas:
        return []
    return [
        (str(sha), ts) for sha, ts in store.rows(
            """SELECT sha, min(coalesce(committed_at, ts)) FROM pipeline_runs
               WHERE sha IN (SELECT unnest(?::VARCHAR[])) GROUP BY sha""",
            [sorted(set(shas))],
        )
    ]


def incidents(
    store: Store, start: datetime | None, end: datetime | None
) -> list[tuple[datetime, str]]:
    """``(first seen, service)`` of each critical alert (by fingerprint, else id)."""
    marks = ", ".join("?" for _ in INCIDENT_SEVERITIES)
    return store.rows(
        f"""SELECT min(ts) AS ts, coalesce(any_value(service), '') FROM alerts
            WHERE severity IN ({marks})
            GROUP BY coalesce(nullif(fingerprint, ''), id)
            HAVING (? IS NULL OR min(ts) >= ?) AND (? IS NULL OR min(ts) <= ?)
            ORDER BY ts""",
        [*INCIDENT_SEVERITIES, start, start, end, end],
    )


# --- frames for the report -------------------------------------------------------------

def _window(column: str = "ts") -> str:
    return f"(? IS NULL OR {column} >= ?) AND (? IS NULL OR {column} <= ?)"


def runs_frame(store: Store, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """The latest row of every run attempt created in the window."""
    return store.query(
        _LATEST_RUNS.format(where=_window()) + " ORDER BY ts, attempt", [start, start, end, end]
    )


def jobs_frame(store: Store, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """The latest row of every job of the runs created in the window."""
    runs = f"SELECT provider, repo, run_id FROM pipeline_runs WHERE {_window()}"
    return store.query(
        f"""SELECT {_cols(JOB_COLUMNS, "j.")} FROM ({_LATEST_JOBS.format(where="true")}) j
            SEMI JOIN ({runs}) r USING (provider, repo, run_id) ORDER BY j.ts""",
        [start, start, end, end],
    )


def changes_frame(store: Store, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """Every change (deploy, config, model) in the window, latest row per id."""
    return store.query(
        f"""SELECT {_cols(CHANGE_COLUMNS)} FROM changes WHERE {_window()}
            QUALIFY row_number() OVER (PARTITION BY id ORDER BY rowid DESC) = 1
            ORDER BY ts""",
        [start, start, end, end],
    )


def commit_times_frame(store: Store, shas: list[str]) -> pd.DataFrame:
    """:func:`commit_times` as the ``runs`` frame :func:`~opscockpit.analysis.dora.
    deploys_from_changes` reads commit times from (``sha``, ``ts``)."""
    import pandas as pd

    rows = commit_times(store, shas)
    return pd.DataFrame(
        {"sha": [s for s, _ in rows], "ts": pd.to_datetime([t for _, t in rows], utc=True)}
    )


def incidents_frame(store: Store, start: datetime | None, end: datetime | None
                    ) -> pd.DataFrame:
    import pandas as pd

    rows = incidents(store, start, end)
    return pd.DataFrame(
        {"ts": pd.to_datetime([t for t, _ in rows], utc=True), "service": [s for _, s in rows]}
    )
