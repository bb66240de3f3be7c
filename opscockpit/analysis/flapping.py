"""Flapping: an alert that fires, resolves, fires… is one flapping item, not a storm.

Per fingerprint we keep its last ``history`` observed states within ``window_s`` and
compute Nagios' weighted percent state change: transitions are weighted from 0.8 (oldest)
to 1.2 (newest), so a flap that has just stopped fades out. Hysteresis keeps the verdict
from flickering itself: flapping starts at ``high_pct`` (with at least ``min_changes``
state changes in the window) and only stops below ``low_pct``.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True, slots=True)
class FlapParams:
    window_s: float = 3600.0
    history: int = 21  # states kept, i.e. 20 transitions as in Nagios
    high_pct: float = 50.0
    low_pct: float = 25.0
    min_changes: int = 4


def percent_state_change(states: Sequence[str]) -> float:
    """Nagios-style weighted share of transitions that changed state, in percent."""
    n = len(states) - 1
    if n <= 0:
        return 0.0
    total = changed = 0.0
    for i in range(n):
        weight = 0.8 + 0.4 * (i / (n - 1)) if n > 1 else 1.0
        total += weight
        if states[i] != states[i + 1]:
            changed += weight
    return 100.0 * changed / total


@dataclass(slots=True)
class _History:
    points: deque[tuple[float, str]]
    flapping: bool = False


class FlapTracker:
    """Incremental flap detection, one observation at a time (data time, seconds)."""

    def __init__(self, params: FlapParams | None = None) -> None:
        self.params = params or FlapParams()
        self._hist: dict[str, _History] = {}

    def observe(self, fingerprint: str, t: float, state: str) -> bool:
        p = self.params
        h = self._hist.get(fingerprint)
        if h is None:
            h = self._hist[fingerprint] = _History(deque(maxlen=p.history))
        h.points.append((t, state))
        while h.points and h.points[0][0] < t - p.window_s:
            h.points.popleft()
        states = [s for _, s in h.points]
        pct = percent_state_change(states)
        changes = sum(a != b for a, b in itertools.pairwise(states))
        if h.flapping:
            h.flapping = pct >= p.low_pct and changes >= 2
        else:
            h.flapping = pct >= p.high_pct and changes >= p.min_changes
        return h.flapping

    def is_flapping(self, fingerprint: str) -> bool:
        h = self._hist.get(fingerprint)
        return bool(h and h.flapping)

    def flapping(self) -> list[str]:
        return sorted(fp for fp, h in self._hist.items() if h.flapping)

    def to_state(self) -> dict[str, Any]:
        return {
            "params": asdict(self.params),
            "fingerprints": {
                fp: {"points": [list(x) for x in h.points], "flapping": h.flapping}
                for fp, h in self._hist.items()
            },
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FlapTracker:
        tracker = cls(FlapParams(**state["params"]))
        for fp, item in state["fingerprints"].items():
            points = deque(((float(t), str(s)) for t, s in item["points"]),
                           maxlen=tracker.params.history)
            tracker._hist[fp] = _History(points, bool(item["flapping"]))
        return tracker


def event_seconds(frame: pd.DataFrame) -> pd.Series:
    """When each row happened: a resolution counts at its ``ends_at`` when known."""
    ts = pd.to_datetime(frame["ts"], utc=True)
    if "ends_at" in frame and "status" in frame:
        ends = pd.to_datetime(frame["ends_at"], utc=True)
        use_end = (frame["status"] == "resolved") & ends.notna()
        ts = ts.where(~use_end, ends)
    return ts.astype("datetime64[ns, UTC]").astype("int64") / 1e9


def detect_flapping(frame: pd.DataFrame, params: FlapParams | None = None) -> pd.DataFrame:
    """Per fingerprint: ``fingerprint, observations, changes, percent_state_change, flapping``.

    ``flapping`` is true if the fingerprint was flapping at any point of the frame.
    """
    cols = ["fingerprint", "observations", "changes", "percent_state_change", "flapping"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    tracker = FlapTracker(params)
    order = frame.assign(_t=event_seconds(frame)).sort_values(["_t", "id"], kind="stable")
    ever: dict[str, bool] = {}
    seq: dict[str, list[str]] = {}
    for fp, t, status in zip(order["fingerprint"], order["_t"], order["status"], strict=True):
        ever[fp] = tracker.observe(fp, float(t), str(status)) or ever.get(fp, False)
        seq.setdefault(fp, []).append(str(status))
    rows = [
        (fp, len(s), sum(a != b for a, b in itertools.pairwise(s)),
         percent_state_change(s[-tracker.params.history:]), ever[fp])
        for fp, s in seq.items()
    ]
    return pd.DataFrame(rows, columns=cols).sort_values(
        ["flapping", "changes"], ascending=False, kind="stable").reset_index(drop=True)
