"""The report as Markdown: a summary, then one table per section."""

from __future__ import annotations

from typing import Any

from opscockpit.report.tables import COLUMNS, TITLES, cell, rows, summary_lines

ORDER = ("root_cause_candidates", "hosts", "anomalies", "alert_clusters", "pipelines",
         "changes", "models", "timeline")


def md_escape(text: str) -> str:
    """Alert and log text is untrusted: no raw HTML, no broken tables, one line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|").replace("`", "\\`")
    return " ".join(text.split())


def render_markdown(report: dict[str, Any]) -> str:
    out = ["# opscockpit report", ""]
    window = report["window"]
    out.append(f"Window: {window['from'] or '–'} → {window['to'] or '–'} · "
               f"{report.get('generator', '')} · schema `{report['schema']}`")
    out += ["", "## Summary", ""]
    out += [md_escape(line) if not line.startswith("  - ") else "  - " + md_escape(line[4:])
            for line in summary_lines(report)]
    for section in ORDER:
        data = rows(report, section)
        out += ["", f"## {TITLES[section]}", ""]
        if section == "alert_clusters" and report.get("noise"):
            noise = report["noise"]
            out += ["Noise: " + ", ".join(f"{k.replace('_', ' ')} {cell(v)}"
                                          for k, v in noise.items()), ""]
        if section == "pipelines" and report.get("dora"):
            dora = report["dora"]
            out += ["DORA: " + ", ".join(
                f"{k.replace('_', ' ')} {cell(dora.get(k))}"
                for k in ("deployment_frequency_per_day", "lead_time_p50_s",
                          "change_failure_rate", "time_to_restore_p50_s")), ""]
        if not data:
            out.append("None in this window.")
            continue
        columns = COLUMNS[section]
        out.append("| " + " | ".join(title for title, _ in columns) + " |")
        out.append("|" + "|".join(" --- " for _ in columns) + "|")
        for row in data:
            out.append("| " + " | ".join(md_escape(cell(row.get(f))) for _, f in columns) + " |")
        if section == "root_cause_candidates":
            for row in data[:3]:
                out += ["", f"Evidence for #{row['rank']}:"]
                out += [f"- {md_escape(e)}" for e in row.get("evidence", [])]
    return "\n".join(out) + "\n"
