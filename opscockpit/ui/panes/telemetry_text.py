"""The Telemetry pane's figures as text: bars, words and sparklines fitted to a width.

Every row is ``label | body | sparkline`` so sparklines line up in one column, and
a wide pane spends its extra width on history rather than on longer bars.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from opscockpit.analyzers.anomalies import AnomalyMark
from opscockpit.analyzers.telemetry import HOST_PREFIXES, MAX_OTHER
from opscockpit.config import Thresholds
from opscockpit.snapshot import TelemetryView
from opscockpit.ui.glyphs import Glyphs, level
from opscockpit.ui.render import LEVEL_STYLE, bar, human_bytes, human_rate, sparkline

LABEL = 5
FIGURE = 10  # " 100% crit"


def telemetry_text(view: TelemetryView, width: int, limits: Thresholds, glyphs: Glyphs,
                   anomalous: Mapping[str, AnomalyMark] | None = None) -> Text:
    """``anomalous`` maps a metric to its anomaly: its row gets a marker glyph and colour."""
    width = max(32, width)
    bar_w = max(8, min(40, int(width * 0.35)))
    body_w = bar_w + FIGURE
    spark_w = max(0, width - LABEL - body_w - 1)
    rows = _Rows(body_w, spark_w, glyphs, anomalous or {})

    has = view.latest.__contains__
    if has("cpu_pct"):
        cpu = view.value("cpu_pct")
        rows.add("CPU", _gauge(cpu, limits.cpu_warn_pct, limits.cpu_crit_pct, bar_w, glyphs),
                 view.history.get("cpu_pct", ()), top=100)
        _cores(rows.out, view.labelled("cpu_pct"), width, limits, glyphs)
    if has("load1"):
        load = f"{view.value('load1'):.2f} {view.value('load5'):.2f} {view.value('load15'):.2f}"
        rows.add("Load", Text(load), view.history.get("load1", ()))
    if has("mem_pct"):
        mem = view.value("mem_pct")
        rows.add("Mem", _gauge(mem, limits.mem_warn_pct, limits.mem_crit_pct, bar_w, glyphs),
                 view.history.get("mem_pct", ()), top=100)
    if has("mem_total_bytes"):
        used = human_bytes(view.value("mem_used_bytes"))
        total = human_bytes(view.value("mem_total_bytes"))
        swap = f"swap {view.value('swap_pct'):.0f}% {human_bytes(view.value('swap_used_bytes'))}"
        rows.add("", Text(f"{used} of {total}  {swap}", style="dim"))
    for mount, pct in view.labelled("disk_pct").items():
        name = mount if len(mount) <= LABEL - 1 else mount[: LABEL - 2] + "…"
        rows.add(name, _gauge(pct, limits.disk_warn_pct, limits.disk_crit_pct, bar_w, glyphs),
                 metric=f"disk_pct{{mount={mount}}}")
    if has("net_rx_bps"):
        rx, tx = human_rate(view.value("net_rx_bps")), human_rate(view.value("net_tx_bps"))
        rows.add("Net", Text(f"rx {rx:>9} tx {tx:>9}"), view.history.get("net_rx_bps", ()))
    if has("disk_write_bps"):
        rd, wr = human_rate(view.value("disk_read_bps")), human_rate(view.value("disk_write_bps"))
        rows.add("Disk", Text(f"rd {rd:>9} wr {wr:>9}"), view.history.get("disk_write_bps", ()))
    temps = view.labelled("temp_c")
    if temps:
        sensor, hottest = max(temps.items(), key=lambda kv: kv[1])
        rows.add("Temp", Text(f"{hottest:.0f}°C max of {len(temps)} ({sensor})"))
    for metric in other_metrics(view):
        rows.add_series(metric, view.value(metric), view.history.get(metric, ()))
    _anomaly_lines(rows.out, anomalous or {}, glyphs)
    text = rows.out
    text.rstrip()
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def other_metrics(view: TelemetryView) -> list[str]:
    """Series that are not host gauges (app latency, imported CSVs): shown one per row."""
    return sorted(m for m in view.latest if not m.startswith(HOST_PREFIXES))[:MAX_OTHER]


# Which metric each row stands for, so an anomaly on it marks the row.
ROW_METRICS = {"CPU": "cpu_pct", "Load": "load1", "Mem": "mem_pct", "Net": "net_rx_bps",
               "Disk": "disk_write_bps"}


SERIES_LABEL = 16


class _Rows:
    def __init__(self, body_w: int, spark_w: int, glyphs: Glyphs,
                 anomalous: Mapping[str, AnomalyMark]) -> None:
        self.out = Text()
        self.body_w = body_w
        self.spark_w = spark_w
        self.glyphs = glyphs
        self.anomalous = anomalous

    def add(self, label: str, body: Text, history: tuple[float, ...] = (),
            top: float | None = None, metric: str | None = None) -> None:
        metric = metric or ROW_METRICS.get(label)
        mark = self.anomalous.get(metric or "")
        if mark is not None:
            # Glyph and colour: an anomaly must read on a 16-colour or no-colour terminal.
            glyph = self.glyphs.crit if mark.open else self.glyphs.warn
            self.out.append(f"{label[:LABEL - 2]:<{LABEL - 2}}{glyph} ", style="bold magenta")
        else:
            self.out.append(f"{label:<{LABEL}}", style="bold")
        if history and self.spark_w > 0:
            body = body.copy()
            body.truncate(self.body_w, pad=True)
            self.out.append_text(body)
            self.out.append(" " + sparkline(history, self.spark_w, self.glyphs, top),
                            style="cyan")
        else:
            self.out.append_text(body)
        self.out.append("\n")

    def add_series(self, metric: str, value: float, history: tuple[float, ...]) -> None:
        """A generic series: its name, its latest value, its sparkline."""
        mark = self.anomalous.get(metric)
        name = metric if len(metric) <= SERIES_LABEL - 2 else metric[: SERIES_LABEL - 3] + "…"
        if mark is not None:
            glyph = self.glyphs.crit if mark.open else self.glyphs.warn
            self.out.append(f"{name:<{SERIES_LABEL - 2}}{glyph} ", style="bold magenta")
        else:
            self.out.append(f"{name:<{SERIES_LABEL}}", style="bold")
        self.out.append(f"{_fmt(value):>10}")
        spark_w = self.spark_w + self.body_w - SERIES_LABEL - 10 + LABEL - 1
        if history and spark_w > 0:
            self.out.append(" " + sparkline(history, spark_w, self.glyphs), style="cyan")
        self.out.append("\n")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _anomaly_lines(out: Text, anomalous: Mapping[str, AnomalyMark], glyphs: Glyphs) -> None:
    """The anomalous series, open ones first: what the markers above refer to."""
    marks = sorted(anomalous.values(), key=lambda m: (not m.open, -m.peak_score))
    for mark in marks[:4]:
        glyph = glyphs.crit if mark.open else glyphs.warn
        when = (f"since {mark.start:%H:%M:%S}" if mark.end is None
                else f"{mark.start:%H:%M}–{mark.end:%H:%M}")
        out.append(f"{glyph} anomaly ", style="bold magenta")
        out.append(f"{mark.metric} {when}, score {mark.peak_score:.2f}")
        if mark.reason:
            out.append(f", {mark.reason}", style="dim")
        out.append("\n")
    if len(marks) > 4:
        out.append(f"  … and {len(marks) - 4} more anomalous series\n", style="dim")


def _gauge(pct: float, warn: float, crit: float, width: int, glyphs: Glyphs) -> Text:
    word = level(pct, warn, crit)
    text = bar(pct, width, glyphs, LEVEL_STYLE[word])
    text.append(f" {pct:3.0f}% ")
    text.append(f"{word:<4}", style=LEVEL_STYLE[word])
    return text


def _cores(out: Text, cores: dict[str, float], width: int, limits: Thresholds,
           glyphs: Glyphs) -> None:
    if len(cores) <= 1:
        return
    digits = len(str(len(cores) - 1))
    cell_bar = 5 if width < 100 else 8
    cell = digits + 1 + cell_bar + 6
    per_line = max(1, (width - LABEL) // cell)
    for i, (core, pct) in enumerate(cores.items()):
        if i % per_line == 0:
            out.append(" " * LABEL)
        word = level(pct, limits.cpu_warn_pct, limits.cpu_crit_pct)
        out.append(f"{core:>{digits}} ", style="dim")
        out.append_text(bar(pct, cell_bar, glyphs, LEVEL_STYLE[word]))
        out.append(f"{pct:4.0f}% ")
        if (i + 1) % per_line == 0 or i == len(cores) - 1:
            out.append("\n")
