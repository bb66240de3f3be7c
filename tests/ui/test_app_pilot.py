from __future__ import annotations

from opscockpit.ui.app import CockpitApp
from opscockpit.ui.help_screen import HelpScreen
from opscockpit.ui.panes.telemetry import TelemetryPane
from tests.ui.fixtures import fixed_snapshot

SIZE = (80, 24)


def _app() -> CockpitApp:
    return CockpitApp(snapshot=fixed_snapshot())


async def test_four_panes_render_with_figures() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ids = [pane.id for pane in app.query(".pane")]
        assert ids == ["telemetry", "alerts", "pipelines", "models"]
        figures = str(app.query_one("#telemetry-figures").render())
        assert "CPU" in figures and "61%" in figures and "Mem" in figures and "83%" in figures
        assert "warn" in figures  # severity as a word, not colour alone
        assert len(app.query_one(TelemetryPane).sorted_processes()) == 4
        assert "postgres" in str(app.query_one("#processes").render())
        assert "No alert source is configured" in str(app.query_one("#alerts .empty-hint").render())


async def test_tab_moves_focus_between_panes_and_back() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is not None and app.focused.id == "telemetry"
        order = []
        for _ in range(4):
            await pilot.press("tab")
            order.append(app.focused.id if app.focused else None)
        assert order == ["alerts", "pipelines", "models", "telemetry"]
        await pilot.press("shift+tab")
        assert app.focused is not None and app.focused.id == "models"


async def test_enter_zooms_and_escape_returns() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert app.zoomed == "alerts"
        assert app.query_one("#alerts").outer_size.width == 80
        assert not app.query_one("#telemetry").display
        await pilot.press("escape")
        await pilot.pause()
        assert app.zoomed is None
        assert app.query_one("#telemetry").size.width > 40


async def test_sorting_processes_by_memory() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TelemetryPane)
        assert pane.sorted_processes()[0].name == "postgres"
        await pilot.press("m")
        assert pane.sort_by == "mem"
        assert pane.sorted_processes()[0].name == "java"
        rows = str(app.query_one("#processes").render()).splitlines()
        assert "MEM%▼" in rows[0] and rows[1].endswith("java")


async def test_help_opens_and_closes() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_freeze_keeps_the_picture() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert app.frozen
        status = str(app.query_one("#status-bar").render())
        assert "FROZEN" in status


async def test_q_quits() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_command_palette_lists_cockpit_actions() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"zoom")
        await pilot.pause(0.3)
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")


async def test_plain_glyphs_keep_severity_readable() -> None:
    from opscockpit.ui.glyphs import PLAIN

    app = CockpitApp(snapshot=fixed_snapshot(), theme_name="ansi-dark", glyphs=PLAIN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        figures = str(app.query_one("#telemetry-figures").render())
        assert "█" not in figures and "#" in figures and "crit" in figures
        status = str(app.query_one("#status-bar").render())
        assert "+ host ok" in status


async def test_anomalous_series_are_marked_by_glyph_and_listed() -> None:
    app = CockpitApp(snapshot=fixed_snapshot(anomalies=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = str(app.query_one("#telemetry-figures").render()).splitlines()
        assert lines[0].startswith("CPU✖")  # open anomaly on cpu_pct marks the CPU row
        assert any(line.startswith("Mem▲") for line in lines)  # an ended one on memory
        assert any("anomaly cpu_pct since 09:27:00" in line for line in lines)
        assert any("anomaly mem_pct 08:50–08:59" in line for line in lines)


async def test_h_cycles_through_hosts() -> None:
    from opscockpit.snapshot import Snapshot

    one, two = fixed_snapshot("web-1"), fixed_snapshot("db-1")
    both = Snapshot(now=one.now, live=True, health=one.health,
                    views={"telemetry": one.telemetry + two.telemetry})
    app = CockpitApp(snapshot=both)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TelemetryPane)
        assert pane.view is not None and pane.view.host == "web-1"
        assert "(1/2, h: next)" in str(pane.border_subtitle)
        await pilot.press("h")
        assert pane.view.host == "db-1"
        await pilot.press("h")
        assert pane.view.host == "web-1"


async def test_snapshots_arriving_under_another_screen_do_not_break_the_app() -> None:
    from opscockpit.ui.app_messages import SnapshotReady

    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        app.post_message(SnapshotReady(fixed_snapshot("db-9")))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert "db-9" in str(app.query_one("#status-bar").render())


async def test_help_lists_the_focused_panes_own_keys() -> None:
    app = _app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("tab", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen.pane_keys is not None
        title, keys = app.screen.pane_keys
        assert title == "Alerts" and ("a", "Actionable") in keys and ("/", "Filter") in keys
