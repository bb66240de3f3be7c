"""Charts for the HTML report, drawn by matplotlib as inline SVG (no external assets).

The one-timeline chart puts alert arrivals, anomaly episodes and changes on one time
axis; one small chart per top anomaly shows its series with the episode shaded.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from opscockpit.store import Store
from opscockpit.store.report_queries import alert_times, series_values

MAX_SERIES_CHARTS = 4


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # headless: cron and CI have no display
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9,
                         "svg.hashsalt": "opscockpit"})  # stable ids: same input, same SVG
    return plt


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype for inlining


def _ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def build_charts(store: Store, report: dict[str, Any]) -> list[tuple[str, str]]:
    """``(title, svg)`` pairs, most important first."""
    plt = _pyplot()
    charts = []
    timeline = _timeline_chart(plt, store, report)
    if timeline is not None:
        charts.append(("What happened, on one time axis", timeline))
    for anomaly in (report.get("anomalies") or [])[:MAX_SERIES_CHARTS]:
        chart = _series_chart(plt, store, report, anomaly)
        if chart is not None:
            charts.append((f"{anomaly['series']}: episode shaded", chart))
    return charts


def _timeline_chart(plt: Any, store: Store, report: dict[str, Any]) -> str | None:
    start, end = _ts(report["window"]["from"]), _ts(report["window"]["to"])
    times = alert_times(store, start, end)
    if not times and not report.get("anomalies") and not report.get("changes"):
        return None
    fig, ax = plt.subplots(figsize=(9, 2.6))
    if times:
        ax.hist(times, bins=min(120, max(10, len(times) // 5)), color="#4c78a8",
                label="alerts per bin")
    for anomaly in report.get("anomalies") or []:
        a, b = _ts(anomaly["start"]), _ts(anomaly["end"]) or end
        ax.axvspan(a, b, color="#e45756", alpha=0.08)
    for change in report.get("changes") or []:
        ax.axvline(_ts(change["ts"]), color="#f58518", linewidth=1.5)
        ax.annotate(f"{change['kind']} {change.get('service') or ''}", (_ts(change["ts"]), 1),
                    xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize=7, color="#f58518")
    ax.set_ylabel("alerts")
    ax.set_title("alerts (bars), anomaly episodes (red), changes (orange)", fontsize=9)
    fig.autofmt_xdate()
    svg = _svg(fig)
    plt.close(fig)
    return svg


def _series_chart(plt: Any, store: Store, report: dict[str, Any],
                  anomaly: dict[str, Any]) -> str | None:
    start, end = _ts(anomaly["start"]), _ts(anomaly["end"])
    window_end = _ts(report["window"]["to"])
    span = ((end or window_end) - start) if (end or window_end) and start else None
    if start is None or span is None:
        return None
    # Show as much calm before and after as the episode lasted: the eye needs the contrast.
    margin = min(max(span, timedelta(minutes=10)), timedelta(hours=6))
    points = series_values(store, anomaly["host"], anomaly["metric"], start - margin,
                           (end or window_end) + margin)
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(9, 1.9))
    ax.plot([t for t, _ in points], [v for _, v in points], color="#4c78a8", linewidth=1)
    ax.axvspan(start, end or window_end, color="#e45756", alpha=0.18)
    ax.set_ylabel(anomaly["metric"], fontsize=8)
    fig.autofmt_xdate()
    svg = _svg(fig)
    plt.close(fig)
    return svg
