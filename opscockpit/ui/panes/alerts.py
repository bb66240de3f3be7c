"""The Alerts pane."""

from __future__ import annotations

from opscockpit.ui.panes.empty import DomainPane


class AlertsPane(DomainPane):
    what = "alert"

    def __init__(self) -> None:
        super().__init__("Alerts", id="alerts")
