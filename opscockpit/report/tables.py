"""Which fields of each report section become table columns, in which order.

Markdown and HTML share these so the two renderings never disagree.
"""

from __future__ import annotations

from typing import Any

# section -> [(column title, field name)]
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "hosts": [("host", "host"), ("CPU %", "cpu_pct"), ("mem %", "mem_pct"),
              ("anomalies", "anomalies")],
    "anomalies": [("series", "series"), ("start", "start"), ("end", "end"),
                  ("peak score", "peak_score")],
    "alert_clusters": [("severity", "severity"), ("size", "size"), ("template", "template"),
                       ("hosts", "hosts"), ("services", "services"),
                       ("first seen", "first_seen"), ("last seen", "last_seen"),
                       ("status", "status")],
    "pipelines": [("repo", "repo"), ("workflow", "workflow"), ("runs", "runs"),
                  ("failures", "failures"), ("failure rate", "failure_rate"),
                  ("p50 s", "duration_p50_s"), ("p95 s", "duration_p95_s"),
                  ("flaky jobs", "flaky_jobs")],
    "changes": [("time", "ts"), ("kind", "kind"), ("service", "service"),
                ("version", "version"), ("sha", "sha"), ("link", "url")],
    "models": [("model", "model"), ("version", "version"), ("status", "status"),
               ("drifted features", "drifted_features")],
    "timeline": [("time", "ts"), ("kind", "kind"), ("what", "summary")],
    "root_cause_candidates": [("incident", "incident"), ("rank", "rank"), ("kind", "kind"),
                              ("candidate", "summary"), ("score", "score")],
}
TITLES = {
    "hosts": "Hosts", "anomalies": "Anomalies", "alert_clusters": "Alert clusters",
    "pipelines": "Pipelines", "changes": "Changes", "models": "Models",
    "timeline": "Timeline", "root_cause_candidates": "Root-cause candidates",
}
MAX_ROWS = 200


def cell(value: Any) -> str:
    """A field as table text: lists joined, floats trimmed, missing as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return f"{len(value)}"
        shown = ", ".join(cell(v) for v in value[:5])
        return shown + (f" (+{len(value) - 5})" if len(value) > 5 else "")
    return str(value)


def model_rows(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**m, "drifted_features": sum(1 for d in m.get("drift", []) if d.get("drifted"))}
            for m in models]


def rows(report: dict[str, Any], section: str) -> list[dict[str, Any]]:
    data = report.get(section) or []
    if section == "models":
        data = model_rows(data)
    return list(data)[:MAX_ROWS]


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The few sentences at the top: what broke, since when, noise cut, likely cause."""
    lines: list[str] = []
    candidates = report.get("root_cause_candidates") or []
    if candidates:
        top = candidates[0]
        lines.append(f"Most likely cause: {top['summary']} (score {top['score']:.2f}).")
        lines.extend(f"  - {e}" for e in top.get("evidence", [])[:4])
    anomalies = report.get("anomalies") or []
    if anomalies:
        first = min(anomalies, key=lambda a: a["start"])
        lines.append(f"{len(anomalies)} anomaly episodes; the first on {first['series']} at "
                     f"{first['start']}.")
    clusters = report.get("alert_clusters") or []
    noise = report.get("noise") or {}
    if clusters:
        lines.append(f"{noise.get('alerts', '?')} alerts in {len(clusters)} clusters "
                     f"(noise cut {cell(noise.get('reduction_ratio'))}); the biggest: "
                     f"{clusters[0]['template']} ({clusters[0]['size']} alerts).")
    failing = [p for p in report.get("pipelines") or [] if p.get("failures")]
    if failing:
        lines.append(f"{len(failing)} pipelines with failures.")
    drifting = [m for m in report.get("models") or [] if m.get("status") not in {"healthy"}]
    if drifting:
        lines.append("Models needing attention: "
                     + ", ".join(f"{m['model']} v{m['version']} ({m['status']})"
                                 for m in drifting[:5]) + ".")
    if not lines:
        lines.append("Nothing anomalous in this window.")
    return lines
