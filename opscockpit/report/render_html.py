"""The report as one self-contained HTML file: inline CSS and SVG, no scripts.

Rendered by Jinja2 with autoescape on, so every piece of alert or log text is escaped;
only the SVG charts, which matplotlib wrote from numbers and escaped labels, are
inserted as markup.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from opscockpit.report.tables import COLUMNS, TITLES, cell, rows, summary_lines

ORDER = ("root_cause_candidates", "hosts", "anomalies", "alert_clusters", "pipelines",
         "changes", "models", "timeline")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("opscockpit.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell
    return env


def render_html(report: dict[str, Any], charts: list[tuple[str, str]]) -> str:
    template = _environment().get_template("report.html.j2")
    sections = [
        {"key": key, "title": TITLES[key], "columns": COLUMNS[key], "rows": rows(report, key)}
        for key in ORDER
    ]
    return template.render(
        report=report,
        summary=summary_lines(report),
        sections=sections,
        charts=[(title, Markup(svg)) for title, svg in charts],
    )
