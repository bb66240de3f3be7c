"""Words, glyphs and fitted text for the Models pane and its drill-down screens.

A status is always a glyph and a word (never colour alone): ``healthy`` with the ok glyph,
``drifting`` with the warning one, ``degraded`` with the critical one, ``no labels yet``
with the idle one. The plain glyph set keeps them readable on 16 colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from opscockpit.analyzers.models_view import FeatureView, ModelsView, ModelView
from opscockpit.ui.glyphs import Glyphs
from opscockpit.ui.render import sparkline

# status -> (glyph role, style)
_STATUS = {
    "degraded": ("crit", "bold red"),
    "drifting": ("warn", "yellow"),
    "no labels yet": ("idle", "dim"),
    "healthy": ("ok", "green"),
}
STATUS_WIDTH = 2 + max(len(s) for s in _STATUS)
METRIC_SHORT = {"accuracy": "acc", "precision": "prec", "recall": "rec", "f1": "f1",
                "roc_auc": "auc", "mae": "mae", "rmse": "rmse", "mape": "mape"}
SHORT_TEST = {"ks": "KS", "chisquare": "chi²", "z": "Z", "wasserstein": "WD",
              "jensenshannon": "JS", "psi": "PSI"}
TEST_NAME = {"ks": "KS", "chisquare": "chi²", "z": "Z-test", "wasserstein": "Wasserstein",
             "jensenshannon": "Jensen-Shannon", "psi": "PSI"}


def status_cell(status: str, glyphs: Glyphs) -> Text:
    role, style = _STATUS.get(status, ("idle", "dim"))
    return Text(f"{getattr(glyphs, role)} {status}", style=style)


def drift_cell(feature: FeatureView, glyphs: Glyphs) -> Text:
    """A feature's verdict: drifting (sustained), over (this window only) or ok."""
    if feature.drifted:
        return Text(f"{glyphs.warn} drifting", style="yellow")
    if feature.window_drifted:
        return Text(f"{glyphs.idle} over once", style="dim yellow")
    return Text(f"{glyphs.ok} ok", style="green")


def when(value: datetime | None, wide: bool = False) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M" if wide else "%Y-%m-%d")


def number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 10 ** -digits or abs(value) >= 1e5):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"


def drift_count(model: ModelView) -> str:
    return f"{model.drifted_features}/{model.features_total}" if model.features_total else "-"


def stretch(values: Sequence[float], width: int, most: int = 4) -> list[float]:
    """Few windows on a wide screen: each drawn up to ``most`` cells wide."""
    if not values or width <= 0:
        return []
    times = max(1, min(most, width // len(values)))
    return [v for v in values for _ in range(times)][-width:]


def metric_spark(values: Sequence[float], width: int, glyphs: Glyphs) -> str:
    """A metric per window, scaled from just under its lowest value: a drop from 0.97 to
    0.95 must show, which a scale from zero would flatten."""
    if not values or width <= 0:
        return ""
    low, high = min(values), max(values)
    floor = low - ((high - low) or abs(low) * 0.05 or 1.0) * 0.25
    drawn = stretch([v - floor for v in values], width)
    return sparkline(drawn, width, glyphs, top=high - floor)


def metric_text(model: ModelView, width: int, glyphs: Glyphs) -> Text:
    """``auc ▇▇▆▅▃ 0.958``: the primary metric per window and its latest value."""
    if model.metric is None:
        return Text("no labels" if model.labelled_rows == 0 else "-", style="dim")
    name = METRIC_SHORT.get(model.metric, model.metric)
    value = number(model.metric_value)
    spark_w = max(0, width - len(name) - len(value) - 2)
    text = Text(f"{name} ")
    if spark_w and model.sparkline:
        style = "bold red" if model.status == "degraded" else "cyan"
        text.append(metric_spark(model.sparkline, spark_w, glyphs), style=style)
        text.append(" ")
    text.append(value)
    return text


# ---------------------------------------------------------------- the pane's table

Column = tuple[str, str, int]  # key, header, width


def columns_for(width: int) -> list[Column]:
    """The columns that fit: one two-line cell when narrow, more as width allows."""
    if width < 50:
        return [("model", "model", width)]
    columns: list[Column] = [("status", "status", STATUS_WIDTH), ("model", "model", 0),
                             ("drift", "drift", 6)]
    if width >= 100:
        columns += [("since", "since", 11), ("rows", "rows", 11)]
    columns.append(("metric", "performance", 0))
    fixed = sum(w + 1 for key, _, w in columns if key not in ("model", "metric"))
    # The name takes what it needs (up to 40), the performance sparkline the rest.
    model_w = min(40, max(8, (width - fixed) // 2))
    metric_w = max(12, width - fixed - model_w - 1)
    sized = {"model": model_w, "metric": metric_w}
    return [(k, h, sized.get(k, w)) for k, h, w in columns]


def model_cells(model: ModelView, columns: Sequence[Column], glyphs: Glyphs) -> list[Text]:
    if len(columns) == 1:
        return [narrow_cell(model, columns[0][2], glyphs)]
    cells = {
        "status": lambda w: status_cell(model.status, glyphs),
        "model": lambda w: Text(model.name, style="bold"),
        "drift": lambda w: Text(drift_count(model),
                                style="yellow" if model.drifted_features else ""),
        "since": lambda w: Text(when(model.since), style="dim" if not model.since else ""),
        "rows": lambda w: Text(f"{model.rows:,}", justify="right"),
        "metric": lambda w: metric_text(model, w, glyphs),
    }
    return [cells[key](w) for key, _, w in columns]


def narrow_cell(model: ModelView, width: int, glyphs: Glyphs) -> Text:
    """Two lines: glyph, word and name; then drifted count and the metric sparkline."""
    text = status_cell(model.status, glyphs)
    text.append(f" {model.name}", style="bold")
    text.truncate(width, overflow="ellipsis")
    drift = f"  drift {drift_count(model)} "
    text.append("\n" + drift, style="yellow" if model.drifted_features else "dim")
    text.append_text(metric_text(model, max(0, width - len(drift)), glyphs))
    return text


def model_detail(model: ModelView, glyphs: Glyphs) -> Text:
    """Below the zoomed list: the highlighted version's reference, windows and verdict."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append_text(status_cell(model.status, glyphs))
    text.append(f"  {model.name}", style="bold")
    if model.degraded_since:
        text.append(f"  degraded since {when(model.degraded_since, True)}")
    elif model.drift_onset:
        text.append(f"  drifting since {when(model.drift_onset, True)}")
    drifting = [f.feature for f in model.features if f.drifted]
    text.append("\n" + (f"drifting: {', '.join(drifting)}" if drifting
                        else "no feature drifting"), style="yellow" if drifting else "dim")
    text.append(f"\nreference {model.reference_rows:,} rows "
                f"{when(model.reference_from)}…{when(model.reference_to)} · windows of "
                f"{model.window} · {model.windows} judged · {model.labelled_rows:,} of "
                f"{model.rows:,} rows labelled", style="dim")
    if model.band and model.metric:
        low, high = model.band
        text.append(f"\n{model.metric} {number(model.metric_value)} "
                    f"(reference band {number(low)}–{number(high)})")
    text.append("\nenter features · esc back", style="dim")
    return text


def subtitle(view: ModelsView, glyphs: Glyphs) -> str:
    counts = {s: sum(m.status == s for m in view.models) for s in _STATUS}
    parts = [f"{getattr(glyphs, _STATUS[s][0])} {n} {s}" for s, n in counts.items()
             if n and s in ("degraded", "drifting")]
    return " · ".join(parts) or f"{glyphs.ok} {len(view.models)} ok"
