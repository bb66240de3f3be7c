"""Drill-down from a model version: its features, then one feature's distributions.

The first screen lists every column with its verdict, test and statistic, and shows the
version's performance per metric and its data quality issues; enter opens a feature: the
reference and current distributions side by side, the test of the latest window and the
statistic per window. Screens follow new snapshots while open.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from opscockpit.analyzers.models_view import FeatureView, ModelsView, ModelView
from opscockpit.ui.glyphs import UNICODE, Glyphs
from opscockpit.ui.panes.models_plot import distribution_text, history_text, verdict_text
from opscockpit.ui.panes.models_text import (
    METRIC_SHORT,
    SHORT_TEST,
    TEST_NAME,
    drift_cell,
    metric_spark,
    number,
    status_cell,
    stretch,
    when,
)
from opscockpit.ui.render import sparkline

DRILL_CSS = """
ModelDrill { layout: vertical; }
ModelDrill .drill-title, ModelDrill .drill-summary {
    height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
ModelDrill .drill-title { background: $panel; text-style: bold; }
ModelDrill .drill-summary { color: $text-muted; }
ModelDrill .drill-body { height: auto; padding: 0 1; }
ModelDrill DataTable { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
ModelDrill VerticalScroll { height: 1fr; }
ModelDrill .drill-hint { height: 1; padding: 0 1; color: $text-muted; }
"""


class ModelDrill(Screen[None]):
    """What both screens share: a title, a summary line, a body, and esc to go back."""

    DEFAULT_CSS = DRILL_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, model: ModelView) -> None:
        super().__init__()
        self.model = model

    @property
    def glyphs(self) -> Glyphs:
        return getattr(self.app, "glyphs", UNICODE)

    def update_view(self, view: ModelsView) -> None:
        """A new snapshot: follow this model version."""
        found = view.find(self.model.model, self.model.version)
        if found is not None and found != self.model:
            self.model = found
            self.refresh_all()

    def refresh_all(self) -> None:
        """Fill every part from ``self.model``."""

    def action_back(self) -> None:
        self.app.pop_screen()

    def _title(self, text: str) -> Text:
        title = status_cell(self.model.status, self.glyphs)
        title.append(f"  {text}")
        return title


class ModelScreen(ModelDrill):
    """A version's columns, drifting first; its performance and data quality below."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="drill-title")
        yield Static("", classes="drill-summary")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="model-features")
        yield Static("", classes="drill-body", id="model-extra")
        yield Static("enter distribution · esc back", classes="drill-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_all()
        self.query_one(DataTable).focus()

    def refresh_all(self) -> None:
        model = self.model
        self.query_one(".drill-title", Static).update(self._title(
            f"{model.name}  ·  {model.drifted_features} of {model.features_total} "
            "features drifting"))
        self.query_one(".drill-summary", Static).update(
            f"{model.rows:,} rows, {model.labelled_rows:,} labelled · reference "
            f"{model.reference_rows:,} rows {when(model.reference_from)}…"
            f"{when(model.reference_to)} · windows of {model.window}, {model.windows} judged")
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        wide = self.size.width >= 120
        heads = ["verdict", "feature", "test", "statistic", "threshold", "p-value", "onset",
                 "per window"]
        if not wide:  # 80 columns: the test's short name, no p-value column
            heads.remove("p-value")
        for head in heads:
            table.add_column(head, key=head)
        spark_w = 40 if wide else 10
        for feature in model.features:
            name = feature.feature + (" (output)" if feature.output else "")
            cells = [
                drift_cell(feature, self.glyphs), Text(name, style="bold"),
                TEST_NAME.get(feature.method, feature.method) if wide
                else SHORT_TEST.get(feature.method, feature.method),
                number(feature.statistic), f"{feature.threshold:g}",
                number(feature.p_value) if feature.uses_p_value else "-",
                when(feature.onset, wide), _history_spark(feature, spark_w, self.glyphs)]
            if not wide:
                del cells[5]
            table.add_row(*cells, key=feature.feature)
        if model.features:
            table.move_cursor(row=min(keep, len(model.features) - 1))
        self.query_one("#model-extra", Static).update(self._extra())

    def _extra(self) -> Text:
        model = self.model
        text = Text(no_wrap=True, overflow="ellipsis")
        for series in model.metrics:
            name = METRIC_SHORT.get(series.metric, series.metric)
            text.append(f"{name:>5} ", style="bold")
            text.append(metric_spark(series.values, 20, self.glyphs), style="cyan")
            text.append(f" {number(series.values[-1])}   ")
            if series.metric in ("accuracy", "f1", "mae") and self.size.width < 120:
                text.append("\n")
        if model.band and model.metric:
            text.append(f"\nband of {model.metric} on the reference: {number(model.band[0])}"
                        f"–{number(model.band[1])}", style="dim")
        if not model.metrics:
            text.append("no labels yet: performance waits for them", style="dim")
        for issue in model.quality[:3]:
            text.append(f"\n{self.glyphs.warn} {issue.column}: {issue.summary}",
                        style="yellow")
        return text

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        name = str(event.row_key.value)
        feature = next((f for f in self.model.features if f.feature == name), None)
        if feature is not None:
            self.app.push_screen(FeatureScreen(self.model, feature))


class FeatureScreen(ModelDrill):
    """One column: reference against current, the test, the statistic per window."""

    def __init__(self, model: ModelView, feature: FeatureView) -> None:
        super().__init__(model)
        self.feature = feature

    def compose(self) -> ComposeResult:
        yield Static("", classes="drill-title")
        yield Static("", classes="drill-summary")
        with VerticalScroll():
            yield Static("", classes="drill-body", id="feature-test")
            yield Static("", classes="drill-body", id="feature-plot")
            yield Static("", classes="drill-body", id="feature-history")
        yield Static("esc back", classes="drill-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_all()
        self.query_one(VerticalScroll).focus()

    def update_view(self, view: ModelsView) -> None:
        super().update_view(view)
        found = next((f for f in self.model.features if f.feature == self.feature.feature),
                     None)
        if found is not None and found != self.feature:
            self.feature = found
            self.refresh_all()

    def refresh_all(self) -> None:
        feature = self.feature
        width = max(40, self.size.width - 2)
        title = drift_cell(feature, self.glyphs)
        title.append(f"  {feature.feature}", style="bold")
        title.append(f"  of {self.model.name}" + (" (model output)" if feature.output else ""))
        self.query_one(".drill-title", Static).update(title)
        kind = "numeric" if feature.kind == "num" else "categorical"
        self.query_one(".drill-summary", Static).update(
            f"{kind} · reference {self.model.reference_rows:,} rows against the latest "
            f"window ({feature.current_rows:,} rows)")
        self.query_one("#feature-test", Static).update(verdict_text(feature))
        plot = distribution_text(feature, width, self.glyphs)
        plot.append("\n")
        self.query_one("#feature-plot", Static).update(plot)
        self.query_one("#feature-history", Static).update(
            history_text(feature, width, self.glyphs))


def _history_spark(feature: FeatureView, width: int, glyphs: Glyphs) -> Text:
    values = [p.statistic or 0.0 for p in feature.history]
    if feature.uses_p_value:
        values = [1.0 - v for v in values]
    top = max([*values, 1.0 if feature.uses_p_value else feature.threshold * 2])
    return Text(sparkline(stretch(values, width), width, glyphs, top=top),
                style="yellow" if feature.drifted else "cyan")
