"""The Models pane."""

from __future__ import annotations

from opscockpit.ui.panes.empty import DomainPane


class ModelsPane(DomainPane):
    what = "model"

    def __init__(self) -> None:
        super().__init__("Models", id="models")
