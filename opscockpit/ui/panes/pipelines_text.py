"""Words, glyphs and fitted text for the Pipelines pane and its drill-down screens.

Every state is a glyph *and* a word (never colour alone); the plain glyph set keeps
them readable on 16-colour terminals and fonts without block elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.text import Text

from opscockpit.analyzers.pipelines import DoraStrip, PipelineLine
from opscockpit.sources.base import HealthState, SourceHealth
from opscockpit.ui.glyphs import HEALTH_WORD, PLAIN, Glyphs, health_glyph
from opscockpit.ui.render import sparkline

# Source kinds whose health belongs to this pane (built-in CI adapters).
CI_KINDS = frozenset({"github_actions", "gitlab_ci", "jenkins"})

# outcome -> (glyph role, long word, short word, style)
_OUTCOMES: dict[str, tuple[str, str, str, str]] = {
    "success": ("ok", "success", "pass", "green"),
    "failure": ("crit", "failure", "fail", "bold red"),
    "timed_out": ("crit", "timed out", "tmout", "bold red"),
    "startup_failure": ("crit", "failure", "fail", "bold red"),
    "unstable": ("crit", "unstable", "unstb", "red"),
    "running": ("run", "running", "run", "bold cyan"),
    "in_progress": ("run", "running", "run", "bold cyan"),
    "queued": ("idle", "queued", "queue", "yellow"),
    "pending": ("idle", "queued", "queue", "yellow"),
    "requested": ("idle", "queued", "queue", "yellow"),
    "waiting": ("warn", "waiting", "wait", "yellow"),
    "action_required": ("warn", "approval", "apprv", "yellow"),
    "cancelled": ("idle", "cancelled", "cancl", "dim"),
    "skipped": ("idle", "skipped", "skip", "dim"),
    "neutral": ("idle", "neutral", "neutr", "dim"),
    "stale": ("idle", "stale", "stale", "dim"),
}
_UNKNOWN = ("idle", "unknown", "?", "dim")
WORD_WIDTH = max(len(v[1]) for v in _OUTCOMES.values())
SHORT_WIDTH = max(len(v[2]) for v in _OUTCOMES.values())


def running_glyph(glyphs: Glyphs) -> str:
    return ">" if glyphs == PLAIN else "▶"


def outcome_glyph(outcome: str, glyphs: Glyphs) -> tuple[str, str]:
    """``(glyph, style)`` of an outcome."""
    role, _, _, style = _OUTCOMES.get(outcome, _UNKNOWN)
    if role == "run":
        return running_glyph(glyphs), style
    return getattr(glyphs, role), style


def outcome_word(outcome: str, *, short: bool = False) -> str:
    entry = _OUTCOMES.get(outcome)
    if entry is None:
        return (outcome or "unknown")[: SHORT_WIDTH if short else WORD_WIDTH]
    return entry[2] if short else entry[1]


def status_cell(outcome: str, glyphs: Glyphs, *, short: bool = False) -> Text:
    glyph, style = outcome_glyph(outcome, glyphs)
    return Text(f"{glyph} {outcome_word(outcome, short=short)}", style=style)


def run_strip(outcomes: Sequence[str], width: int, glyphs: Glyphs) -> Text:
    """The last ``width`` outcomes, oldest first, one coloured glyph each."""
    text = Text()
    for outcome in list(outcomes)[-width:] if width > 0 else []:
        glyph, style = outcome_glyph(outcome, glyphs)
        text.append(glyph, style=style)
    return text


def duration_spark(durations: Sequence[float], width: int, glyphs: Glyphs) -> Text:
    """Durations scaled between a floor under the fastest run and the slowest one, so a
    pipeline that got 20 % slower shows it (scaled from zero, all runs look alike)."""
    tail = [float(d) for d in durations][-width:] if width > 0 else []
    if not tail:
        return Text("")
    lo, hi = min(tail), max(tail)
    if hi - lo < 1e-9:
        return Text(glyphs.spark[len(glyphs.spark) // 2] * len(tail), style="cyan")
    floor = lo - (hi - lo) * 0.25
    return Text(sparkline([d - floor for d in tail], width, glyphs, top=hi - floor),
                style="cyan")


def human_duration(seconds: float | None) -> str:
    """``41s``, ``5m14s``, ``33m``, ``1h05m``, ``2d03h``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def when(ts: datetime | None) -> str:
    return "-" if ts is None else ts.strftime("%m-%d %H:%M")


def pipeline_name(line: PipelineLine, *, compact: bool = False) -> str:
    """``repo · workflow``; compact: the workflow alone, unless it names nothing more
    than the repo (GitLab's ``pipeline``, a Jenkins job named like its repo)."""
    repo = line.repo.rstrip("/").rsplit("/", 1)[-1] if compact else line.repo
    generic = line.workflow in ("", "pipeline") or line.workflow == repo
    if compact:
        return repo if generic else line.workflow
    return repo if generic else f"{repo} · {line.workflow}"


def dora_text(dora: DoraStrip | None, width: int) -> Text:
    """The four keys, labelled, as many as fit in ``width``."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if dora is None:
        text.append("DORA: no deploys yet (deploy rules)" if width >= 34 else "no deploys yet",
                    style="dim")
        return text
    per_day = dora.deployment_frequency_per_day
    # Under one a day, per week reads better than "0.0/d".
    freq = f"{per_day:.1f}/d" if per_day >= 0.95 or per_day == 0 else f"{per_day * 7:.1f}/wk"
    cfr_style = "bold red" if (dora.change_failure_rate or 0) >= 0.3 else ""
    wide = width >= 70
    parts: list[tuple[str, str, str]] = [
        ("Deploys " if wide else "dep ", freq, ""),
        ("Lead " if wide else "lead ", human_duration(dora.lead_time_p50_s), ""),
        ("Change fail " if wide else "cfr ", percent(dora.change_failure_rate), cfr_style),
        ("Restore " if wide else "mttr ", human_duration(dora.time_to_restore_p50_s), ""),
    ]
    if wide:
        parts.insert(0, ("DORA ", f"{dora.days:.0f}d", "bold"))
    gap = "  " if wide else " "
    used = 0
    for i, (label, value, style) in enumerate(parts):
        piece = len(label) + len(value) + (len(gap) if i else 0)
        if used + piece > width and i >= 1:
            break
        if i:
            text.append(gap)
        text.append(label, style="dim")
        text.append(value, style=style or "bold")
        used += piece
    return text


def health_text(health: Iterable[SourceHealth], glyphs: Glyphs) -> Text | None:
    """The CI sources that are not fine, with their reasons; ``None`` when all are."""
    bad = [h for h in health if h.kind in CI_KINDS and h.state
           in (HealthState.STALE, HealthState.ERROR)]
    if not bad:
        return None
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, h in enumerate(bad):
        if i:
            text.append(f" {glyphs.separator} ")
        style = "bold red" if h.state is HealthState.ERROR else "yellow"
        text.append(f"{health_glyph(h.state, glyphs)} {h.name} {HEALTH_WORD[h.state]}",
                    style=style)
        if h.reason:
            text.append(f": {h.reason}", style="dim")
    text.append(" (last data shown)", style="dim")
    return text


def columns_for(width: int) -> list[tuple[str, str, int]]:
    """``(key, header, width)`` of the pipeline table's columns that fit ``width``.

    Status, name and failure rate always; then the strip of the last runs, the branch,
    the duration sparkline and the figures, in that order, as far as the width goes.
    Every column but the last is followed by one space; the name takes what is left.
    """
    short = width < 60
    wide = width >= 120
    huge = width >= 160
    min_name = 10 if short else 20
    fixed: list[tuple[str, str, int]] = [
        ("status", "status", 2 + (SHORT_WIDTH if short else WORD_WIDTH)),
        ("rate", "fail%", 4 if short else 5),
    ]
    left = width - min_name - sum(w + 1 for _, _, w in fixed)
    strip_w = min(30 if huge else 20 if wide else 10, max(0, left - 1))
    optional: list[tuple[str, str, int]] = [
        ("strip", "last runs", strip_w),
        ("branch", "branch", 24 if huge else 16 if wide else 10),
        ("spark", "duration", 30 if huge else 20 if wide else 10),
        ("p50", "p50", 6),
        ("p95", "p95", 6),
        ("runs", "runs", 5),
        ("flaky", "flaky", 6),
        ("age", "last run", 10),
    ]
    chosen = {"status", "rate"}
    for key, _header, w in optional:
        if w >= 3 and left >= w + 1:
            chosen.add(key)
            left -= w + 1
    order = ["status", "name", "branch", "age", "strip", "spark", "rate", "p50", "p95", "runs",
             "flaky"]
    widths = {k: w for k, _, w in [*fixed, *optional]}
    headers = {k: h for k, h, _ in [*fixed, *optional]}
    name_w = width - sum(widths[k] + 1 for k in chosen)
    out: list[tuple[str, str, int]] = []
    for key in order:
        if key == "name":
            # Past 48 columns a longer name column only pushes the figures away.
            out.append(("name", "pipeline", max(min_name, min(48, name_w))))
        elif key in chosen:
            out.append((key, headers[key], widths[key]))
    # The last column needs no trailing space: give it to the name.
    return [(k, h, w + 1 if k == "name" else w) for k, h, w in out]


def pipeline_cells(line: PipelineLine, columns: Sequence[tuple[str, str, int]],
                   glyphs: Glyphs, now: datetime | None = None) -> list[Text]:
    cells: list[Text] = []
    short = columns[0][2] < 2 + WORD_WIDTH
    for key, _header, w in columns:
        if key == "status":
            cell = status_cell(line.outcome, glyphs, short=short)
        elif key == "name":
            cell = Text(pipeline_name(line, compact=w < 24))
        elif key == "branch":
            cell = Text(line.branch or "-", style="dim")
        elif key == "strip":
            cell = run_strip(line.last_runs, w, glyphs)
        elif key == "spark":
            cell = duration_spark(line.durations, w, glyphs)
        elif key == "rate":
            high = (line.failure_rate or 0) >= 0.2
            cell = Text(percent(line.failure_rate), style="bold red" if high else "")
        elif key == "p50":
            cell = Text(human_duration(line.duration_p50_s))
        elif key == "p95":
            cell = Text(human_duration(line.duration_p95_s))
        elif key == "runs":
            cell = Text(str(line.runs))
        elif key == "age":
            cell = Text(ago(line.last_run_at, now) if now else "-", style="dim")
        else:
            n = len(line.flaky)
            cell = Text(f"{glyphs.warn} {n}" if n else "-", style="yellow" if n else "dim")
        cell.truncate(w, overflow="ellipsis")
        cells.append(cell)
    return cells


def ago(ts: datetime, now: datetime) -> str:
    return human_duration(max(0.0, (now - ts).total_seconds())) + " ago"


def pipeline_detail(line: PipelineLine, now: datetime, glyphs: Glyphs) -> Text:
    """What the zoomed pane shows under the list about the highlighted pipeline."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(pipeline_name(line), style="bold")
    if line.branch:
        text.append(f" @{line.branch}")
    text.append(f" ({line.provider})  {line.runs} runs · fail {percent(line.failure_rate)}"
                f" · p50 {human_duration(line.duration_p50_s)}"
                f" · p95 {human_duration(line.duration_p95_s)}", style="dim")
    latest = line.history[0] if line.history else None
    if latest is not None:
        text.append("\nLatest ")
        text.append_text(status_cell(latest.outcome, glyphs))
        text.append(f" run {latest.run_id} · {ago(latest.created_at, now)}")
        failed = latest.failed_jobs
        if failed:
            text.append(" · failed: ", style="red")
            text.append(f"{failed[0].name} › {failed[0].failed_step or failed[0].outcome}",
                        style="bold red")
        text.append("\nURL ", style="dim")
        text.append(latest.url or "-", style="bold underline" if latest.url else "dim")
    if line.flaky:
        text.append(f"\n{glyphs.warn} flaky: ", style="yellow")
        text.append(", ".join(f"{f.job} ({f.flaky_commits} commit"
                              f"{'s' if f.flaky_commits > 1 else ''}, {f.reason})"
                              for f in line.flaky))
    text.append("\nenter runs · y copy URL · esc back", style="dim")
    return text
