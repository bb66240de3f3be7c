"""The report's ``anomalies`` section: every episode in the window, strongest first."""

from __future__ import annotations

from typing import Any

from opscockpit.report.builder import ReportWindow, iso
from opscockpit.store import Store
from opscockpit.store.anomaly_queries import anomalies_in_window


def anomalies_section(store: Store, window: ReportWindow) -> dict[str, Any]:
    frame = anomalies_in_window(store, window.start, window.end)
    return {
        "anomalies": [
            {
                "series": row.series,
                "host": row.host or "",
                "metric": row.metric,
                "start": iso(row.start),
                "end": iso(row.end) if row.end is not None and row.end == row.end else None,
                "peak_score": round(float(row.peak_score), 4),
                "peak_ts": iso(row.peak_ts),
            }
            for row in frame.itertuples(index=False)
        ]
    }
