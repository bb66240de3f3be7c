"""Saving and restoring a :class:`~.detector.SeriesDetector` exactly.

The state is plain JSON (floats survive a round trip through ``json`` bit for bit), and a
restored detector continues with the same scores and episodes as one that never stopped.
A state of another ``STATE_VERSION`` is refused: the statistics changed shape, and a
detector that silently mixed old and new memories would score neither way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from opscockpit.analysis.anomaly.episodes import EpisodeTracker
from opscockpit.analysis.anomaly.seasonal import PhaseMemory
from opscockpit.analysis.anomaly.tail import RollingTail
from opscockpit.analysis.anomaly.trend import SlidingFit

if TYPE_CHECKING:
    from opscockpit.analysis.anomaly.detector import SeriesDetector

# 2: trend residuals and lines, young-series tails, episode band and tracker clocks.
# 3: the seasonal statistics' own, longer mean (``season_span``, ``season_recent``).
STATE_VERSION = 3

D = TypeVar("D", bound="SeriesDetector")


def _float_or_none(raw: Any) -> float | None:
    return None if raw is None else float(raw)


def dump_detector(d: SeriesDetector) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "sensitivity": d.sensitivity,
        "window": d.window,
        "tail": d.tail,
        "lag": d.lag,
        "level_span": d.level_span,
        "spread_span": d.spread_span,
        "season_span": d.season_span,
        "jump_alpha": d.jump_alpha,
        "seasons": list(d.seasons),
        "count": d.count,
        "reason": d.reason,
        "fast": d._fast,
        "last": d._last,
        "last_seconds": d._last_seconds,
        "recent": list(d._recent),
        "steps": list(d._steps),
        "season_recent": list(d._season_recent),
        "gaps": list(d._gaps),
        "step": d._step,
        "phases": {name: memory.to_state() for name, memory in d._phases.items()},
        "tails": {name: tail.to_state() for name, tail in d._tails.items()},
        "fits": {name: fit.to_state() for name, fit in d._fits.items()},
        "band": None if d._band is None else list(d._band),
        "tracker": d.tracker.to_state(),
    }


def load_detector(cls: type[D], state: dict[str, Any]) -> D:
    version = state.get("version")
    if version != STATE_VERSION:
        raise ValueError(
            f"unsupported anomaly detector state version {version!r} (this build reads "
            f"{STATE_VERSION}); start the series afresh"
        )
    out = cls(
        float(state["sensitivity"]),
        window=int(state["window"]),
        tail=int(state["tail"]),
        lag=int(state["lag"]),
        level_span=int(state["level_span"]),
        spread_span=int(state["spread_span"]),
        season_span=int(state["season_span"]),
        jump_alpha=float(state["jump_alpha"]),
        seasons=tuple(state["seasons"]),
    )
    out.count = int(state["count"])
    out.reason = str(state["reason"])
    out._fast = _float_or_none(state["fast"])
    out._last = _float_or_none(state["last"])
    out._last_seconds = _float_or_none(state["last_seconds"])
    out._recent.extend(float(v) for v in state["recent"])
    out._steps.extend(float(v) for v in state["steps"])
    out._season_recent.extend(float(v) for v in state["season_recent"])
    out._gaps = [float(v) for v in state["gaps"]]
    out._step = _float_or_none(state["step"])
    out._phases = {k: PhaseMemory.from_state(v) for k, v in state["phases"].items()}
    out._tails = {k: RollingTail.from_state(v) for k, v in state["tails"].items()}
    out._fits = {k: SlidingFit.from_state(v) for k, v in state["fits"].items()}
    band = state["band"]
    out._band = None if band is None else [float(v) for v in band]
    out.tracker = EpisodeTracker.from_state(state["tracker"])
    return out
