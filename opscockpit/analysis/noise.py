"""Noise: how much the clustering saves the on-call engineer, and what they marked as noise.

``marked_noise_share`` is the share of surfaced clusters whose latest operator annotation
(``kind`` ``noise`` or ``actionable``) says noise: the false-positive rate of what the
cockpit put in front of the engineer. ``marked_noise_alert_share`` weighs the same by
alerts. A cluster nobody annotated counts as not marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from opscockpit.analysis.alert_clusters import ClusterParams, cluster_alerts


@dataclass(frozen=True, slots=True)
class NoiseSummary:
    alerts: int
    clusters: int
    reduction_ratio: float  # 1 - clusters / alerts
    flapping: int  # clusters whose status is flapping
    marked_noise_share: float  # of clusters
    marked_noise_alert_share: float  # of alerts
    per_cluster: pd.DataFrame  # id, size, arrival_rate_per_min, growing, status, marked

    def as_dict(self) -> dict[str, float | int]:
        """The report's ``noise`` object."""
        return {
            "alerts": self.alerts, "clusters": self.clusters,
            "reduction_ratio": self.reduction_ratio, "flapping": self.flapping,
            "marked_noise_share": self.marked_noise_share,
            "marked_noise_alert_share": self.marked_noise_alert_share,
        }


def latest_marks(annotations: pd.DataFrame | None) -> dict[str, str]:
    """Cluster id -> ``noise``/``actionable``, the latest annotation winning."""
    if annotations is None or annotations.empty:
        return {}
    marks = annotations[annotations["kind"].isin(["noise", "actionable"])]
    if "ts" in marks:
        marks = marks.assign(_ts=pd.to_datetime(marks["ts"], utc=True))
        marks = marks.sort_values("_ts", kind="stable")
    return dict(zip(marks["target"].astype(str), marks["kind"].astype(str), strict=True))


def summarize_noise(
    clusters: pd.DataFrame, alerts: int | None = None, annotations: pd.DataFrame | None = None
) -> NoiseSummary:
    """Noise figures from an existing cluster frame (as from ``AlertClusterer.clusters()``)."""
    total = int(clusters["size"].sum()) if alerts is None else int(alerts)
    n = len(clusters)
    marks = latest_marks(annotations)
    marked = clusters["id"].map(lambda c: marks.get(str(c), ""))
    noise_alerts = int(clusters.loc[marked == "noise", "size"].sum())
    per_cluster = clusters[["id", "size", "arrival_rate_per_min", "growing", "status"]].copy()
    per_cluster["marked"] = marked.to_numpy()
    return NoiseSummary(
        alerts=total,
        clusters=n,
        reduction_ratio=(1.0 - n / total) if total else 0.0,
        flapping=int((clusters["status"] == "flapping").sum()),
        marked_noise_share=float((marked == "noise").sum() / n) if n else 0.0,
        marked_noise_alert_share=(noise_alerts / total) if total else 0.0,
        per_cluster=per_cluster.reset_index(drop=True),
    )


def noise_report(
    alerts: pd.DataFrame,
    annotations: pd.DataFrame | None = None,
    params: ClusterParams | None = None,
) -> tuple[pd.DataFrame, NoiseSummary]:
    """Alerts in, clusters and noise figures out."""
    clusters = cluster_alerts(alerts, params)
    return clusters, summarize_noise(clusters, len(alerts), annotations)
