"""The top line: host, clock, live/replay mode and the health of every source."""

from __future__ import annotations

from rich.text import Text

from opscockpit.snapshot import Snapshot
from opscockpit.sources.base import HealthState
from opscockpit.ui.glyphs import HEALTH_WORD, Glyphs, health_glyph
from opscockpit.ui.text_view import TextView

HEALTH_STYLE = {
    HealthState.OK: "green",
    HealthState.STALE: "yellow",
    HealthState.ERROR: "bold red",
    HealthState.STARTING: "dim",
}


class StatusBar(TextView):
    def __init__(self, glyphs: Glyphs) -> None:
        super().__init__(id="status-bar")
        self.glyphs = glyphs

    def show(self, snapshot: Snapshot | None, *, frozen: bool, recording: bool = False) -> None:
        self.set_text(status_text(snapshot, self.glyphs, frozen=frozen, recording=recording))


def status_text(snapshot: Snapshot | None, glyphs: Glyphs, *, frozen: bool,
                recording: bool = False) -> Text:
    sep = f" {glyphs.separator} "
    text = Text("opscockpit", style="bold")
    if snapshot is None:
        text.append(sep + "starting…")
        return text
    if snapshot.host:
        text.append(sep + snapshot.host)
    text.append(sep + snapshot.now.strftime("%Y-%m-%d %H:%M:%S UTC"))
    mode = "LIVE" if snapshot.live else "REPLAY"
    text.append(sep)
    text.append(mode, style="bold green" if snapshot.live else "bold magenta")
    if frozen:
        text.append(" FROZEN", style="bold yellow")
    if recording:
        text.append(" REC", style="bold red")
    if snapshot.readonly:
        text.append(" read-only", style="dim")
    for health in snapshot.health:
        text.append(sep)
        glyph = health_glyph(health.state, glyphs)
        text.append(f"{glyph} {health.name} {HEALTH_WORD[health.state]}",
                    style=HEALTH_STYLE[health.state])
        if health.reason:
            text.append(f" ({health.reason})", style="dim")
    return text
