"""One builder computes the report structure the renderers and the TUI share.

Each section is a function ``(store, window) -> {top-level key: value}`` in its own
module, registered below and imported only when a report is built. Sections use the
same analysis functions the panes use, so the TUI and the report never disagree.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opscockpit import __version__
from opscockpit.report.timeline import build_timeline
from opscockpit.store import Store
from opscockpit.store.report_queries import notes_in_window

SCHEMA = "opscockpit.report/1"

# Report keys in DESIGN.md order, each with the section function that fills it.
SECTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("hosts",), "opscockpit.report.hosts:hosts_section"),
    (("anomalies",), "opscockpit.report.anomalies:anomalies_section"),
    (("alert_clusters", "noise"), "opscockpit.report.alerts:alerts_section"),
    (("pipelines", "dora", "changes"), "opscockpit.report.pipelines:pipelines_section"),
    (("models",), "opscockpit.report.models:models_section"),
    (("root_cause_candidates", "root_cause_accuracy", "incidents"),
     "opscockpit.report.root_cause:root_cause_section"),
)
ALL_KEYS = ("window", "hosts", "anomalies", "alert_clusters", "noise", "pipelines", "dora",
            "changes", "models", "timeline", "root_cause_candidates")


@dataclass(frozen=True, slots=True)
class ReportWindow:
    start: datetime | None
    end: datetime | None

    @classmethod
    def of(cls, store: Store, start: datetime | None, end: datetime | None) -> ReportWindow:
        """Without bounds a report covers everything in its source (DESIGN.md)."""
        lo, hi = store.time_span()
        return cls(start or lo, end or hi)


def build_report(store: Store, start: datetime | None = None,
                 end: datetime | None = None) -> dict[str, Any]:
    window = ReportWindow.of(store, start, end)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "generator": f"opscockpit {__version__}",
        "window": {"from": iso(window.start), "to": iso(window.end)},
    }
    for keys, target in SECTIONS:
        module, _, name = target.partition(":")
        produced = getattr(importlib.import_module(module), name)(store, window)
        missing = set(keys) - set(produced)
        if missing:
            raise RuntimeError(f"section {target} did not fill {sorted(missing)}")
        report.update(produced)
    for key in ALL_KEYS:
        # A domain with no section yet is an empty list, never an invented figure.
        report.setdefault(key, {} if key in {"noise", "dora"} else [])
    # Imported here: the root-cause module builds on this one.
    from opscockpit.report.root_cause import attach_probable_causes

    attach_probable_causes(report)
    notes = [
        {"ts": iso(ts), "kind": kind, "text": text, "target": target}
        for ts, kind, text, target in notes_in_window(store, window.start, window.end)
    ]
    report["timeline"] = build_timeline(report, notes)
    return report


def iso(value: Any) -> str | None:
    """ISO 8601 UTC with a Z, the one timestamp format of the report."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        from opscockpit.records import utc

        return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    return str(value)
