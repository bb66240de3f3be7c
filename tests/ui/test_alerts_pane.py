"""The Alerts pane at 80x24 first: rows, drill-down, filter, feedback; and how it looks."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from textual.widgets import OptionList

from opscockpit.records import Annotation
from opscockpit.ui import app as app_module
from opscockpit.ui.app import AnnotationRequested, CockpitApp
from opscockpit.ui.glyphs import PLAIN
from opscockpit.ui.panes.alerts import AlertsPane
from opscockpit.ui.panes.alerts_drill import ClusterScreen, NoteScreen, member_text
from opscockpit.ui.panes.alerts_filter import FilterError, parse_filter
from tests.ui.alerts_fixtures import CLUSTERS, alerts_snapshot

SIZE = (80, 24)


class RecordingApp(CockpitApp):
    """The cockpit, remembering the feedback its panes ask it to store."""

    CSS_PATH = str(Path(app_module.__file__).with_name("cockpit.tcss"))  # not beside this test
    requested: ClassVar[list[Annotation]] = []

    def on_annotation_requested(self, message: AnnotationRequested) -> None:
        self.requested.append(message.annotation)


def _app(**kwargs: object) -> RecordingApp:
    RecordingApp.requested = []
    return RecordingApp(snapshot=alerts_snapshot(), **kwargs)  # type: ignore[arg-type]


def _rows(app: CockpitApp) -> list[str]:
    listing = app.query_one("#alerts-list", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_small_pane_shows_one_row_per_cluster_with_words() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.query_one("#alerts-hint").display
        rows = _rows(app)
        assert len(rows) == len(CLUSTERS)
        assert rows[0].startswith("✖ crit ↑") and "180" in rows[0]  # glyph, word, growing
        assert "⇅" in rows[3] and "warn" in rows[3]  # flapping marker
        header = str(app.query_one("#alerts-noise").render())
        assert "295 alerts → 5 clusters" in header


async def test_zoomed_pane_spends_width_on_columns() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert app.zoomed == "alerts"
        assert isinstance(app.focused, OptionList) and app.focused.id == "alerts-list"
        rows = _rows(app)
        assert "web-1+4" in rows[0] and "09:29" in rows[0] and "<HOST>" in rows[4]
        assert app.query_one("#alerts-columns").display
        assert "marked noise 1/5" in str(app.query_one("#alerts-noise").render())


async def test_enter_drills_into_members_and_shows_untrusted_text_literally() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "enter", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClusterScreen) and screen.cluster.id == "Cstorm00001"
        members = screen.query_one("#cluster-members", OptionList)
        assert members.option_count == len(CLUSTERS[0].members)
        text = str(screen.query_one("#member-text").render())
        assert "[bold]not markup[/bold]" in text and "\\x1b[31m" in text
        assert "\x1b" not in text
        await pilot.press("down")
        assert "id s179" in str(screen.query_one("#member-text").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ClusterScreen) and app.zoomed == "alerts"


async def test_slash_filters_and_a_bad_filter_says_why() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "enter", "slash")
        await pilot.press(*"sev>=err host=web*", "enter")
        await pilot.pause()
        pane = app.query_one(AlertsPane)
        assert [c.id for c in pane.visible_clusters()] == ["Cstorm00001"]
        assert len(_rows(app)) == 1 and pane.border_subtitle.endswith("1/5")
        await pilot.press("slash", "ctrl+u", *"sev>=bogus", "enter")
        await pilot.pause()
        assert app.query_one("#alerts-filter").display  # still open to be fixed
        assert pane.filter.text == "sev>=err host=web*"
        await pilot.press("escape")  # closes the line, keeps the filter, stays zoomed
        await pilot.pause()
        assert not app.query_one("#alerts-filter").display and app.zoomed == "alerts"
        await pilot.press("slash", "ctrl+u", "enter")
        await pilot.pause()
        assert len(_rows(app)) == 5


async def test_feedback_keys_post_annotations() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "n")  # the pane focused in the grid: no row was chosen
        await pilot.pause()
        assert app.requested == []
        await pilot.press("enter", "down", "n")
        await pilot.pause()
        assert [(a.kind, a.target, a.text) for a in app.requested] == [
            ("noise", "Cbilling002", "")]
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"db team", "enter")
        await pilot.pause()
        assert (app.requested[-1].kind, app.requested[-1].text) == ("acknowledged", "db team")
        await pilot.press("enter", "a")  # from the drill-down too
        await pilot.pause()
        assert (app.requested[-1].kind, app.requested[-1].target) == ("actionable",
                                                                        "Cbilling002")


async def test_read_only_hides_feedback() -> None:
    app = _app(readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "enter", "n", "a", "k")
        await pilot.pause()
        assert app.requested == [] and not isinstance(app.screen, NoteScreen)
        keys = {b.key for b in app.active_bindings.values() if b.binding.action.startswith("mark")}
        assert keys == set()


def test_member_text_is_plain_text() -> None:
    text = member_text(CLUSTERS[0].members[0])
    assert "[bold]not markup[/bold]" in text.plain and "\\x1b[31m" in text.plain


# --- the filter line, a pure function ------------------------------------------------
def test_filter_terms() -> None:
    f = parse_filter('sev>=warn host=web* service=api "health check"')
    assert (f.min_rank, f.max_rank, f.hosts, f.services, f.words) == (
        1, 3, ("web*",), ("api",), ("health check",))
    assert [c.id for c in CLUSTERS if f.matches(c)] == ["Cstorm00001"]
    assert parse_filter("sev=crit").min_rank == parse_filter("sev=crit").max_rank == 3
    assert parse_filter("severity<error").max_rank == 1
    assert parse_filter("sev>=fatal").min_rank == 3  # any alias Severity knows
    assert [c.id for c in CLUSTERS if parse_filter("status=flapping").matches(c)] == [
        "Clag0000004"]
    assert [c.id for c in CLUSTERS if parse_filter("mark=noise").matches(c)] == [
        "Cdisk000003"]
    assert [c.id for c in CLUSTERS if parse_filter("HOST=DB-*").matches(c)] == ["Clag0000004"]
    assert all(parse_filter("").matches(c) for c in CLUSTERS)


@pytest.mark.parametrize("text", ["sev>=bogus", "sev>=crit sev<=warn", "host>web",
                                  "status=sleeping", 'unterminated "quote', "sev>="])
def test_filter_errors_name_the_term(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text)


# --- how it looks ----------------------------------------------------------------------
def test_snapshot_small_pane(snap_compare) -> None:
    assert snap_compare(CockpitApp(snapshot=alerts_snapshot()), terminal_size=SIZE)


def test_snapshot_zoomed(snap_compare) -> None:
    assert snap_compare(CockpitApp(snapshot=alerts_snapshot()), terminal_size=SIZE,
                        press=["tab", "enter"])


def test_snapshot_drill_down(snap_compare) -> None:
    assert snap_compare(CockpitApp(snapshot=alerts_snapshot()), terminal_size=SIZE,
                        press=["tab", "enter", "enter"])


def test_snapshot_plain_glyphs(snap_compare) -> None:
    app = CockpitApp(snapshot=alerts_snapshot(), theme_name="ansi-dark", glyphs=PLAIN)
    assert snap_compare(app, terminal_size=SIZE, press=["tab", "enter"])


@pytest.mark.parametrize("press", [[], ["tab", "enter"]], ids=["grid", "zoomed"])
def test_snapshot_wide(snap_compare, press: list[str]) -> None:
    assert snap_compare(CockpitApp(snapshot=alerts_snapshot()), terminal_size=(200, 50),
                        press=press)
