"""The four DORA keys from deploys: how often, how fast, how often it breaks, how fast it heals.

A *deploy* frame has one row per deploy attempt: ``service``, ``ts`` (when it finished),
``sha``, ``conclusion`` (``success``, else a failed attempt), ``committed_at`` (may be
empty) and optionally ``rollback`` (bool). :func:`deploys_from_changes` builds it from the
``changes`` table (whose ``status`` carries the verdict) and the CI runs of their commits.

Definitions (each one a choice, written down so the numbers can be checked by hand):

* deployment frequency: successful deploys / days in the period (``start``..``end`` when
  given, else first to last deploy, at least one day).
* lead time for changes: deploy time minus commit time, per successful deploy. The commit
  time is the run's head-commit timestamp when the source gave one (``committed_at``),
  else the creation time of the first CI run of that sha: CI starts on push, so this is
  "time from push to production", a few minutes short of the commit's own time.
* change failure rate: share of successful deploys that were followed, within
  ``failure_window_s`` and before the next successful deploy of the service, by a failed
  deploy of the service or an incident (of the service, or, for an incident naming no
  service, as the latest deploy of any service); or whose next successful deploy is a
  rollback (it redeploys an older sha of that service, or is flagged ``rollback``).
* time to restore: from the first failed deploy of a streak to the next successful deploy
  of the same service.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from opscockpit.analysis.pipelines import ns

DORA_KEYS = (
    "deployment_frequency_per_day", "lead_time_p50_s", "change_failure_rate",
    "time_to_restore_p50_s",
)
DEPLOY_COLUMNS = ("service", "ts", "sha", "conclusion", "committed_at", "rollback")


@dataclass(frozen=True, slots=True)
class DoraMetrics:
    deployment_frequency_per_day: float
    lead_time_p50_s: float | None
    change_failure_rate: float | None
    time_to_restore_p50_s: float | None
    deployments: int
    failed_deployments: int
    changes_failed: int
    restores: int
    days: float
    lead_time_p95_s: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _none_if_nan(value: float) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def commit_times(runs: pd.DataFrame) -> pd.Series:
    """Per sha, when its commit happened: head-commit time if known, else first CI run."""
    if runs.empty:
        return pd.Series(dtype="datetime64[ns, UTC]")
    ts = pd.to_datetime(runs["ts"], utc=True)
    if "committed_at" in runs:
        ts = pd.to_datetime(runs["committed_at"], utc=True).fillna(ts)
    frame = pd.DataFrame({"sha": runs["sha"], "t": ts})
    return frame[frame["sha"].fillna("") != ""].groupby("sha")["t"].min()


def deploys_from_changes(
    changes: pd.DataFrame,
    runs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Deploy attempts from ``kind = deploy`` changes, with verdicts and commit times.

    A deploy's verdict is the change's ``status`` (the CI sources write the run's or the
    deploying job's conclusion there). A change without one (a deploy tool that reports
    only what it shipped) counts as a success. ``runs`` gives commit times (see
    :func:`commit_times`); it needs only ``sha``, ``ts`` and ``committed_at``.
    """
    if changes.empty:
        return pd.DataFrame(columns=list(DEPLOY_COLUMNS))
    d = changes[changes["kind"].astype(str) == "deploy"].copy()
    d["ts"] = pd.to_datetime(d["ts"], utc=True)
    status = d["status"] if "status" in d else pd.Series("", index=d.index)
    status = status.fillna("").astype(str).str.lower()
    d["conclusion"] = status.where(status != "", "success")
    commits = commit_times(runs) if runs is not None else pd.Series(dtype=object)
    # An empty map target gives float NaNs that pandas refuses to read as times.
    d["committed_at"] = (pd.to_datetime(d["sha"].map(commits), utc=True) if len(commits)
                         else pd.Series(pd.NaT, index=d.index, dtype="datetime64[ns, UTC]"))
    if "rollback" not in d:
        d["rollback"] = False
    return d[list(DEPLOY_COLUMNS)].reset_index(drop=True)


def _prepare(deploys: pd.DataFrame, start: datetime | None, end: datetime | None
             ) -> pd.DataFrame:
    d = deploys.copy()
    d["ts"] = pd.to_datetime(d["ts"], utc=True)
    if start is not None:
        d = d[d["ts"] >= pd.Timestamp(start)]
    if end is not None:
        d = d[d["ts"] <= pd.Timestamp(end)]
    d["committed_at"] = pd.to_datetime(d.get("committed_at", pd.NaT), utc=True)
    d["rollback"] = d["rollback"].fillna(False).astype(bool) if "rollback" in d else False
    d["sha"] = d["sha"].fillna("").astype(str) if "sha" in d else ""
    verdict = d["conclusion"] if "conclusion" in d else pd.Series("success", index=d.index)
    d["ok"] = verdict.fillna("success").astype(str).str.lower().eq("success")
    return d.sort_values(["service", "ts"], kind="stable").reset_index(drop=True)


def _failed_changes(
    d: pd.DataFrame, incidents: pd.DataFrame | None, window: pd.Timedelta
) -> np.ndarray:
    """Which rows (successful deploys) count as change failures."""
    n = len(d)
    pos = pd.Series(np.arange(n, dtype=float), index=d.index)
    ok = d["ok"].to_numpy(bool)
    by_service = d["service"]
    # For every row, the latest successful deploy of its service at or before it.
    prev_ok = pos.where(ok).groupby(by_service).ffill()
    failed = np.zeros(n, dtype=bool)

    # A failed deploy after a success, within the window, fails that success.
    f_rows = np.flatnonzero(~ok & prev_ok.notna().to_numpy())
    if len(f_rows):
        target = prev_ok.to_numpy()[f_rows].astype(int)
        stamps = ns(d["ts"])
        gap = stamps[f_rows] - stamps[target]
        failed[target[gap <= window.to_timedelta64()]] = True

    # A rollback fails the success it replaces.
    ok_rows = d[ok]
    first_seen = ok_rows.groupby(["service", "sha"])["ts"].transform("min")
    prev_sha = ok_rows.groupby("service")["sha"].shift(1)
    redeploy_old = (
        (ok_rows["sha"] != "") & (first_seen < ok_rows["ts"]) & (ok_rows["sha"] != prev_sha)
    )
    replaced = pos[ok].groupby(ok_rows["service"]).shift(1)
    target = replaced[(redeploy_old | ok_rows["rollback"]).to_numpy(bool)].dropna()
    failed[target.astype(int).to_numpy()] = True

    if incidents is not None and not incidents.empty:
        failed |= _incident_failures(d, ok, incidents, window)
    return failed & ok


def _incident_failures(
    d: pd.DataFrame, ok: np.ndarray, incidents: pd.DataFrame, window: pd.Timedelta
) -> np.ndarray:
    n = len(d)
    failed = np.zeros(n, dtype=bool)
    succ = d[ok].assign(row=np.flatnonzero(ok))
    succ = succ.assign(next_ts=succ.groupby("service")["ts"].shift(-1))
    inc = pd.DataFrame({"ts": pd.to_datetime(incidents["ts"], utc=True)})
    inc["service"] = (
        incidents["service"].fillna("").astype(str) if "service" in incidents else ""
    )
    inc = inc.sort_values("ts", kind="stable")
    left = succ.sort_values("ts", kind="stable")[["ts", "service", "row", "next_ts"]]
    named = inc[inc["service"] != ""]
    hits: list[pd.DataFrame] = []
    if not named.empty:
        hits.append(pd.merge_asof(
            named, left.rename(columns={"ts": "deploy_ts"}), left_on="ts",
            right_on="deploy_ts", by="service", direction="backward",
        ))
    anon = inc[inc["service"] == ""]
    if not anon.empty:
        hits.append(pd.merge_asof(
            anon, left.rename(columns={"ts": "deploy_ts", "service": "svc"}), left_on="ts",
            right_on="deploy_ts", direction="backward",
        ))
    for hit in hits:
        hit = hit.dropna(subset=["deploy_ts"])
        in_window = (hit["ts"] - hit["deploy_ts"] <= window) & (
            hit["next_ts"].isna() | (hit["ts"] < hit["next_ts"])
        )
        failed[hit.loc[in_window, "row"].astype(int).to_numpy()] = True
    return failed


def _restore_times(d: pd.DataFrame) -> pd.Series:
    """Seconds from the first failed deploy of each streak to the next success."""
    ok = d["ok"]
    ts = d["ts"]
    next_ok_ts = ts.where(ok).groupby(d["service"]).bfill()
    prev_row_ok = ok.groupby(d["service"]).shift(1).fillna(True).astype(bool)
    starts = ~ok & prev_row_ok
    return (next_ok_ts[starts] - ts[starts]).dt.total_seconds().dropna()


def dora_metrics(
    deploys: pd.DataFrame,
    *,
    incidents: pd.DataFrame | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    failure_window_s: float = 86_400.0,
) -> DoraMetrics:
    """The four keys over all services (see the module's definitions)."""
    d = _prepare(deploys, start, end) if not deploys.empty else pd.DataFrame()
    if d.empty:
        return DoraMetrics(0.0, None, None, None, 0, 0, 0, 0, _days(d, start, end))
    window = pd.Timedelta(seconds=failure_window_s)
    ok = d["ok"].to_numpy(bool)
    failed_changes = _failed_changes(d, incidents, window)
    lead = (d.loc[ok, "ts"] - d.loc[ok, "committed_at"]).dt.total_seconds().clip(lower=0)
    restores = _restore_times(d)
    successes = int(ok.sum())
    days = _days(d, start, end)
    return DoraMetrics(
        deployment_frequency_per_day=successes / days,
        lead_time_p50_s=_none_if_nan(lead.median()),
        change_failure_rate=(
            float(failed_changes.sum()) / successes if successes else None
        ),
        time_to_restore_p50_s=_none_if_nan(restores.median()),
        deployments=successes,
        failed_deployments=int((~ok).sum()),
        changes_failed=int(failed_changes.sum()),
        restores=len(restores),
        days=days,
        lead_time_p95_s=_none_if_nan(lead.quantile(0.95)) if lead.notna().any() else None,
    )


def dora_by_service(
    deploys: pd.DataFrame,
    *,
    incidents: pd.DataFrame | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    failure_window_s: float = 86_400.0,
) -> pd.DataFrame:
    """:func:`dora_metrics` per service, worst change failure rate first."""
    columns = ["service", *DORA_KEYS, "deployments", "failed_deployments"]
    if deploys.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for service, part in deploys.groupby("service", sort=True):
        inc = incidents
        if incidents is not None and "service" in incidents:
            inc = incidents[incidents["service"].fillna("").isin(["", service])]
        m = dora_metrics(part, incidents=inc, start=start, end=end,
                         failure_window_s=failure_window_s)
        rows.append({"service": service, **m.as_dict()})
    out = pd.DataFrame(rows)
    return out.sort_values(
        ["change_failure_rate", "deployments"], ascending=False, na_position="last",
        kind="stable",
    )[columns].reset_index(drop=True)


def _days(d: pd.DataFrame, start: datetime | None, end: datetime | None) -> float:
    if start is not None and end is not None:
        span = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()
    elif d.empty:
        span = 0.0
    else:
        lo = pd.Timestamp(start) if start is not None else d["ts"].min()
        hi = pd.Timestamp(end) if end is not None else d["ts"].max()
        span = (hi - lo).total_seconds()
    return max(1.0, span / 86_400.0)
