"""The Pipelines pane at 80x24: rows, zoom, drill two levels, OSC 52 copy, stale sources."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from opscockpit.analyzers.pipelines import PipelinesAnalyzer
from opscockpit.analyzers.telemetry import TelemetryAnalyzer
from opscockpit.engine import Engine, Scheduled
from opscockpit.sources.base import HealthState, SourceHealth
from opscockpit.sources.ci_http import HttpHooks
from opscockpit.sources.github_actions import GitHubActionsSource
from opscockpit.store import Store
from opscockpit.store.schema import TABLE_COLUMNS
from opscockpit.ui.app import CockpitApp
from opscockpit.ui.glyphs import PLAIN
from opscockpit.ui.panes.pipelines import PipelinesPane
from opscockpit.ui.panes.pipelines_drill import JobsScreen, RunsScreen
from tests.conftest import require_dataset
from tests.ui.fixtures import fixed_snapshot
from tests.ui.pipelines_fixture import pipelines_snapshot

SIZE = (80, 24)
RUN_704 = "https://github.com/acme/checkout/actions/runs/704"


def _text(widget: Any) -> str:
    return str(widget.render())


def _rows(app: CockpitApp) -> list[str]:
    table = app.query_one("#pipelines-table")
    return [" | ".join(cell.plain for cell in table.get_row_at(i))
            for i in range(table.row_count)]


def _spy_terminal(app: CockpitApp) -> list[str]:
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    real = driver.write
    driver.write = lambda data: (written.append(data), real(data))[1]  # type: ignore[method-assign]
    return written


def _osc52(text: str) -> str:
    return f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}\a"


async def test_small_pane_rows_say_their_state_in_words() -> None:
    app = CockpitApp(snapshot=pipelines_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = _rows(app)
        assert rows[0] == "✖ fail | Deploy pro… | ●✖●✖ | 40%"  # the strip: the last 4 runs
        assert rows[1] == "▶ run | CI | ●▶ | 0%"
        assert _text(app.query_one("#pipelines-dora")).startswith("dep 4.9/wk lead 33m cfr 67%")
        assert not app.query_one("#pipelines-health").display
        assert "1 failing" in str(app.query_one(PipelinesPane).border_subtitle)


async def test_zoom_focuses_the_list_and_drills_two_levels_with_copy() -> None:
    app = CockpitApp(snapshot=pipelines_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab", "enter")
        await pilot.pause()
        assert app.zoomed == "pipelines"
        assert app.focused is not None and app.focused.id == "pipelines-table"
        assert RUN_704 in _text(app.query_one("#pipelines-detail"))
        written = _spy_terminal(app)

        await pilot.press("enter")  # level 1: the pipeline's runs
        await pilot.pause()
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        assert runs.line.workflow == "Deploy production"
        assert "Deploy production @main" in _text(runs.query_one(".drill-title"))
        assert RUN_704 in _text(runs.query_one(".drill-detail"))
        await pilot.press("y")
        assert app.clipboard == RUN_704
        assert _osc52(RUN_704) in written

        await pilot.press("enter")  # level 2: the run's jobs and the failed step
        await pilot.pause()
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        detail = _text(jobs.query_one(".drill-detail"))
        assert "Failed: kubectl rollout status deploy/checkout in job deploy" in detail
        assert f"Run URL {RUN_704}" in detail
        await pilot.press("Y")
        assert app.clipboard == f"{RUN_704}/job/6"
        await pilot.press("y")
        assert app.clipboard == RUN_704

        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen.query_one(PipelinesPane), PipelinesPane)
        assert app.zoomed == "pipelines"
        await pilot.press("down", "enter")  # the running CI of the feature branch
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert app.screen.line.branch == "feature/cart-v2"


async def test_plain_glyphs_keep_states_readable() -> None:
    app = CockpitApp(snapshot=pipelines_snapshot(), theme_name="ansi-dark", glyphs=PLAIN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = _rows(app)
        assert rows[0] == "x fail | Deploy pro… | +x+x | 40%"
        assert rows[1].startswith("> run")
        assert all(ch not in "".join(rows) for ch in "●✖▶")


async def test_a_stale_source_keeps_the_data_and_says_why() -> None:
    reason = "rate limited by GitHub until 12:15:30 UTC"
    app = CockpitApp(snapshot=pipelines_snapshot(stale_reason=reason))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        health = app.query_one("#pipelines-health")
        assert health.display and f"▲ gh stale: {reason}" in _text(health)
        assert len(_rows(app)) == 5


async def test_no_runs_yet_names_the_source_and_its_trouble() -> None:
    base = fixed_snapshot()
    gh = SourceHealth("gh", "github_actions", HealthState.STALE,
                      "GitHub answered 401 Unauthorized: $GITHUB_TOKEN is not set")
    from dataclasses import replace

    app = CockpitApp(snapshot=replace(base, health=(*base.health, gh)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hint = _text(app.query_one("#pipelines-hint"))
        assert "No runs yet" in hint and "gh: stale" in hint and "GITHUB_TOKEN" in hint


# --- a real GitHub source behind respx, through the engine, into the app -------------

REPO = "hub4j-test-org/GHWorkflowRunTest"
RUNS_URL = f"https://api.github.com/repos/{REPO}/actions/runs"
CANARY = "ghp_CANARY0123456789abcdefghijklmnopqr"
NOW = datetime(2024, 2, 9, 12, 0, 0, tzinfo=UTC)


class StepClock:
    """Virtual time that moves by each sleep; the real wait is ``pace`` seconds."""

    live = True

    def __init__(self, at: datetime, pace: float = 0.01) -> None:
        self._now = at
        self.pace = pace

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        await asyncio.sleep(self.pace)


async def _no_sleep(_seconds: float) -> None:
    return None


async def _until(pilot: Any, check: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(mode: dict[str, str]) -> Callable[[httpx.Request], httpx.Response]:
    body = json.loads(require_dataset("ci/github_actions/list_workflow_runs_mixed.json")
                      .read_text())

    def answer(request: httpx.Request) -> httpx.Response:
        return {
            "ok": lambda: httpx.Response(200, json=body),
            "500": lambda: httpx.Response(500),
            "401": lambda: httpx.Response(401, json={"message": f"Bad credentials {CANARY}"}),
            "429": lambda: httpx.Response(429, headers={"retry-after": "45"}),
        }[mode["now"]]()

    return answer


@pytest.mark.parametrize("failure", ["500", "401", "429"])
async def test_failing_github_leaves_the_last_data_and_the_reason(
    failure: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    mode = {"now": "ok"}
    router = respx.Router(assert_all_called=False)
    router.get(RUNS_URL).mock(side_effect=_answers(mode))
    hooks = HttpHooks(sleep=_no_sleep, jitter=lambda: 0.0, now=lambda: NOW,
                      transport=httpx.MockTransport(router.async_handler))
    source = GitHubActionsSource("gh", {"repos": [REPO], "jobs": False, "retries": 2,
                                        "deploys": [{"workflow": "^Fast", "service": "api"}]},
                                 hooks=hooks)
    store = Store.open(None)
    clock = StepClock(NOW)
    engine = Engine(store, [Scheduled(source, 1.0, 5.0)], clock=clock, refresh_s=0.02,
                    analyzers=[TelemetryAnalyzer(), PipelinesAnalyzer()])
    app = CockpitApp(engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: len(_rows(app)) == 5, "the first runs")
        mode["now"] = failure
        health = app.query_one("#pipelines-health")
        await _until(pilot, lambda: bool(health.display), "the stale line")
        expected = {"500": "GitHub answered 500 Internal Server Error",
                    "401": "GitHub answered 401 Unauthorized: check the token in $GITHUB_TOKEN",
                    "429": "rate limited by GitHub until 12:00:45 UTC"}[failure]
        assert expected in _text(health)
        assert expected in _text(app.query_one("#status-bar"))
        assert len(_rows(app)) == 5  # the last data stays on screen
        clock.pace = 1.0  # polls keep failing, slowly enough for the pilot to type
        await pilot.press("tab", "tab", "enter", "enter")  # the app keeps working
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        screenshot = app.export_screenshot()
        sent = router.calls.last.request.headers["Authorization"]
        assert sent == f"Bearer {CANARY}"  # the token was really in play
    assert (await asyncio.to_thread(engine.snapshot)).health[0].state is HealthState.STALE
    # The canary token reached no screen, log line, store row or report.
    from opscockpit.report import builder

    monkeypatch.setattr(builder, "SECTIONS", (
        *builder.SECTIONS,
        (("pipelines", "dora", "changes"), "opscockpit.report.pipelines:pipelines_section"),
    ))
    report = json.dumps(builder.build_report(store), default=str)
    assert json.loads(report)["changes"][0]["service"] == "api"
    rows = [store.query(f"SELECT * FROM {t}").to_string() for t in TABLE_COLUMNS]
    rows += [store.query(f"SELECT * FROM {t}").to_string() for t in ("meta", "analyzer_state")]
    for where, text in (("screen", screenshot), ("log", caplog.text), ("report", report),
                        ("store", "\n".join(rows))):
        assert CANARY not in text, where


# --- how it looks: a few SVG snapshots of the fixed history --------------------------

@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_snapshot_cockpit(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(CockpitApp(snapshot=pipelines_snapshot()), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_snapshot_zoomed(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(CockpitApp(snapshot=pipelines_snapshot()), terminal_size=size,
                        press=["tab", "tab", "enter"])


def test_snapshot_runs(snap_compare: Any) -> None:
    assert snap_compare(CockpitApp(snapshot=pipelines_snapshot()), terminal_size=SIZE,
                        press=["tab", "tab", "enter", "enter"])


def test_snapshot_jobs_with_the_failed_step(snap_compare: Any) -> None:
    assert snap_compare(CockpitApp(snapshot=pipelines_snapshot()), terminal_size=SIZE,
                        press=["tab", "tab", "enter", "enter", "enter"])


def test_snapshot_stale_source_in_sixteen_colours(snap_compare: Any) -> None:
    app = CockpitApp(snapshot=pipelines_snapshot(
        stale_reason="rate limited by GitHub until 12:15:30 UTC"),
        theme_name="ansi-dark", glyphs=PLAIN)
    assert snap_compare(app, terminal_size=SIZE)
