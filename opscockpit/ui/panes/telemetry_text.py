"""The Telemetry pane's figures as text: bars, words and sparklines fitted to a width."""

from __future__ import annotations

from rich.text import Text

from opscockpit.config import Thresholds
from opscockpit.snapshot import TelemetryView
from opscockpit.ui.glyphs import Glyphs, level
from opscockpit.ui.render import LEVEL_STYLE, bar, human_bytes, human_rate, sparkline

LABEL = 5


def telemetry_text(view: TelemetryView, width: int, limits: Thresholds, glyphs: Glyphs) -> Text:
    width = max(30, width)
    spark_w = max(0, min(30, (width - 30) // 2))
    bar_w = max(8, width - LABEL - 10 - (spark_w + 1 if spark_w else 0))
    out = Text()
    cpu = view.value("cpu_pct")
    _gauge(out, "CPU", cpu, limits.cpu_warn_pct, limits.cpu_crit_pct, bar_w, glyphs)
    _spark(out, view.history.get("cpu_pct", ()), spark_w, glyphs, top=100)
    out.append("\n")
    _cores(out, view.labelled("cpu_pct"), width, limits, glyphs)
    if "load1" in view.latest:
        out.append(f"{'Load':<{LABEL}}", style="bold")
        out.append(
            f"{view.value('load1'):.2f} {view.value('load5'):.2f} {view.value('load15'):.2f}"
        )
        _spark(out, view.history.get("load1", ()), spark_w, glyphs)
        out.append("\n")
    mem = view.value("mem_pct")
    _gauge(out, "Mem", mem, limits.mem_warn_pct, limits.mem_crit_pct, bar_w, glyphs)
    _spark(out, view.history.get("mem_pct", ()), spark_w, glyphs, top=100)
    out.append(
        f"\n{'':<{LABEL}}{human_bytes(view.value('mem_used_bytes'))}"
        f" of {human_bytes(view.value('mem_total_bytes'))}"
    )
    swap = human_bytes(view.value("swap_used_bytes"))
    out.append(f"   swap {view.value('swap_pct'):.0f}% {swap}\n")
    for mount, pct in view.labelled("disk_pct").items():
        name = mount if len(mount) <= LABEL - 1 else mount[: LABEL - 2] + "…"
        _gauge(out, name, pct, limits.disk_warn_pct, limits.disk_crit_pct, bar_w, glyphs)
        out.append("\n")
    out.append(f"{'Net':<{LABEL}}", style="bold")
    rx, tx = human_rate(view.value("net_rx_bps")), human_rate(view.value("net_tx_bps"))
    out.append(f"rx {rx:>9}  tx {tx:>9}")
    _spark(out, view.history.get("net_rx_bps", ()), spark_w - 1, glyphs)
    out.append(f"\n{'Disk':<{LABEL}}", style="bold")
    out.append(
        f"rd {human_rate(view.value('disk_read_bps')):>9}  wr "
        f"{human_rate(view.value('disk_write_bps')):>9}"
    )
    _spark(out, view.history.get("disk_write_bps", ()), spark_w - 1, glyphs)
    temps = view.labelled("temp_c")
    if temps:
        hottest = max(temps.items(), key=lambda kv: kv[1])
        out.append(f"\n{'Temp':<{LABEL}}", style="bold")
        out.append(f"{hottest[1]:.0f}°C max ({hottest[0]}), {len(temps)} sensors")
    return out


def _gauge(out: Text, label: str, pct: float, warn: float, crit: float, width: int,
           glyphs: Glyphs) -> None:
    word = level(pct, warn, crit)
    out.append(f"{label:<{LABEL}}", style="bold")
    out.append_text(bar(pct, width, glyphs, LEVEL_STYLE[word]))
    out.append(f" {pct:3.0f}% ")
    out.append(f"{word:<4}", style=LEVEL_STYLE[word])


def _spark(out: Text, values: tuple[float, ...], width: int, glyphs: Glyphs,
           top: float | None = None) -> None:
    if width > 0 and values:
        out.append(" " + sparkline(values, width, glyphs, top), style="cyan")


def _cores(out: Text, cores: dict[str, float], width: int, limits: Thresholds,
           glyphs: Glyphs) -> None:
    if len(cores) <= 1:
        return
    cell = 14
    per_line = max(1, width // cell)
    for i, (core, pct) in enumerate(cores.items()):
        word = level(pct, limits.cpu_warn_pct, limits.cpu_crit_pct)
        out.append(f"{core:>3} ", style="dim")
        out.append_text(bar(pct, 5, glyphs, LEVEL_STYLE[word]))
        out.append(f"{pct:3.0f}% ")
        if (i + 1) % per_line == 0 or i == len(cores) - 1:
            out.append("\n")
