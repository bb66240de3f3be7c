"""CI pipeline statistics: how often each pipeline fails, how long it takes, what runs now.

Input is the ``pipeline_runs`` frame (columns named as :class:`~opscockpit.records.PipelineRun`).
The store appends, so one run may appear several times (queued, running, completed): only the
last state of each ``(provider, repo, run_id, attempt)`` counts.

Vocabulary (the sources map their systems onto it): ``status`` is ``queued``, ``running``,
``waiting`` or ``completed``; a completed run's ``conclusion`` uses GitHub's words. A run
*fails* with ``failure``, ``timed_out``, ``startup_failure`` or ``unstable`` (Jenkins: tests
failed) and *passes* with ``success``. ``failure_rate`` is failures / (failures + passes):
cancelled, skipped and approval-waiting runs gave no verdict, so they count in ``runs`` but
not in the rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

FAILED = ("failure", "timed_out", "startup_failure", "unstable")
PASSED = ("success",)
OPEN = ("queued", "running", "waiting", "in_progress", "pending", "requested")
PIPELINE_KEYS = ("provider", "repo", "workflow")
RUN_KEY = ("provider", "repo", "run_id", "attempt")

STATS_COLUMNS = (
    "runs", "completed", "successes", "failures", "cancelled", "running", "failure_rate",
    "duration_p50_s", "duration_p95_s", "duration_trend", "queue_p50_s", "queue_p95_s",
    "flaky_jobs", "last_run_at", "last_conclusion", "last_runs", "durations",
    "longest_running_s",
)


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def latest_runs(runs: pd.DataFrame, key: Sequence[str] = RUN_KEY) -> pd.DataFrame:
    """One row per run attempt: its completed row if any, else the last row seen."""
    if runs.empty:
        return runs.copy()
    done = (runs["status"] == "completed").to_numpy()
    order = np.lexsort((np.arange(len(runs)), done))  # completed last, then arrival order
    ranked = runs.iloc[order]
    return ranked.drop_duplicates(list(key), keep="last").sort_index()


def prepare_runs(runs: pd.DataFrame, *, dedupe: bool = True) -> pd.DataFrame:
    """Latest rows, typed times, and the derived columns every statistic uses."""
    df = latest_runs(runs) if dedupe else runs.copy()
    for col in ("ts", "started_at", "finished_at"):
        df[col] = _utc(df[col])
    status = df["status"].astype("string").str.lower()
    conclusion = df["conclusion"].fillna("").astype("string").str.lower()
    done = (status == "completed").fillna(False).to_numpy(bool)
    df["is_done"] = done
    df["is_failed"] = done & conclusion.isin(FAILED).to_numpy(bool)
    df["is_passed"] = done & conclusion.isin(PASSED).to_numpy(bool)
    df["is_open"] = status.isin(OPEN).fillna(False).to_numpy(bool)
    df["outcome"] = conclusion.where(done, status).fillna("")
    duration = (df["finished_at"] - df["started_at"]).dt.total_seconds()
    # A cancelled run's duration is cut short: only runs with a verdict describe the pipeline.
    verdict = df["is_failed"].to_numpy(bool) | df["is_passed"].to_numpy(bool)
    df["duration_s"] = duration.where(verdict & (duration >= 0).to_numpy(bool))
    queue = (df["started_at"] - df["ts"]).dt.total_seconds()
    df["queue_s"] = queue.clip(lower=0)
    return df


def pipeline_stats(
    runs: pd.DataFrame,
    *,
    now: datetime | None = None,
    by_branch: bool = False,
    flaky: pd.DataFrame | None = None,
    last_n: int = 20,
    trend_window: int = 10,
    stale_after_s: float = 86_400.0,
) -> pd.DataFrame:
    """One row per pipeline (``provider, repo, workflow`` and, with ``by_branch``, branch).

    ``duration_trend`` compares the median duration of the last ``trend_window`` completed
    runs with the ``trend_window`` before them: +0.25 means 25 % slower lately. ``running``
    counts open runs; with ``now``, runs open for longer than ``stale_after_s`` are taken as
    lost (a missed webhook, a dead runner) and left out. ``last_runs`` is the strip of the
    last ``last_n`` outcomes, oldest first; ``durations`` the matching completed durations.
    ``last_conclusion`` is the newest completed run's. ``flaky`` is
    :func:`opscockpit.analysis.flaky_jobs.flaky_jobs`'s frame.
    """
    keys = [*PIPELINE_KEYS, "branch"] if by_branch else list(PIPELINE_KEYS)
    if runs.empty:
        return pd.DataFrame(columns=[*keys, *STATS_COLUMNS])
    df = prepare_runs(runs).sort_values("ts", kind="stable")
    if now is not None:
        fresh = df["ts"] >= pd.Timestamp(now) - pd.Timedelta(seconds=stale_after_s)
        df["is_open"] = df["is_open"] & fresh.to_numpy(bool)
        df["open_for_s"] = ((pd.Timestamp(now) - df["started_at"].fillna(df["ts"]))
                            .dt.total_seconds().where(df["is_open"]))
    else:
        df["open_for_s"] = np.nan
    df["is_cancelled"] = df["is_done"] & ~df["is_failed"] & ~df["is_passed"]
    grouped = df.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(
        runs=("run_id", "size"),
        successes=("is_passed", "sum"),
        failures=("is_failed", "sum"),
        cancelled=("is_cancelled", "sum"),
        running=("is_open", "sum"),
        duration_p50_s=("duration_s", "median"),
        queue_p50_s=("queue_s", "median"),
        last_run_at=("ts", "max"),
        longest_running_s=("open_for_s", "max"),
    )
    out["duration_p95_s"] = grouped["duration_s"].quantile(0.95)
    out["queue_p95_s"] = grouped["queue_s"].quantile(0.95)
    done = df[df["is_done"]]
    out["last_conclusion"] = done.groupby(keys, sort=False, dropna=False)["outcome"].last()
    out["last_conclusion"] = out["last_conclusion"].fillna("")
    out["completed"] = out["successes"] + out["failures"]
    out["failure_rate"] = out["failures"] / out["completed"].where(out["completed"] > 0)
    out["duration_trend"] = _trend(df, keys, trend_window)
    tail = grouped.tail(last_n)
    strips = tail.groupby(keys, sort=False, dropna=False)
    out["last_runs"] = strips["outcome"].agg(list)
    timed = df[df["duration_s"].notna()].groupby(keys, sort=False, dropna=False).tail(last_n)
    out["durations"] = timed.groupby(keys, sort=False, dropna=False)["duration_s"].agg(list)
    out["durations"] = out["durations"].apply(lambda v: v if isinstance(v, list) else [])
    out["flaky_jobs"] = _flaky_counts(out.index, flaky, keys)
    out = out.reset_index()
    for col in ("runs", "successes", "failures", "cancelled", "running", "completed",
                "flaky_jobs"):
        out[col] = out[col].astype("int64")
    failing_now = out["last_conclusion"].isin(FAILED)
    out = out.assign(_failing=failing_now).sort_values(
        ["_failing", "failures", "failure_rate", "runs", *keys],
        ascending=[False, False, False, False, *([True] * len(keys))],
        kind="stable",
    )
    return out[[*keys, *STATS_COLUMNS]].reset_index(drop=True)


def _trend(df: pd.DataFrame, keys: list[str], window: int) -> pd.Series:
    timed = df[df["duration_s"].notna()]
    if timed.empty or window < 1:
        return pd.Series(np.nan, index=df.groupby(keys, sort=False, dropna=False).size().index)
    back = timed.groupby(keys, sort=False, dropna=False).cumcount(ascending=False)
    recent = timed[back < window].groupby(keys, dropna=False)["duration_s"].median()
    before = timed[(back >= window) & (back < 2 * window)]
    previous = before.groupby(keys, dropna=False)["duration_s"].median()
    trend = recent / previous.where(previous > 0) - 1
    return trend.reindex(df.groupby(keys, sort=False, dropna=False).size().index)


def _flaky_counts(index: pd.Index, flaky: pd.DataFrame | None, keys: list[str]) -> pd.Series:
    if flaky is None or flaky.empty:
        return pd.Series(0, index=index)
    per = flaky.groupby(list(PIPELINE_KEYS))["job"].nunique()
    if len(keys) == len(PIPELINE_KEYS):
        return per.reindex(index, fill_value=0)
    # Per branch the count is the pipeline's: flakiness is a property of the job.
    frame = index.to_frame(index=False)
    joined = frame.merge(per.rename("n").reset_index(), on=list(PIPELINE_KEYS), how="left")
    return pd.Series(joined["n"].fillna(0).to_numpy(), index=index)


def running_runs(runs: pd.DataFrame, *, now: datetime, stale_after_s: float = 86_400.0
                 ) -> pd.DataFrame:
    """Runs open now, longest-running first, with ``open_for_s``."""
    if runs.empty:
        return runs.assign(open_for_s=pd.Series(dtype=float))
    df = prepare_runs(runs)
    cutoff = pd.Timestamp(now) - pd.Timedelta(seconds=stale_after_s)
    df = df[df["is_open"] & (df["ts"] >= cutoff)].copy()
    df["open_for_s"] = (pd.Timestamp(now) - df["started_at"].fillna(df["ts"])).dt.total_seconds()
    return df.sort_values("open_for_s", ascending=False).reset_index(drop=True)
