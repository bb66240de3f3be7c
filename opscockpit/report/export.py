"""Write the report of a store up to a time in every format: the TUI's export key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from opscockpit.report.builder import build_report
from opscockpit.report.charts import build_charts
from opscockpit.report.render_html import render_html
from opscockpit.report.render_json import render_json
from opscockpit.report.render_md import render_markdown
from opscockpit.store import Store


def export_report(store: Store, now: datetime, folder: Path) -> list[Path]:
    report = build_report(store, None, now)
    stem = folder / f"opscockpit-report-{now:%Y%m%d-%H%M%S}"
    texts = {
        "md": render_markdown(report),
        "json": render_json(report),
        "html": render_html(report, build_charts(store, report)),
    }
    paths = []
    for suffix, text in texts.items():
        path = stem.with_suffix(f".{suffix}")
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
