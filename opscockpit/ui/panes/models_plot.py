"""Pictures of one feature drawn with text: reference and current distributions side by side,
and the drift statistic per window against its threshold.

Reference and current bars use different glyphs (light and full blocks, or ``.`` and ``#``
in the plain set), so they are told apart without colour.
"""

from __future__ import annotations

from rich.text import Text

from opscockpit.analyzers.models_view import FeatureView
from opscockpit.ui.glyphs import Glyphs
from opscockpit.ui.panes.models_text import number, stretch, when
from opscockpit.ui.render import sparkline

LABEL_MAX = 14


def distribution_text(feature: FeatureView, width: int, glyphs: Glyphs) -> Text:
    """One line per bin: its label, the reference bar and share, the current bar and share."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not feature.bins:
        text.append("no distribution to draw (no current values)", style="dim")
        return text
    label_w = min(LABEL_MAX, max(len(b) for b in feature.bins))
    bar_w = max(3, min(40, (width - label_w - 1 - 2 * 6 - 3) // 2))
    top = max(*feature.reference, *feature.current, 1e-9)
    unit = "from" if feature.kind == "num" else "value"
    text.append(f"{unit:>{label_w}} ", style="dim")
    text.append(f"{'reference ' + glyphs.bar_empty:<{bar_w + 6}}", style="dim")
    text.append(f" │ current {glyphs.bar_full} ({feature.current_rows:,} rows)", style="dim")
    for label, ref, cur in zip(feature.bins, feature.reference, feature.current, strict=True):
        shown = label if len(label) <= label_w else label[: label_w - 1] + "…"
        text.append(f"\n{shown:>{label_w}} ")
        text.append(_bar(ref, top, bar_w, glyphs.bar_empty), style="blue")
        text.append(f" {ref:5.1%}")
        text.append(" │ ", style="dim")
        grew = cur > ref * 1.5 + 0.01 or cur < ref / 1.5 - 0.01
        text.append(_bar(cur, top, bar_w, glyphs.bar_full), style="yellow" if grew else "cyan")
        text.append(f" {cur:5.1%}")
    return text


def _bar(share: float, top: float, width: int, glyph: str) -> str:
    filled = round(share / top * width)
    if share > 0 and filled == 0:
        filled = 1  # a category that exists on one side only must not vanish
    return (glyph * filled).ljust(width)


def verdict_text(feature: FeatureView) -> Text:
    """The drift test of the latest window, and since when the drift holds."""
    from opscockpit.ui.panes.models_text import TEST_NAME

    text = Text(no_wrap=True, overflow="ellipsis")
    name = TEST_NAME.get(feature.method, feature.method)
    text.append(f"{name}", style="bold")
    if feature.uses_p_value:
        text.append(f"  statistic {number(feature.statistic)}  p-value "
                    f"{number(feature.p_value)}  drift when p < {feature.threshold:g}")
    else:
        text.append(f"  statistic {number(feature.statistic)}  threshold "
                    f"{feature.threshold:g}  (drift at or above)")
    text.append(f"\nlatest window {'over' if feature.window_drifted else 'within'} the "
                f"threshold; ")
    if feature.drifted:
        text.append(f"drifting since {when(feature.onset, True)}", style="bold yellow")
    elif feature.onset is not None:
        text.append(f"last drift began {when(feature.onset, True)}, now calm", style="dim")
    else:
        text.append("no sustained drift", style="green")
    return text


def history_text(feature: FeatureView, width: int, glyphs: Glyphs) -> Text:
    """The statistic of each window as a sparkline, and the windows over the threshold."""
    text = Text(no_wrap=True, overflow="ellipsis")
    points = feature.history
    if not points:
        text.append("no window judged yet", style="dim")
        return text
    values = [p.statistic or 0.0 for p in points]
    if feature.uses_p_value:
        # A p-value drifts downwards: draw 1 - p so drift is a rise, as for distances.
        values = [1.0 - v for v in values]
    label = "1 - p per window " if feature.uses_p_value else "statistic per window "
    room = max(4, min(80, width - len(label)))
    shown = points[-room:]
    times = max(1, min(8, room // len(shown)))
    top = max(max(values), feature.threshold * 2 if not feature.uses_p_value else 1.0)
    text.append(label, style="dim")
    drawn = stretch(values[-len(shown):], len(shown) * times, most=times)
    text.append(sparkline(drawn, len(drawn), glyphs, top=top), style="cyan")
    pad = " " * len(label)
    text.append("\n" + pad)
    for p in shown:
        text.append((glyphs.warn if p.drifted else glyphs.idle) * times,
                    style="yellow" if p.drifted else "dim")
    if times >= 6:  # room for each window's figure under its bar
        text.append("\n" + pad + "".join(f"{number(v, 2):<{times}}"[:times]
                                          for v in values[-len(shown):]), style="dim")
    text.append(f"\n{pad}{when(shown[0].start)} … {when(shown[-1].start)}  "
                f"({glyphs.warn} over the threshold, {len(points)} windows)", style="dim")
    return text
