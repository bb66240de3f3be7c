"""Flap detection: Nagios-style weighted percent state change with hysteresis."""

from __future__ import annotations

import pandas as pd

from opscockpit.analysis.flapping import (
    FlapParams,
    FlapTracker,
    detect_flapping,
    percent_state_change,
)


def test_percent_state_change() -> None:
    assert percent_state_change(["firing"] * 5) == 0.0
    assert percent_state_change(["firing", "resolved"] * 5) == 100.0
    # Recent changes weigh more than old ones.
    old = percent_state_change(["a", "b", "a", "a", "a", "a"])
    new = percent_state_change(["a", "a", "a", "a", "b", "a"])
    assert new > old


def test_hysteresis() -> None:
    tracker = FlapTracker(FlapParams(window_s=10_000, min_changes=4))
    states = ["firing", "resolved"] * 3
    verdicts = [tracker.observe("x", float(i), s) for i, s in enumerate(states)]
    assert verdicts[:4] == [False] * 4 and verdicts[-1]
    # Steady firing afterwards: stays flapping a while (hysteresis), then stops.
    later = [tracker.observe("x", 10.0 + i, "firing") for i in range(30)]
    assert later[0] and not later[-1]


def test_detect_flapping_frame() -> None:
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    rows = [{"ts": t0 + pd.Timedelta(minutes=2 * i), "id": f"a{i}", "fingerprint": "fp",
             "status": "firing" if i % 2 == 0 else "resolved", "ends_at": pd.NaT}
            for i in range(10)]
    rows += [{"ts": t0, "id": "b", "fingerprint": "calm", "status": "firing", "ends_at": pd.NaT}]
    out = detect_flapping(pd.DataFrame(rows))
    assert out.iloc[0]["fingerprint"] == "fp" and out.iloc[0]["flapping"]
    assert not out.set_index("fingerprint").loc["calm", "flapping"]
