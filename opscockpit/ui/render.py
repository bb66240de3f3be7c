"""Small text renderers the panes share: bars, sparklines, human units."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from opscockpit.ui.glyphs import Glyphs

LEVEL_STYLE = {"ok": "green", "warn": "yellow", "crit": "bold red"}


def bar(pct: float, width: int, glyphs: Glyphs, style: str = "green") -> Text:
    pct = min(100.0, max(0.0, pct))
    filled = round(pct / 100 * width)
    text = Text(glyphs.bar_full * filled, style=style)
    text.append(glyphs.bar_empty * (width - filled), style="dim")
    return text


def sparkline(values: Sequence[float], width: int, glyphs: Glyphs, top: float | None = None) -> str:
    """The last ``width`` values as block characters, scaled to ``top`` or their max."""
    if width <= 0 or not values:
        return ""
    tail = list(values)[-width:]
    high = top if top is not None else max(tail)
    ticks = glyphs.spark
    if high <= 0:
        return ticks[0] * len(tail)
    steps = len(ticks) - 1
    return "".join(ticks[min(steps, max(0, round(v / high * steps)))] for v in tail)


def human_bytes(n: float) -> str:
    units = ("B", "K", "M", "G", "T", "P")
    value = float(n)
    for unit in units:
        if abs(value) < 1024 or unit == units[-1]:
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}P"


def human_rate(bytes_per_s: float) -> str:
    return human_bytes(bytes_per_s) + "/s"
