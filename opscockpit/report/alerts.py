"""The report's ``alert_clusters`` and ``noise`` sections.

The window's alerts (de-duplicated as the analyzer de-duplicates them) are clustered in
one batch by the same :class:`AlertClusterer` the live analyzer feeds incrementally, and
the noise figures come from the same :func:`~opscockpit.analyzers.alerts.summarize`, so
the report says what the Alerts pane said. Operator feedback is never cut by the window:
a cluster marked noise yesterday is still noise in today's report.
"""

from __future__ import annotations

from typing import Any

from opscockpit.analyzers.alerts import cluster_verdicts, summarize
from opscockpit.report.builder import ReportWindow, iso
from opscockpit.store import Store
from opscockpit.store.alert_queries import alert_window, cluster_feedback

EMPTY_NOISE = {"alerts": 0, "clusters": 0, "reduction_ratio": 0.0, "flapping": 0,
               "marked_noise_share": 0.0, "marked_noise_alert_share": 0.0}


def alerts_section(store: Store, window: ReportWindow) -> dict[str, Any]:
    from opscockpit.analysis.alert_clusters import AlertClusterer

    frame = alert_window(store, window.start, window.end)
    if frame.empty:
        return {"alert_clusters": [], "noise": dict(EMPTY_NOISE)}
    feedback = cluster_feedback(store)
    clusterer = AlertClusterer()
    clusterer.add(frame)
    clusters, summary = summarize(clusterer, len(frame), feedback)
    verdicts = cluster_verdicts(feedback, clusterer.state.find)
    out = []
    # The clusterer's order is the report's: severity, then size, then recency.
    for row in clusters.itertuples(index=False):
        verdict = verdicts.get(row.id)
        out.append({
            "id": row.id,
            "template": row.template,
            "templates": list(row.templates),
            "size": int(row.size),
            "alert_ids": [str(a) for a in row.alert_ids],
            "hosts": list(row.hosts),
            "services": list(row.services),
            "first_seen": iso(row.first_seen),
            "last_seen": iso(row.last_seen),
            "severity": row.severity,
            "status": row.status,
            "growing": bool(row.growing),
            "arrival_rate_per_min": float(row.arrival_rate_per_min),
            "mark": verdict.mark if verdict else "",
            "acknowledged": bool(verdict and verdict.acknowledged),
            "probable_root_cause": None,  # issue 8 ranks the changes before each cluster
        })
    noise = {k: (float(v) if isinstance(v, float) else int(v))
             for k, v in summary.as_dict().items()}
    return {"alert_clusters": out, "noise": noise}
