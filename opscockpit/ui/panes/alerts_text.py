"""The Alerts pane as text: one row per cluster fitted to a width, the noise header.

Alert text is untrusted: it only ever goes into :class:`rich.text.Text` as plain text
(never parsed as markup, so ``[bold]`` in a message stays literally ``[bold]``), and
control characters are shown escaped so a message cannot drive the terminal. Severity is
always a glyph and a word as well as a colour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from opscockpit.analyzers.alerts_view import ClusterView, NoiseFigures
from opscockpit.ui.glyphs import PLAIN, Glyphs
from opscockpit.ui.render import sparkline

SLOT = re.compile(r"<(?:\*|[A-Z][A-Z0-9]*)>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SEVERITY_WORD = {"critical": "crit", "error": "err", "warning": "warn", "info": "info"}
SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "dim"}
SLOT_STYLE = "bold magenta"


@dataclass(frozen=True, slots=True)
class StateGlyphs:
    flapping: str
    growing: str
    resolved: str
    mark: dict[str, str]


# Letters for verdicts in both sets: circled letters have an ambiguous cell width.
_MARKS = {"noise": "n", "actionable": "a", "ack": "k"}
_UNICODE_STATE = StateGlyphs("⇅", "↑", "✓", _MARKS)
_PLAIN_STATE = StateGlyphs("~", "^", "v", _MARKS)


def state_glyphs(glyphs: Glyphs) -> StateGlyphs:
    return _PLAIN_STATE if glyphs == PLAIN else _UNICODE_STATE


def clean(text: str) -> str:
    """Untrusted text made safe to show: control characters become visible escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def severity_glyph(severity: str, glyphs: Glyphs) -> str:
    return {"critical": glyphs.crit, "error": glyphs.crit, "warning": glyphs.warn}.get(
        severity, glyphs.idle)


def severity_text(severity: str, glyphs: Glyphs) -> Text:
    word = SEVERITY_WORD.get(severity, severity[:4])
    text = Text()  # styled as a span: a base style would colour everything appended
    text.append(f"{severity_glyph(severity, glyphs)} {word:<4}",
                style=SEVERITY_STYLE.get(severity, ""))
    return text


def template_text(template: str, style: str = "") -> Text:
    """A template with its variable slots (``<NUM>``, ``<IP>``, ``<*>``) highlighted."""
    text = Text(style=style)
    position = 0
    for m in SLOT.finditer(template):
        text.append(clean(template[position:m.start()]))
        text.append(m.group(0), style=SLOT_STYLE)
        position = m.end()
    text.append(clean(template[position:]))
    return text


def size_text(n: int) -> str:
    if n < 10_000:
        return f"{n:>5}"
    if n < 1_000_000:
        return f"{n / 1000:>4.0f}k"
    return f"{n / 1e6:>4.1f}M"


def hosts_text(hosts: tuple[str, ...], width: int) -> str:
    if not hosts:
        return "-".ljust(width)
    more = f"+{len(hosts) - 1}" if len(hosts) > 1 else ""
    first = clean(hosts[0])
    room = width - len(more)
    if len(first) > room:
        first = first[: max(1, room - 1)] + "…"
    return (first + more).ljust(width)[:width]


def status_mark(cluster: ClusterView, glyphs: Glyphs) -> Text:
    """One cell: flapping, growing or resolved (in that order), else blank."""
    g = state_glyphs(glyphs)
    if cluster.status == "flapping":
        return Text(g.flapping, style="bold yellow")
    if cluster.growing:
        return Text(g.growing, style="bold red")
    if cluster.status == "resolved":
        return Text(g.resolved, style="green")
    return Text(" ")


def mark_cell(cluster: ClusterView, glyphs: Glyphs) -> Text:
    g = state_glyphs(glyphs)
    if cluster.mark:
        return Text(g.mark[cluster.mark], style="cyan")
    if cluster.acknowledged:
        return Text(g.mark["ack"], style="cyan")
    return Text(" ")


def status_word(cluster: ClusterView) -> str:
    if cluster.status == "open" and cluster.growing:
        return "growing"
    return cluster.status


def mark_word(cluster: ClusterView) -> str:
    words = [cluster.mark] if cluster.mark else []
    if cluster.acknowledged:
        words.append("ack")
    return ",".join(words)


@dataclass(frozen=True, slots=True)
class Layout:
    """Which optional columns a width affords, and how wide they are."""

    spark: int
    hosts: int
    seen: int  # 0, 5 (last seen) or 11 (first-last)
    words: bool  # status and mark as words


def layout(width: int) -> Layout:
    # The template is what the operator reads: the other columns leave it half the row.
    if width >= 140:
        return Layout(spark=30, hosts=22, seen=11, words=True)
    if width >= 110:
        return Layout(spark=16, hosts=14, seen=11, words=True)
    if width >= 70:
        return Layout(spark=8, hosts=10, seen=5, words=False)
    if width >= 44:
        return Layout(spark=6, hosts=0, seen=0, words=False)
    return Layout(spark=0, hosts=0, seen=0, words=False)


def cluster_row(cluster: ClusterView, width: int, glyphs: Glyphs) -> Text:
    """``✖ crit ↑ⓝ   180 ▁▃█▅ web-1+4 09:12-09:31 HealthCheck health check failed…``"""
    lay = layout(width)
    row = severity_text(cluster.severity, glyphs)
    row.append(" ")
    row.append_text(status_mark(cluster, glyphs))
    row.append_text(mark_cell(cluster, glyphs))
    row.append(size_text(cluster.size), style="bold")
    if lay.spark:
        row.append(" ")
        row.append(sparkline(cluster.arrivals, lay.spark, glyphs).rjust(lay.spark),
                   style="cyan")
    if lay.hosts:
        row.append(" " + hosts_text(cluster.hosts, lay.hosts))
    if lay.seen:
        row.append(" " + seen_text(cluster, lay.seen), style="dim")
    if lay.words:
        row.append(f" {status_word(cluster):<8} {mark_word(cluster):<10}",
                   style="yellow" if cluster.status == "flapping" else "")
    row.append(" ")
    row.append_text(template_text(cluster.template,
                                  style="dim" if cluster.status == "resolved" else ""))
    if len(cluster.templates) > 1:
        more = len(cluster.templates) - 1
        row.append(f" (+{more} shape{'s' if more > 1 else ''})", style="dim")
    row.no_wrap = True
    row.overflow = "ellipsis"
    row.truncate(width, overflow="ellipsis")
    return row


def seen_text(cluster: ClusterView, width: int) -> str:
    last = cluster.last_seen.strftime("%H:%M")
    if width < 11:
        return last
    return f"{cluster.first_seen.strftime('%H:%M')}-{last}"


def column_header(width: int) -> Text:
    lay = layout(width)
    head = f"{'SEV':<9}{'SIZE':>5}"
    if lay.spark:
        head += " " + f"{'/MIN':>{lay.spark}}"
    if lay.hosts:
        head += " " + "HOSTS".ljust(lay.hosts)
    if lay.seen:
        head += " " + ("FIRST-LAST" if lay.seen >= 11 else "LAST").ljust(lay.seen)
    if lay.words:
        head += f" {'STATUS':<8} {'MARK':<10}"
    text = Text(head + " TEMPLATE", style="bold reverse", no_wrap=True, overflow="ellipsis")
    text.truncate(width, pad=True)
    return text


def noise_header(noise: NoiseFigures, width: int, glyphs: Glyphs, shown: int | None = None,
                 total: int | None = None) -> Text:
    """``228 alerts → 3 clusters (98.7% less) ⇅ 1 flapping · noise 0/3 (0% of alerts)``"""
    arrow = "->" if glyphs == PLAIN else "→"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{noise.alerts} alerts {arrow} {noise.clusters} clusters", style="bold")
    text.append(f" ({noise.reduction_ratio:.0%} less)")
    parts = [f"{state_glyphs(glyphs).flapping} {noise.flapping} flapping",
             f"marked noise {noise.noise_clusters}/{noise.clusters}"]
    if width >= 100:
        parts[-1] += f" ({noise.marked_noise_alert_share:.0%} of alerts)"
    if width >= 60:
        for part in parts:
            text.append(f" {glyphs.separator} {part}", style="dim")
    else:
        text.append(f" {state_glyphs(glyphs).flapping}{noise.flapping}", style="dim")
    if shown is not None and total is not None and shown != total:
        text.append(f" {glyphs.separator} showing {shown}/{total}", style="bold yellow")
    text.truncate(width, overflow="ellipsis")
    return text


def when(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")
