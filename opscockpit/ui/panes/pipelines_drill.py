"""Drill-down from a pipeline: its runs, then one run's jobs and the step that failed.

A bastion has no browser, so each screen shows the run's URL in full and ``y`` copies
it to the terminal's clipboard with OSC 52 (Textual's ``copy_to_clipboard``; under tmux
this needs ``set -g set-clipboard on``). Screens follow new snapshots while open.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from opscockpit.analyzers.pipelines import PipelineLine, PipelinesView, RunLine
from opscockpit.ui.glyphs import UNICODE, Glyphs
from opscockpit.ui.panes.pipelines_text import (
    human_duration,
    outcome_word,
    percent,
    pipeline_name,
    status_cell,
    when,
)

DRILL_CSS = """
PipelineDrill { layout: vertical; }
PipelineDrill .drill-title, PipelineDrill .drill-summary, PipelineDrill .drill-detail {
    padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
PipelineDrill .drill-title { height: 1; background: $panel; text-style: bold; }
PipelineDrill .drill-summary { height: 1; color: $text-muted; }
PipelineDrill DataTable { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
PipelineDrill .drill-detail { height: auto; max-height: 5; padding: 0 1;
    border-top: solid $primary 40%; }
"""


class PipelineDrill(Screen[None]):
    """What both drill screens share: a title, a table, a detail area, copy and back."""

    DEFAULT_CSS = DRILL_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("y", "copy_run_url", "Copy run URL"),
    ]

    def __init__(self, line: PipelineLine) -> None:
        super().__init__()
        self.line = line

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    def compose(self) -> ComposeResult:
        yield Static("", classes="drill-title")
        yield Static("", classes="drill-summary")
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Static("", classes="drill-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_all()
        self.query_one(DataTable).focus()

    def update_view(self, view: PipelinesView) -> None:
        """A new snapshot: follow this pipeline, keep the cursor on the same row."""
        found = view.find(self.line.key)
        if found is not None and found != self.line:
            self.line = found
            self.refresh_all()

    def refresh_all(self) -> None:
        """Fill the title, the summary, the table and the detail."""

    def current_run(self) -> RunLine | None:
        return None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_copy_run_url(self) -> None:
        run = self.current_run()
        self.copy(run.url if run else "", "run")

    def copy(self, url: str, what: str) -> None:
        if not url:
            self.notify(f"this {what} has no URL", severity="warning")
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"{what} URL copied (OSC 52): {url}", timeout=4)

    def _title(self, outcome: str, text: str) -> Text:
        title = status_cell(outcome, self.glyphs)
        title.append("  ")
        title.append(text)
        return title

    def _detail(self, lines: list[Text]) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, line in enumerate(lines):
            if i:
                out.append("\n")
            out.append_text(line)
        self.query_one(".drill-detail", Static).update(out)


def _url_line(label: str, url: str) -> Text:
    text = Text(f"{label} ", style="dim")
    text.append(url or "-", style="bold underline" if url else "dim")
    return text


class RunsScreen(PipelineDrill):
    """The runs of one pipeline, newest first; enter opens a run's jobs."""

    def refresh_all(self) -> None:
        line = self.line
        branch = f" @{line.branch}" if line.branch else ""
        self.query_one(".drill-title", Static).update(
            self._title(line.outcome, f"{pipeline_name(line)}{branch}  ({line.provider})"))
        summary = (f"{line.runs} runs  fail {percent(line.failure_rate)}  "
                   f"p50 {human_duration(line.duration_p50_s)}  "
                   f"p95 {human_duration(line.duration_p95_s)}  running {line.running}")
        if line.flaky:
            summary += "  flaky: " + ", ".join(f"{f.job} ({f.flaky_commits})" for f in line.flaky)
        self.query_one(".drill-summary", Static).update(summary)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        for header in ("status", "run", "created", "took", "sha", "by", "failed job"):
            table.add_column(header, key=header)
        for run in line.history:
            failed = run.failed_jobs
            table.add_row(
                status_cell(run.outcome, self.glyphs),
                f"{run.run_id}" + (f" #{run.attempt}" if run.attempt > 1 else ""),
                when(run.created_at), human_duration(run.duration_s), run.sha[:8],
                run.actor or run.event or "-",
                Text(failed[0].name if failed else "", style="red"),
                key=f"{run.run_id}:{run.attempt}",
            )
        if line.history:
            table.move_cursor(row=min(keep, len(line.history) - 1))
        self.show_detail()

    def current_run(self) -> RunLine | None:
        table = self.query_one(DataTable)
        history = self.line.history
        return history[table.cursor_row] if 0 <= table.cursor_row < len(history) else None

    def show_detail(self) -> None:
        run = self.current_run()
        hint = Text("enter jobs · y copy run URL · esc back", style="dim")
        if run is None:
            self._detail([Text("no runs kept for this pipeline", style="dim"), hint])
            return
        self._detail([_url_line("Run URL", run.url), hint])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        run = self.current_run()
        if run is not None:
            self.app.push_screen(JobsScreen(self.line, run))


class JobsScreen(PipelineDrill):
    """The jobs of one run attempt, with the failed step, the run's and the job's URL."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("Y", "copy_job_url", "Copy job URL"),
    ]

    def __init__(self, line: PipelineLine, run: RunLine) -> None:
        super().__init__(line)
        self.run = run

    def update_view(self, view: PipelinesView) -> None:
        found = view.find(self.line.key)
        if found is None:
            return
        self.line = found
        same = next((r for r in found.history
                     if (r.run_id, r.attempt) == (self.run.run_id, self.run.attempt)), None)
        if same is not None and same != self.run:
            self.run = same
            self.refresh_all()

    def current_run(self) -> RunLine | None:
        return self.run

    def refresh_all(self) -> None:
        run, line = self.run, self.line
        attempt = f" (attempt {run.attempt})" if run.attempt > 1 else ""
        self.query_one(".drill-title", Static).update(self._title(
            run.outcome, f"run {run.run_id}{attempt} · {pipeline_name(line)}"))
        self.query_one(".drill-summary", Static).update(
            f"{run.branch or '-'} · {run.sha[:8] or '-'} · by {run.actor or '-'} "
            f"({run.event or '-'}) · created {when(run.created_at)} · "
            f"took {human_duration(run.duration_s)} · {len(run.jobs)} jobs")
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        for header in ("status", "job", "try", "took", "failed step"):
            table.add_column(header, key=header)
        for job in run.jobs:
            table.add_row(
                status_cell(job.outcome, self.glyphs), job.name, str(job.attempt),
                human_duration(job.duration_s), Text(job.failed_step, style="bold red"),
                key=f"{job.job_id}:{job.attempt}",
            )
        if run.jobs:
            failed = next((i for i, j in enumerate(run.jobs) if j in run.failed_jobs), 0)
            table.move_cursor(row=keep if keep > 0 else failed)
        self.show_detail()

    def current_job_index(self) -> int:
        row = self.query_one(DataTable).cursor_row
        return row if 0 <= row < len(self.run.jobs) else -1

    def show_detail(self) -> None:
        lines: list[Text] = []
        failed = self.run.failed_jobs
        if failed:
            for job in failed[:2]:
                step = Text("Failed: ", style="bold red")
                step.append(f"{job.failed_step or outcome_word(job.outcome)}", style="bold")
                step.append(f" in job {job.name}")
                lines.append(step)
        elif not self.run.jobs:
            lines.append(Text("no jobs read for this run (jobs = false, or a file "
                              "without them)", style="dim"))
        lines.append(_url_line("Run URL", self.run.url))
        index = self.current_job_index()
        if index >= 0 and self.run.jobs[index].url and self.run.jobs[index].url != self.run.url:
            lines.append(_url_line("Job URL", self.run.jobs[index].url))
        lines.append(Text("y copy run URL · Y copy job URL · esc back", style="dim"))
        self._detail(lines)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    def action_copy_job_url(self) -> None:
        index = self.current_job_index()
        self.copy(self.run.jobs[index].url if index >= 0 else "", "job")
