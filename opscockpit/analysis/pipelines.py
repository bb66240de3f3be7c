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
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series if str(series.dt.tz) == "UTC" else series.dt.tz_convert("UTC")
    return pd.to_datetime(series, utc=True)


def ns(series: pd.Series) -> np.ndarray:
    """Times as ``datetime64[ns]`` (UTC): a tz-aware ``to_numpy()`` would box every value."""
    return series.to_numpy("datetime64[ns]")


def group_ids(frame: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Dense group numbers (in order of first appearance) for ``keys``."""
    return frame.groupby(list(keys), sort=False, dropna=False).ngroup().to_numpy()


def _firsts(gid: np.ndarray) -> np.ndarray:
    """Position of each group's first row, by group number."""
    return np.unique(gid, return_index=True)[1]


def _lasts(gid: np.ndarray) -> np.ndarray:
    """Position of each group's last row, by group number."""
    return len(gid) - 1 - np.unique(gid[::-1], return_index=True)[1]


def latest_positions(runs: pd.DataFrame, key: Sequence[str] = RUN_KEY) -> np.ndarray:
    """Row positions of :func:`latest_runs`, in frame order."""
    gid = group_ids(runs, key)
    done = (runs["status"] == "completed").fillna(False).to_numpy(bool)
    # Within a run: completed rows after open ones, then arrival order; keep the last.
    order = np.lexsort((np.arange(len(runs)), done, gid))
    return np.sort(order[_lasts(gid[order])])


def latest_runs(runs: pd.DataFrame, key: Sequence[str] = RUN_KEY) -> pd.DataFrame:
    """One row per run attempt: its completed row if any, else the last row seen."""
    if runs.empty:
        return runs.copy()
    return runs.iloc[latest_positions(runs, key)]


def prepare_runs(runs: pd.DataFrame, *, dedupe: bool = True) -> pd.DataFrame:
    """Latest rows in time order, typed times, and the columns every statistic uses."""
    ts = _utc(runs["ts"])
    positions = latest_positions(runs) if dedupe else np.arange(len(runs))
    positions = positions[np.argsort(ns(ts)[positions], kind="stable")]
    df = runs.iloc[positions].copy()
    df["ts"] = ts.iloc[positions]
    for col in ("started_at", "finished_at"):
        df[col] = _utc(df[col])
    status = df["status"].fillna("").astype("string").str.lower()
    conclusion = df["conclusion"].fillna("").astype("string").str.lower()
    done = (status == "completed").to_numpy(bool)
    failed = done & conclusion.isin(FAILED).to_numpy(bool)
    passed = done & conclusion.isin(PASSED).to_numpy(bool)
    df["is_done"] = done
    df["is_failed"] = failed
    df["is_passed"] = passed
    df["is_open"] = status.isin(OPEN).to_numpy(bool)
    df["outcome"] = np.where(done, conclusion.to_numpy(str), status.to_numpy(str))
    duration = (df["finished_at"] - df["started_at"]).dt.total_seconds().to_numpy(float)
    # A cancelled run's duration is cut short: only runs with a verdict describe the pipeline.
    df["duration_s"] = np.where((failed | passed) & (duration >= 0), duration, np.nan)
    queue = (df["started_at"] - df["ts"]).dt.total_seconds().to_numpy(float)
    df["queue_s"] = np.clip(queue, 0, None)
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
    needed = [*keys, "run_id", "attempt", "ts", "started_at", "finished_at", "status",
              "conclusion"]
    df = prepare_runs(runs[needed])
    gid = group_ids(df, keys)
    n_groups = int(gid.max()) + 1
    out = df[keys].iloc[_firsts(gid)].reset_index(drop=True)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(gid, weights=mask, minlength=n_groups).astype("int64")

    is_open = df["is_open"].to_numpy(bool, copy=True)
    open_for = np.full(len(df), np.nan)
    if now is not None:
        stamp = pd.Timestamp(now)
        is_open &= (df["ts"] >= stamp - pd.Timedelta(seconds=stale_after_s)).to_numpy(bool)
        since = (stamp - df["started_at"].fillna(df["ts"])).dt.total_seconds().to_numpy(float)
        open_for = np.where(is_open, since, np.nan)
    passed, failed = df["is_passed"].to_numpy(bool), df["is_failed"].to_numpy(bool)
    out["runs"] = np.bincount(gid, minlength=n_groups).astype("int64")
    out["successes"] = count(passed)
    out["failures"] = count(failed)
    out["cancelled"] = count(df["is_done"].to_numpy(bool) & ~passed & ~failed)
    out["running"] = count(is_open)
    out["completed"] = out["successes"] + out["failures"]
    out["failure_rate"] = out["failures"] / out["completed"].where(out["completed"] > 0)

    by_group = range(n_groups)
    duration = pd.Series(df["duration_s"].to_numpy(float))
    queue = pd.Series(df["queue_s"].to_numpy(float))
    d_groups, q_groups = duration.groupby(gid), queue.groupby(gid)
    out["duration_p50_s"] = d_groups.median().reindex(by_group).to_numpy()
    out["duration_p95_s"] = d_groups.quantile(0.95).reindex(by_group).to_numpy()
    out["queue_p50_s"] = q_groups.median().reindex(by_group).to_numpy()
    out["queue_p95_s"] = q_groups.quantile(0.95).reindex(by_group).to_numpy()
    out["longest_running_s"] = pd.Series(open_for).groupby(gid).max().reindex(by_group).to_numpy()
    out["last_run_at"] = df["ts"].iloc[_lasts(gid)].reset_index(drop=True)

    outcome = df["outcome"].to_numpy(object)
    done = df["is_done"].to_numpy(bool)
    last_done = pd.Series(outcome[done]).groupby(gid[done]).last()
    out["last_conclusion"] = last_done.reindex(by_group).fillna("").to_numpy(object)

    timed = ~np.isnan(df["duration_s"].to_numpy(float))
    t_gid, t_dur = gid[timed], df["duration_s"].to_numpy(float)[timed]
    back = pd.Series(t_gid).groupby(t_gid).cumcount(ascending=False).to_numpy()
    out["duration_trend"] = _trend(t_gid, t_dur, back, trend_window, n_groups)
    out["durations"] = _lists(t_gid[back < last_n], t_dur[back < last_n], n_groups)
    back_all = pd.Series(gid).groupby(gid).cumcount(ascending=False).to_numpy()
    out["last_runs"] = _lists(gid[back_all < last_n], outcome[back_all < last_n], n_groups)
    out["flaky_jobs"] = _flaky_counts(out, flaky, keys)

    failing_now = out["last_conclusion"].isin(FAILED)
    out = out.assign(_failing=failing_now).sort_values(
        ["_failing", "failures", "failure_rate", "runs", *keys],
        ascending=[False, False, False, False, *([True] * len(keys))],
        kind="stable",
    )
    return out[[*keys, *STATS_COLUMNS]].reset_index(drop=True)


def _trend(gid: np.ndarray, dur: np.ndarray, back: np.ndarray, window: int, n: int
           ) -> np.ndarray:
    if window < 1 or len(gid) == 0:
        return np.full(n, np.nan)
    recent = back < window
    before = (back >= window) & (back < 2 * window)
    now = pd.Series(dur[recent]).groupby(gid[recent]).median().reindex(range(n))
    then = pd.Series(dur[before]).groupby(gid[before]).median().reindex(range(n))
    return (now / then.where(then > 0) - 1).to_numpy()


def _lists(gid: np.ndarray, values: np.ndarray, n: int) -> list[list[object]]:
    """Values per group as Python lists, in row order; groups without any get []."""
    out: list[list[object]] = [[] for _ in range(n)]
    if len(gid) == 0:
        return out
    order = np.argsort(gid, kind="stable")
    cuts = np.flatnonzero(np.diff(gid[order])) + 1
    for chunk in np.split(order, cuts):
        out[int(gid[chunk[0]])] = values[chunk].tolist()
    return out


def _flaky_counts(out: pd.DataFrame, flaky: pd.DataFrame | None, keys: list[str]
                  ) -> np.ndarray:
    if flaky is None or flaky.empty:
        return np.zeros(len(out), dtype="int64")
    per = flaky.groupby(list(PIPELINE_KEYS))["job"].nunique().rename("_n").reset_index()
    # Per branch the count is the pipeline's: flakiness is a property of the job.
    joined = out[keys].merge(per, on=list(PIPELINE_KEYS), how="left")
    return joined["_n"].fillna(0).to_numpy("int64")


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
