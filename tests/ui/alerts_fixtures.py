"""A fixed Alerts view for Pilot and snapshot tests: no clock, no store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from opscockpit.analyzers.alerts_view import AlertMember, AlertsView, ClusterView, NoiseFigures
from opscockpit.snapshot import Snapshot
from tests.ui.fixtures import AT, fixed_snapshot


def _members(prefix: str, n: int, host: str, title: str, message: str,
             severity: str = "critical") -> tuple[AlertMember, ...]:
    return tuple(
        AlertMember(ts=AT - timedelta(seconds=20 * i), id=f"{prefix}{n - i}", severity=severity,
                    host=host, service="web", status="firing", title=title,
                    message=message.format(i=i),
                    labels=json.dumps({"alertname": title, "job": "web"}))
        for i in range(min(n, 12))
    )


def _spark(values: list[int]) -> tuple[int, ...]:
    return tuple([0] * (60 - len(values)) + values)


CLUSTERS = (
    ClusterView(
        id="Cstorm00001", severity="critical",
        template="HealthCheck health check failed for web-<NUM>:<NUM>",
        templates=("HealthCheck health check failed for web-<NUM>:<NUM>",
                   "HTTP5xxRate HTTP 5xx rate <NUM> on web-<NUM>",
                   "UpstreamTimeout upstream api timed out after <DURATION>",
                   "LatencySLO p99 latency <DURATION> above <DURATION> SLO",
                   "PoolExhausted pool exhausted: <NUM>/<NUM>"),
        size=180, hosts=("web-1", "web-3", "web-2", "api-1", "api-2"), services=("web", "api"),
        first_seen=AT - timedelta(minutes=10), last_seen=AT - timedelta(seconds=5),
        status="open", growing=True, rate_per_min=21.4,
        arrivals=_spark([2, 5, 9, 14, 16, 19, 22, 25, 27, 30]),
        members=_members("s", 180, "web-2", "HealthCheck",
                         "health check failed for web-2:8080 [bold]not markup[/bold] \x1b[31m"),
    ),
    ClusterView(
        id="Cbilling002", severity="error", template="GatewayErrors payment gateway returned <NUM>",
        templates=("GatewayErrors payment gateway returned <NUM>",
                   "LedgerDeadlock ledger write failed: deadlock on txn <NUM>"),
        size=64, hosts=("bill-1", "bill-2"), services=("billing",),
        first_seen=AT - timedelta(minutes=25), last_seen=AT - timedelta(minutes=3),
        status="open", growing=False, rate_per_min=3.2, arrivals=_spark([4, 6, 5, 3, 2, 1, 0]),
        members=_members("b", 64, "bill-1", "GatewayErrors", "payment gateway returned 50{i}",
                         "error"),
        mark="actionable",
    ),
    ClusterView(
        id="Cdisk000003", severity="warning",
        template="DiskUsageHigh Disk /var usage <NUM> on web-<NUM>",
        templates=("DiskUsageHigh Disk /var usage <NUM> on web-<NUM>",), size=36,
        hosts=("web-1",), services=("web",), first_seen=AT - timedelta(hours=6),
        last_seen=AT - timedelta(minutes=8), status="open", growing=False, rate_per_min=0.1,
        arrivals=_spark([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        members=_members("bg", 36, "web-1", "DiskUsageHigh", "Disk /var usage 9{i}% on web-1",
                         "warning"),
        mark="noise", acknowledged=True, note="known: log rotation lag",
    ),
    ClusterView(
        id="Clag0000004", severity="warning", template="ReplicaLag replica lag high",
        templates=("ReplicaLag replica lag high",), size=12, hosts=("db-1",), services=("db",),
        first_seen=AT - timedelta(minutes=40), last_seen=AT - timedelta(minutes=18),
        status="flapping", growing=False, rate_per_min=0.0, arrivals=_spark([1, 0, 1, 0, 1, 0]),
    ),
    ClusterView(
        id="Ccert000005", severity="info",
        template="CertExpiry certificate for <HOST> expires in <DURATION>",
        templates=("CertExpiry certificate for <HOST> expires in <DURATION>",), size=3,
        hosts=("edge-1",), services=("edge",), first_seen=AT - timedelta(hours=2),
        last_seen=AT - timedelta(hours=1), status="resolved", growing=False, rate_per_min=0.0,
        arrivals=_spark([]),
    ),
)

VIEW = AlertsView(
    at=AT, bucket_s=60, clusters=CLUSTERS,
    noise=NoiseFigures(alerts=295, clusters=5, reduction_ratio=1 - 5 / 295, flapping=1,
                       marked_noise_alert_share=36 / 295, noise_clusters=1, marked=2),
)


def alerts_snapshot(view: AlertsView = VIEW) -> Snapshot:
    base = fixed_snapshot()
    return replace(base, views={**base.views, "alerts": view})
