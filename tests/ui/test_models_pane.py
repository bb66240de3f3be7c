"""The Models pane at 80x24 (Pilot, asserting on state) and its snapshots at 80x24 and
200x50, with a fixed view: rows, zoom, drill into a model and a feature, and back."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.widgets import DataTable, Static

from opscockpit.ui.app import CockpitApp
from opscockpit.ui.glyphs import PLAIN
from opscockpit.ui.panes.models import ModelsPane
from opscockpit.ui.panes.models_drill import FeatureScreen, ModelScreen
from tests.ui.fixtures import fixed_snapshot
from tests.ui.models_fixture import CAR_LOAN, MODELS, models_snapshot

SIZE = (80, 24)
TO_MODELS = ["tab", "tab", "tab"]  # telemetry -> alerts -> pipelines -> models


def _rows(app: CockpitApp) -> list[str]:
    table = app.query_one("#models-table", DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_one_row_per_version_worst_first_with_words() -> None:
    app = CockpitApp(snapshot=models_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.query_one(ModelsPane)
        assert pane.content_size.width < 50  # the small pane: two lines per version
        rows = _rows(app)
        assert [r.split("\n")[0] for r in rows] == [
            "✖ degraded car_loan 3", "▲ drifting fraud 2", "○ no labels yet ranker",
            "● healthy fraud 1"]
        assert "drift 2/3" in rows[0] and "auc" in rows[0] and "0.958" in rows[0]
        assert "no labels" in rows[1]
        assert "1 degraded" in str(pane.border_subtitle)
        assert not app.query_one("#models-hint").display


async def test_zoom_focuses_the_list_and_enter_drills_down_and_back() -> None:
    app = CockpitApp(snapshot=models_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*TO_MODELS, "enter")
        await pilot.pause()
        assert app.zoomed == "models"
        table = app.query_one("#models-table", DataTable)
        assert app.focused is table and table.show_header
        detail = str(app.query_one("#models-detail", Static).render())
        assert "degraded since 2019-02-05" in detail and "car_value, salary_range" in detail
        await pilot.press("down")
        assert "fraud 2" in str(app.query_one("#models-detail", Static).render())
        await pilot.press("up", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ModelScreen) and app.screen.model.name == "car_loan 3"
        features = app.screen.query_one(DataTable)
        assert [str(features.get_row_at(i)[1]) for i in range(features.row_count)] == [
            "car_value", "salary_range", "score (output)", "driver_tenure"]
        assert "▲ drifting" in str(features.get_row_at(0)[0])
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FeatureScreen)
        plot = str(app.screen.query_one("#feature-plot", Static).render())
        assert "reference" in plot and "current" in plot and "30.0%" in plot
        verdict = str(app.screen.query_one("#feature-test", Static).render())
        assert "Wasserstein" in verdict and "0.930" in verdict
        assert "drifting since 2019-02-05" in verdict
        history = str(app.screen.query_one("#feature-history", Static).render())
        assert "statistic per window" in history and "10 windows" in history
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ModelScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.zoomed is None and app.focused is app.query_one(ModelsPane)


async def test_open_screens_follow_new_snapshots() -> None:
    app = CockpitApp(snapshot=models_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*TO_MODELS, "enter", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FeatureScreen)
        better = replace(CAR_LOAN, status="healthy", features=tuple(
            replace(f, statistic=0.05, drifted=False) for f in CAR_LOAN.features))
        view = replace(MODELS, models=(better, *MODELS.models[1:]))
        snapshot = models_snapshot()
        app.query_one(ModelsPane).show(view)
        await pilot.pause()
        assert app.screen.feature.statistic == 0.05  # type: ignore[attr-defined]
        assert "0.050" in str(app.screen.query_one("#feature-test", Static).render())
        assert snapshot.views["models"] is MODELS


async def test_no_view_says_no_source() -> None:
    app = CockpitApp(snapshot=fixed_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hint = str(app.query_one("#models-hint", Static).render())
        assert "No model source is configured" in hint


async def test_plain_glyphs_keep_status_readable() -> None:
    app = CockpitApp(snapshot=models_snapshot(), theme_name="ansi-dark", glyphs=PLAIN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = _rows(app)
        assert rows[0].startswith("x degraded") and rows[3].startswith("+ healthy")
        assert "█" not in "".join(rows)


# ---------------------------------------------------------------- snapshots


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_snapshot_cockpit(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(CockpitApp(snapshot=models_snapshot()), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_snapshot_zoomed(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(CockpitApp(snapshot=models_snapshot()), press=[*TO_MODELS, "enter"],
                        terminal_size=size)


def test_snapshot_feature(snap_compare) -> None:
    assert snap_compare(CockpitApp(snapshot=models_snapshot()),
                        press=[*TO_MODELS, "enter", "enter", "enter"], terminal_size=(80, 24))
