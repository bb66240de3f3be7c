"""Text that carries meaning without colour: glyphs and words for states and levels."""

from __future__ import annotations

from dataclasses import dataclass

from opscockpit.sources.base import HealthState


@dataclass(frozen=True, slots=True)
class Glyphs:
    ok: str
    warn: str
    crit: str
    idle: str
    bar_full: str
    bar_empty: str
    spark: str
    separator: str


UNICODE = Glyphs(ok="●", warn="▲", crit="✖", idle="○", bar_full="█", bar_empty="░",
                 spark="▁▂▃▄▅▆▇█", separator="│")
# For 16-colour terminals, NO_COLOR and fonts without block elements.
PLAIN = Glyphs(ok="+", warn="!", crit="x", idle="-", bar_full="#", bar_empty=".",
               spark="_.-=+*#@", separator="|")

HEALTH_WORD = {
    HealthState.OK: "ok",
    HealthState.STALE: "stale",
    HealthState.ERROR: "error",
    HealthState.STARTING: "starting",
}


def health_glyph(state: HealthState, glyphs: Glyphs) -> str:
    return {
        HealthState.OK: glyphs.ok,
        HealthState.STALE: glyphs.warn,
        HealthState.ERROR: glyphs.crit,
        HealthState.STARTING: glyphs.idle,
    }[state]


def level(value: float, warn: float, crit: float) -> str:
    """``ok``, ``warn`` or ``crit``: the word shown beside a coloured figure."""
    if value >= crit:
        return "crit"
    if value >= warn:
        return "warn"
    return "ok"
