"""The immutable picture the Alerts pane renders (no pandas: the UI imports this).

Built by :class:`~opscockpit.analyzers.alerts.AlertsAnalyzer`; every collection is a
tuple and every record frozen, so a snapshot can be handed to the UI thread as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class AlertMember:
    """One alert of a cluster, with its full (untrusted) text."""

    ts: datetime
    id: str
    severity: str
    host: str
    service: str
    status: str
    title: str
    message: str
    labels: str  # canonical JSON text


@dataclass(frozen=True, slots=True)
class ClusterView:
    id: str
    severity: str
    template: str  # the most frequent template; typed slots read ``<NUM>``, ``<IP>``, ``<*>``
    templates: tuple[str, ...]  # every template of the cluster, most frequent first
    size: int
    hosts: tuple[str, ...]  # most affected first
    services: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    status: str  # open, resolved or flapping
    growing: bool
    rate_per_min: float
    arrivals: tuple[int, ...]  # alerts per bucket, oldest first, the last ending at ``at``
    members: tuple[AlertMember, ...] = ()  # newest first, at most the view's member cap
    mark: str = ""  # latest operator verdict: "", actionable or noise
    acknowledged: bool = False
    note: str = ""  # the latest note left with any feedback

    @property
    def rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 0)


@dataclass(frozen=True, slots=True)
class NoiseFigures:
    """How much the clustering saves, and how much of it the operators called noise."""

    alerts: int
    clusters: int
    reduction_ratio: float  # 1 - clusters / alerts
    flapping: int  # clusters that are flapping
    marked_noise_alert_share: float  # alert-weighted; the report also carries it
    noise_clusters: int = 0  # clusters whose latest verdict is noise
    marked: int = 0  # clusters with any verdict

    @property
    def noise_cluster_share(self) -> float:
        """The false-positive rate of what the cockpit surfaced: noise clusters / clusters."""
        return self.noise_clusters / self.clusters if self.clusters else 0.0


@dataclass(frozen=True, slots=True)
class AlertsView:
    at: datetime  # where the arrival sparklines end
    bucket_s: int  # width of one arrival bucket
    clusters: tuple[ClusterView, ...]  # severity, then recency; at most the view's cap
    noise: NoiseFigures
    member_cap: int = 50
