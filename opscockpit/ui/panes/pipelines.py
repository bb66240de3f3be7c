"""The Pipelines pane."""

from __future__ import annotations

from opscockpit.ui.panes.empty import DomainPane


class PipelinesPane(DomainPane):
    what = "CI pipeline"

    def __init__(self) -> None:
        super().__init__("Pipelines", id="pipelines")
