"""How the cockpit looks, at 80x24 first and on wide screens, with fixed data."""

from __future__ import annotations

import pytest

from opscockpit.ui.app import CockpitApp
from opscockpit.ui.glyphs import PLAIN
from tests.ui.fixtures import fixed_snapshot


@pytest.mark.parametrize("size", [(80, 24), (160, 50), (200, 50)])
def test_cockpit(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(CockpitApp(snapshot=fixed_snapshot()), terminal_size=size)


def test_cockpit_sixteen_colours(snap_compare) -> None:
    app = CockpitApp(snapshot=fixed_snapshot(), theme_name="ansi-dark", glyphs=PLAIN)
    assert snap_compare(app, terminal_size=(80, 24))


def test_zoomed_telemetry(snap_compare) -> None:
    assert snap_compare(CockpitApp(snapshot=fixed_snapshot()), press=["enter"],
                        terminal_size=(80, 24))


def test_help(snap_compare) -> None:
    assert snap_compare(CockpitApp(snapshot=fixed_snapshot()), press=["question_mark"],
                        terminal_size=(80, 24))


def test_cockpit_with_anomalies(snap_compare) -> None:
    app = CockpitApp(snapshot=fixed_snapshot(anomalies=True))
    assert snap_compare(app, terminal_size=(80, 24))
