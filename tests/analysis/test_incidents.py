"""Incidents: which clusters and episodes are one situation, and when it began.

The scenes are built here, frame by frame, with the alert clusterer the report uses; the
root-cause tests reuse the builders.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from itertools import count

import pandas as pd

from opscockpit.analysis.alert_clusters import AlertClusterer
from opscockpit.analysis.incidents import Incident, group_incidents, symptom_frames
from opscockpit.analysis.service_topology import (
    dependencies_from_text,
    host_services,
    learn_dependencies,
    merge_dependencies,
    service_of_name,
)

T0 = pd.Timestamp("2024-05-01T10:00:00Z")
_ids = count(1)


def at(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


def anomaly(series: str, start: float, end: float | None = None, peak: float = 1.0,
            peak_at: float | None = None) -> dict[str, object]:
    host, _, metric = series.partition("/")
    return {"series": series, "host": host, "metric": metric, "start": at(start),
            "end": at(end if end is not None else start + 30), "peak_score": peak,
            "peak_ts": at(peak_at if peak_at is not None else start)}


def alert(minute: float, host: str, service: str, title: str, message: str,
          severity: str = "critical", status: str = "firing", source: str = "alertmanager",
          labels: Mapping[str, str] | None = None) -> dict[str, object]:
    return {"ts": at(minute), "id": f"a{next(_ids)}", "source": source, "severity": severity,
            "host": host, "service": service, "title": title, "message": message,
            "labels": json.dumps({"service": service, **(labels or {})}),
            "fingerprint": f"{title}:{host}", "status": status, "ends_at": None}


def storm(service: str, hosts: Sequence[str], start: float, minutes: float = 20,
          every_s: float = 20, title: str = "HighErrorRate") -> list[dict[str, object]]:
    """A burst of one alert shape across a service's hosts."""
    n = int(minutes * 60 / every_s)
    return [alert(start + i * every_s / 60, hosts[i % len(hosts)], service, title,
                  f"5xx rate {5 + i % 7}% on {hosts[i % len(hosts)]} above 5%")
            for i in range(n)]


def flapping(host: str, service: str, start: float, hours: float) -> list[dict[str, object]]:
    """A disk warning that fires and resolves every ten minutes: background."""
    return [alert(start + 10 * i, host, service, "DiskSpaceLow", f"disk 85% full on {host}",
                  severity="warning", status="firing" if i % 2 == 0 else "resolved")
            for i in range(int(hours * 6))]


def scene(anomalies: Iterable[dict[str, object]] = (),
          alerts: Iterable[dict[str, object]] = (),
          dependencies: Mapping[str, Iterable[str]] | None = None,
          changes: pd.DataFrame | None = None,
          ) -> tuple[list[Incident], dict[str, str], dict[str, frozenset[str]]]:
    """Incidents of a scene, as the report section builds them."""
    an = pd.DataFrame(list(anomalies), columns=["series", "host", "metric", "start", "end",
                                                "peak_score", "peak_ts"])
    al = pd.DataFrame(list(alerts))
    clusters = None
    if not al.empty:
        al = al.sort_values("ts", kind="stable").reset_index(drop=True)
        clusterer = AlertClusterer()
        clusterer.add(al)
        clusters = clusterer.clusters()
    hosts = host_services(al if not al.empty else None, changes,
                          an["host"].tolist(), dependencies)
    deps = merge_dependencies(dependencies, dependencies_from_text(
        al if not al.empty else None, hosts))
    symptoms, events = symptom_frames(an, clusters, al if not al.empty else None, hosts)
    return group_incidents(symptoms, events, deps), hosts, deps


def incident_of(incidents: list[Incident], ref: str) -> Incident:
    return next(x for x in incidents if ref in set(x.symptoms["ref"]) | set(x.clusters))


def test_a_storm_and_its_anomalies_are_one_incident() -> None:
    incidents, _, _ = scene(
        [anomaly("api-1/latency_ms", 3), anomaly("api-2/latency_ms", 4),
         anomaly("web-1/error_rate_pct", 5)],
        storm("api", ["api-1", "api-2"], 4) + storm("web", ["web-1"], 5, title="UpstreamErrors"),
        dependencies={"web": ["api"]})
    assert len(incidents) == 1
    x = incidents[0]
    assert x.core and set(x.services) == {"api", "web"}
    assert len(x.clusters) == 2 and len(x.series) == 3
    assert x.first == at(3) and x.onset == at(3)


def test_time_alone_never_joins_two_incidents() -> None:
    incidents, _, _ = scene(
        [anomaly("api-1/latency_ms", 3), anomaly("ledger-1/latency_ms", 3)],
        storm("api", ["api-1"], 4) + storm("ledger", ["ledger-1"], 4, title="LedgerLag"))
    assert len(incidents) == 2
    assert {tuple(x.services) for x in incidents} == {("api",), ("ledger",)}


def test_dependencies_join_what_time_and_topology_relate() -> None:
    symptoms = [anomaly("api-1/latency_ms", 3), anomaly("db-1/cpu_pct", 1)]
    apart, _, _ = scene(symptoms)
    joined, _, _ = scene(symptoms, dependencies={"web": ["api"], "api": ["db"]})
    assert len(apart) == 2 and len(joined) == 1


def test_background_attaches_but_never_bridges() -> None:
    deps = {"api": ["db"], "ledger": ["db"]}
    incidents, _, _ = scene(
        [anomaly("api-1/latency_ms", 3), anomaly("ledger-1/latency_ms", 4)],
        storm("api", ["api-1"], 4) + storm("ledger", ["ledger-1"], 5, title="LedgerLag")
        + flapping("db-1", "db", -120, 5), dependencies=deps)
    core = [x for x in incidents if x.core]
    assert len(core) == 2  # the flapping db warning relates to both, joins neither to the other
    disk = [x for x in incidents if any("DiskSpaceLow" in str(lbl)
                                        for lbl in x.symptoms["label"])]
    assert len(disk) == 1


def test_onset_ignores_a_weak_early_start() -> None:
    # The detector opened api-2/latency 45 min early and it only peaked with the rest.
    incidents, _, _ = scene(
        [anomaly("api-2/latency_ms", -45, 60, peak=1.0, peak_at=4),
         anomaly("api-1/latency_ms", 3), anomaly("api-1/error_rate_pct", 3),
         anomaly("api-2/error_rate_pct", 4)],
        storm("api", ["api-1", "api-2"], 4))
    assert len(incidents) == 1
    x = incidents[0]
    assert x.first == at(-45)
    assert x.onset == at(3)


def test_weak_lone_episode_is_an_incident_of_its_own() -> None:
    incidents, _, _ = scene([anomaly("api-1/latency_ms", 3), anomaly("db-1/cpu_pct", -60,
                                                                     -50, peak=0.3)])
    assert [x.core for x in incidents] == [True, False]


def test_anomaly_alerts_link_but_are_no_second_symptom() -> None:
    alerts = [alert(3, "api-1", "", "Anomaly on latency_ms", "latency_ms on api-1 is unusual",
                    severity="error", source="anomaly",
                    labels={"series": "api-1/latency_ms"})]
    incidents, _, _ = scene([anomaly("api-1/latency_ms", 3)], alerts)
    assert len(incidents) == 1
    x = incidents[0]
    assert list(x.symptoms["kind"]) == ["anomaly"]
    assert len(x.clusters) == 1  # the mirror cluster belongs to the episode's incident


def test_host_services_from_labels_then_names() -> None:
    alerts = pd.DataFrame([alert(0, "web-1", "web", "X", "x"), alert(0, "node7", "api", "Y", "y")])
    hosts = host_services(alerts, None, ["api-3", "api2.prod.example.com", "web-eu-3", "zz-1"])
    assert hosts["node7"] == "api" and hosts["web-1"] == "web"
    assert hosts["api-3"] == "api" and hosts["api2.prod.example.com"] == "api"
    assert hosts["web-eu-3"] == "web" and "zz-1" not in hosts
    assert service_of_name("checkout_latency", {"checkout"}) == "checkout"
    assert service_of_name("payments-api-1", {"payments-api", "api"}) == "payments-api"


def test_dependencies_named_in_alert_text() -> None:
    alerts = pd.DataFrame([alert(i, "web-1", "web", "UpstreamTimeout",
                                 f"upstream timeout calling api-{1 + i % 2}:8080")
                           for i in range(3)] + [alert(0, "api-1", "api", "Slow", "slow")])
    hosts = {"web-1": "web", "api-1": "api", "api-2": "api"}
    assert dependencies_from_text(alerts, hosts) == {"web": frozenset({"api"})}


def test_dependencies_learned_from_who_goes_first() -> None:
    rows = []
    for day in range(4):
        base = day * 24 * 60
        rows += [("db", at(base)), ("api", at(base + 2)), ("web", at(base + 4))]
    starts = pd.DataFrame(rows, columns=["service", "start"])
    learned = learn_dependencies(starts, min_support=3)
    assert learned["api"] == {"db"} and learned["web"] >= {"api"}
    assert "db" not in learned
    assert learn_dependencies(starts.iloc[:3], min_support=3) == {}  # one incident: nothing
