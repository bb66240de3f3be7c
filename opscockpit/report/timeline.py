"""One chronological list of what happened, from every domain: the cockpit's point.

Built from the report's own sections (so it agrees with them) plus operator notes:
deploys and other changes, anomaly episodes, alert clusters opening and closing,
model drift onsets, CI failures and notes.
"""

from __future__ import annotations

from typing import Any

KINDS = ("change", "anomaly", "cluster_open", "cause", "cluster_close", "drift", "ci_failure",
         "note")


def build_timeline(report: dict[str, Any], notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events sorted by time, oldest first (a timeline reads forward)."""
    events: list[dict[str, Any]] = []
    for change in report.get("changes", []):
        what = " ".join(x for x in (change.get("service"), change.get("version")) if x)
        events.append(_event(change["ts"], "change",
                             f"{change['kind']} of {what or change['id']}", change["id"]))
    for anomaly in report.get("anomalies", []):
        events.append(_event(anomaly["start"], "anomaly",
                             f"anomaly on {anomaly['series']} (peak {anomaly['peak_score']:.2f})",
                             anomaly["series"]))
    for cluster in report.get("alert_clusters", []):
        where = ", ".join((cluster.get("services") or cluster.get("hosts") or [])[:3])
        events.append(_event(cluster["first_seen"], "cluster_open",
                             f"{cluster['size']} alerts: {cluster['template']}"
                             + (f" on {where}" if where else ""), cluster["id"]))
        if cluster.get("status") == "resolved":
            events.append(_event(cluster["last_seen"], "cluster_close",
                                 f"cluster resolved: {cluster['template']}", cluster["id"]))
    for model in report.get("models", []):
        for drift in model.get("drift", []):
            if drift.get("onset"):
                events.append(_event(drift["onset"], "drift",
                                     f"{model['model']} v{model['version']}: "
                                     f"{drift['feature']} drifts ({drift['method']})",
                                     f"{model['model']}/{model['version']}"))
    for pipeline in report.get("pipelines", []):
        for run in pipeline.get("failed_runs", []):
            events.append(_event(run["ts"], "ci_failure",
                                 f"{pipeline['repo']} {pipeline['workflow']} failed",
                                 run.get("url")))
    tops = {c.get("incident"): c for c in report.get("root_cause_candidates", [])
            if c.get("rank") == 1}
    for incident in report.get("incidents", []):
        top = tops.get(incident.get("id"))
        if top is None or not incident.get("onset"):
            continue
        where = ", ".join(incident.get("services") or []) or "?"
        lead = "" if top["kind"] == "symptom" else "likely cause "
        event = _event(incident["onset"], "cause",
                       f"incident on {where}: {lead}{top['summary']} ({top['score']:.2f})",
                       top["ref"])
        event["evidence"] = list(top.get("evidence", []))
        event["cause_kind"] = top["kind"]
        events.append(event)
    for note in notes:
        events.append(_event(note["ts"], "note", f"{note['kind']}: {note['text']}",
                             note.get("target") or None))
    return sorted(events, key=lambda e: (e["ts"], KINDS.index(e["kind"]), e["summary"]))


def _event(ts: str, kind: str, summary: str, ref: str | None) -> dict[str, Any]:
    return {"ts": ts, "kind": kind, "summary": summary, "ref": ref}
