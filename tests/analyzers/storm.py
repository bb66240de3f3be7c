"""A constructed alert storm for analyzer, pane and report tests: fixed seeds, no clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from opscockpit.records import Alert, Severity

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def alert(t: float, aid: str, host: str, service: str, title: str, message: str,
          severity: str = "error", fp: str | None = None, status: str = "firing") -> Alert:
    return Alert(ts=T0 + timedelta(seconds=t), id=aid, source="test",
                 severity=Severity.parse(severity), host=host, service=service, title=title,
                 message=message, fingerprint=fp or f"{host}|{title}", status=status)


def background() -> list[Alert]:
    """A disk warning on web-1 every ten minutes for six hours: steady background."""
    return [alert(i * 600, f"bg{i}", "web-1", "web", "DiskUsageHigh",
                  f"Disk /var usage {90 + i % 5}% on web-1", "warning", fp="disk-web-1")
            for i in range(36)]


def flapping(start: float = 0.0) -> list[Alert]:
    return [alert(start + i * 120, f"f{i}", "db-1", "db", "ReplicaLag", "replica lag high",
                  "warning", fp="lag-db-1", status="firing" if i % 2 == 0 else "resolved")
            for i in range(12)]


def web_api_storm(seed: int = 7, start: float = 3 * 3600, prefix: str = "s",
                  rng: random.Random | None = None) -> list[Alert]:
    """Five message shapes on web and api, bursting together for ten minutes.

    ``rng`` lets a caller draw several storms from one stream (its own ``seed`` then unused).
    """
    rng = rng or random.Random(seed)
    shapes = [
        ("web", "HTTP5xxRate", lambda h: f"HTTP 5xx rate {rng.uniform(5, 30):.1f}% on {h}"),
        ("web", "UpstreamTimeout",
         lambda h: f"upstream api timed out after {rng.randint(1000, 5000)}ms"),
        ("api", "PoolExhausted", lambda h: f"pool exhausted: {rng.randint(90, 100)}/100"),
        ("api", "LatencySLO", lambda h: f"p99 latency {rng.uniform(1, 4):.2f}s above 1s SLO"),
        ("web", "HealthCheck", lambda h: f"health check failed for {h}:8080"),
    ]
    hosts = {"web": ["web-1", "web-2", "web-3"], "api": ["api-1", "api-2"]}
    rows, t, n = [], start, 0
    while t < start + 600:
        service, title, message = shapes[n % 5] if n < 5 else rng.choice(shapes)
        host = rng.choice(hosts[service])
        rows.append(alert(t, f"{prefix}{n}", host, service, title, message(host), "critical"))
        n += 1
        t += rng.uniform(1, 6)
    return rows


def by_time(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (a.ts, a.id))
