"""The report's ``root_cause_candidates``, ``root_cause_accuracy`` and ``incidents``.

The window's alerts are clustered exactly as the ``alert_clusters`` section clusters them
(same clusterer, same de-duplicated rows, so the same cluster ids), the anomaly episodes
are the ``anomalies`` section's, and changes are read with a week of history before the
window so a deploy's rarity is judged against its service's usual pace.
:mod:`opscockpit.analysis.incidents` groups them into incidents and
:mod:`opscockpit.analysis.root_cause` ranks each incident's candidates.

Which service a host runs (:mod:`opscockpit.analysis.service_topology`): the alerts'
``service`` column or label on that host, else the host name (``api-1`` runs ``api`` when
``api`` is a known service of alerts, changes or dependencies), else a series' stem.
Dependencies (``service -> upstream services``) are the configured ones (the store's meta
key ``topology.depends_on``, JSON, or the ``dependencies`` argument), plus those alert text
names (a web alert "calling api-1:8080") and those learned from who goes first.

Candidates are listed per incident, the most important incident first, its best candidate
first; ``rank`` is the rank within the incident. An incident made only of weak or
background symptoms (a flapping disk warning, a lone low-score episode) lists its lead
only. Operator verdicts (annotations ``confirm``/``reject`` on a candidate's ``ref``) are
shown as ``feedback``, and the share of judged incidents whose top candidate was confirmed
is ``root_cause_accuracy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opscockpit.report.builder import ReportWindow, iso
from opscockpit.store import Store


def root_cause_section(store: Store, window: ReportWindow,
                       dependencies: Mapping[str, Sequence[str]] | None = None,
                       ) -> dict[str, Any]:
    from opscockpit.analysis.alert_clusters import AlertClusterer
    from opscockpit.analysis.incidents import group_incidents, symptom_frames
    from opscockpit.analysis.root_cause import (
        accuracy,
        causes_by_symptom,
        latest_verdicts,
        rank_incidents,
    )
    from opscockpit.analysis.service_topology import (
        dependencies_from_text,
        host_services,
        learn_dependencies,
        merge_dependencies,
    )
    from opscockpit.store import root_cause_queries as q
    from opscockpit.store.alert_queries import alert_window
    from opscockpit.store.anomaly_queries import anomalies_in_window

    alerts = alert_window(store, window.start, window.end)
    anomalies = anomalies_in_window(store, window.start, window.end)
    changes = q.changes_with_history(store, window.start, window.end)
    configured = dependencies if dependencies is not None else q.configured_dependencies(store)
    metric_hosts = q.metric_hosts(store, window.start, window.end)
    hosts = host_services(alerts, changes, metric_hosts, configured)
    clusters = None
    if not alerts.empty:
        clusterer = AlertClusterer()
        clusterer.add(alerts)
        clusters = clusterer.clusters()
    symptoms, events = symptom_frames(anomalies, clusters, alerts, hosts)
    deps = merge_dependencies(configured, dependencies_from_text(alerts, hosts))
    if not symptoms.empty:
        starts = symptoms[symptoms["core"]].assign(
            service=symptoms["services"].map(lambda v: v[0] if v else ""))
        deps = merge_dependencies(deps, learn_dependencies(starts[["service", "start"]]))
    incidents = group_incidents(symptoms, events, deps)
    monitored = {hosts[h] for h in metric_hosts if h in hosts} | {
        s for s in alerts.get("service", []) if isinstance(s, str) and s}
    ranked = rank_incidents(incidents, changes, deps, hosts, monitored)
    verdicts = latest_verdicts(q.candidate_verdicts(store))
    score = accuracy(ranked, verdicts)
    candidates = [
        {
            "rank": c.rank, "kind": c.kind, "ref": c.ref, "summary": c.summary,
            "score": float(c.score), "evidence": list(c.evidence),
            "feedback": verdicts.get(c.ref), "incident": c.incident, "ts": iso(c.ts),
            "service": c.service, "url": c.url, "covers": list(c.covers),
            "factors": {k: float(v) for k, v in c.factors.items()},
        }
        for incident in incidents
        # A lone weak or background symptom gets its lead only: the list stays readable.
        for c in ranked[incident.id][:None if incident.core else 1]
    ]
    clusters_of = {x.id: set(x.clusters) for x in incidents}
    listed = [
        {
            "id": x.id, "first_symptom": iso(x.first), "onset": iso(x.onset),
            "end": iso(x.end), "services": x.services, "hosts": x.hosts,
            "clusters": x.clusters, "series": x.series, "core": x.core,
            "weight": round(x.weight, 4),
            "lead": ranked[x.id][0].ref if ranked[x.id] else None,
            # Each cluster's own cause: two faults may meet in one incident.
            "causes": {ref: c.ref for ref, c in causes_by_symptom(x, ranked[x.id]).items()
                       if ref in clusters_of[x.id]},
        }
        for x in incidents
    ]
    return {
        "root_cause_candidates": candidates,
        "root_cause_accuracy": {"judged": score.judged, "top1_confirmed": score.top1_confirmed,
                                "share": None if score.share is None
                                else round(score.share, 4)},
        "incidents": listed,
    }


def attach_probable_causes(report: dict[str, Any]) -> None:
    """Fill each cluster's ``probable_root_cause``: the candidate of its incident that
    explains it (the incident's top one unless two faults met in it), as ``kind, ref,
    summary, score``; ``None`` for a cluster in no incident, one without candidates, or
    one that is itself its incident's lead (a lone background cluster).

    Sections run independently; call this once all of them ran.
    """
    candidates: dict[tuple[str, str], dict[str, Any]] = {}
    for c in report.get("root_cause_candidates") or []:
        candidates.setdefault((c.get("incident", ""), c["ref"]), c)
    cause_of: dict[str, dict[str, Any]] = {}
    for incident in report.get("incidents") or []:
        for cid in incident.get("clusters", []):
            ref = incident.get("causes", {}).get(cid) or incident.get("lead")
            found = candidates.get((incident["id"], ref)) if ref else None
            # A cluster that is its own lead has no cause to name beyond itself.
            if found is not None and found["ref"] != cid:
                cause_of[cid] = {k: found[k] for k in ("kind", "ref", "summary", "score")}
    for cluster in report.get("alert_clusters") or []:
        cause = cause_of.get(cluster.get("id"))
        cluster["probable_root_cause"] = dict(cause) if cause else None
