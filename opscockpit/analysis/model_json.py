"""A model version's health as plain JSON-ready dicts: the report's ``models`` entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from opscockpit.analysis.model_health import ModelHealth


def health_to_dict(
    health: ModelHealth, stamp: Callable[[object], str | None] | None = None
) -> dict[str, Any]:
    """DESIGN.md's ``models`` entry and a few more fields. ``stamp`` formats timestamps
    (the report passes its own so every section writes them alike)."""
    stamp = stamp or _iso
    latest = _latest_per_feature(health.drift, health.onsets, stamp)
    return {
        "model": health.model,
        "version": health.version,
        "status": str(health.status),
        "drift": latest,
        "performance": [
            {"window_start": stamp(_time(r.window_start)), "metric": r.metric,
             "value": float(r.value), "n": int(r.n)}
            for r in health.performance.itertuples(index=False)
        ],
        "data_quality": _issue_summary(health.issues, stamp),
        "rows": health.rows,
        "labelled_rows": health.labelled_rows,
        "reference_rows": health.reference_rows,
        "drifted_features": health.drifted_features,
        "drift_onset": stamp(_time(health.drift_onset)),
        "degraded_since": stamp(_time(health.degraded_since)),
        "primary_metric": health.primary_metric,
        "band": list(health.band) if health.band else None,
    }



def _latest_per_feature(drift: pd.DataFrame, onsets: pd.DataFrame,
                        stamp: Callable[[object], str | None]) -> list[dict[str, Any]]:
    if drift.empty:
        return []
    latest = drift.sort_values("window").groupby("feature", sort=False).tail(1)
    merged = latest.merge(onsets[["feature", "onset", "active"]], on="feature", how="left")
    merged["rank_onset"] = merged["onset"].map(
        lambda t: t.value if isinstance(t, pd.Timestamp) and not pd.isna(t) else np.iinfo(
            np.int64).max)
    merged["active"] = merged["active"].fillna(False).astype(bool)
    merged = merged.sort_values(["active", "drifted", "rank_onset", "statistic"],
                                ascending=[False, False, True, False], kind="stable")
    # "drifted" is the sustained drift (k of the last m windows), not one window over its
    # threshold: a lone noisy window, such as a short last one, is not a drift to report.
    # The latest window's own verdict and figures are beside it.
    return [{
        "feature": r.feature, "method": r.method, "statistic": _finite(r.statistic),
        "threshold": float(r.threshold), "drifted": bool(r.active),
        "onset": stamp(_time(r.onset)), "p_value": _finite(r.p_value),
        "window_start": stamp(_time(r.window_start)), "window_drifted": bool(r.drifted),
    } for r in merged.itertuples(index=False)]


def _issue_summary(issues: pd.DataFrame, stamp: Callable[[object], str | None]
                   ) -> list[dict[str, Any]]:
    """One entry per (column, check): how bad at worst and since when; latest first."""
    if issues.empty:
        return []
    out = []
    for (column, check), group in issues.groupby(["column", "check"], sort=False):
        worst = group.loc[group["value"].idxmax()]
        out.append({
            "column": column, "check": check, "value": float(worst["value"]),
            "summary": worst["summary"], "windows": len(group),
            "first_seen": stamp(_time(group["window_start"].min())),
            "last_seen": stamp(_time(group["window_start"].max())),
        })
    return sorted(out, key=lambda d: (d["last_seen"] or "", d["value"]), reverse=True)


def _finite(value: object) -> float | None:
    """JSON has no infinity (chi-square's verdict on an unseen category): null instead."""
    if value is None or pd.isna(value) or not np.isfinite(float(value)):  # type: ignore[arg-type]
        return None
    return float(value)  # type: ignore[arg-type]


def _iso(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat().replace("+00:00", "Z")


def _time(value: object) -> object:
    """Missing times (None, NaT, NaN) as None, so any ``stamp`` can take the rest."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value
