"""The replay scrubber: play state, speed, virtual time, and where the events are."""

from __future__ import annotations

from rich.text import Text

from opscockpit.replay import ReplayState
from opscockpit.ui.glyphs import Glyphs
from opscockpit.ui.text_view import TextView


class ReplayBar(TextView):
    def __init__(self, glyphs: Glyphs) -> None:
        super().__init__(id="replay-bar")
        self.glyphs = glyphs

    def show(self, state: ReplayState) -> None:
        self.set_text(scrubber(state, self.content_size.width or 80, self.glyphs))


def scrubber(state: ReplayState, width: int, glyphs: Glyphs) -> Text:
    """``▶ 60x 10:42:07 |··│·····●········│··| 12:00`` with event marks under the track."""
    plain = glyphs.bar_full == "#"
    play = ("||" if state.paused else ">") if plain else ("‖" if state.paused else "▶")
    head = Text()
    head.append(f"{play} ", style="bold")
    head.append("PAUSED " if state.paused else f"{state.speed:g}x ", style="bold magenta")
    head.append(state.now.strftime("%Y-%m-%d %H:%M:%S "))
    fmt = "%H:%M" if (state.end - state.start).total_seconds() >= 3600 else "%H:%M:%S"
    tail = Text(f" {state.end:{fmt}}")
    track_w = max(10, width - len(head) - len(tail) - len(f"{state.start:{fmt}} ") - 2)
    # Event density per cell, drawn as rising blocks: a storm stands out from one alert.
    counts = [0] * track_w
    for mark in state.marks:
        counts[min(track_w - 1, int(mark * track_w))] += 1
    levels = "_.-=#" if plain else "▁▂▄▆█"
    top = max(counts) or 1
    cursor = min(track_w - 1, int(state.position * track_w))
    text = head
    text.append(f"{state.start:{fmt}} ")
    text.append("[")
    for i, count in enumerate(counts):
        if i == cursor:
            text.append("@" if plain else "●", style="bold reverse")
        elif count:
            level = min(len(levels) - 1, int(count / top * (len(levels) - 1) + 0.999))
            text.append(levels[level], style="yellow")
        else:
            text.append(" " if not plain else ".", style="dim")
    text.append("]")
    text.append_text(tail)
    text.no_wrap = True
    return text
