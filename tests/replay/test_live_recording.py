from __future__ import annotations

from pathlib import Path

import pytest

from opscockpit.engine import Engine, Scheduled
from opscockpit.recording import read_manifest
from opscockpit.report.builder import build_report
from opscockpit.report.source import open_report_source
from opscockpit.sources.host import HostSource
from opscockpit.store import Store
from opscockpit.ui.app import CockpitApp


async def test_r_records_the_live_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = Engine(Store.open(None), [Scheduled(HostSource("host"), 0.2, 5.0)], refresh_s=0.2)
    app = CockpitApp(engine, sources=["host"])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("R")
        assert app.recorder is not None
        assert "REC" in str(app.query_one("#status-bar").render())
        await pilot.pause(1.5)
        await pilot.press("R")
        assert app.recorder is None
    (recording,) = tmp_path.glob("opscockpit-recording-*.duckdb")
    with Store.open(recording, read_only=True) as store:
        manifest = read_manifest(store)
        assert manifest is not None and manifest.sources == ["host"] and not manifest.analysed
        assert store.count("metrics") > 10
    replayed = open_report_source(recording)  # not analysed: replayed into memory first
    assert build_report(replayed)["hosts"]


async def test_recording_key_is_hidden_in_replay_and_without_engine() -> None:
    from tests.ui.fixtures import fixed_snapshot

    app = CockpitApp(snapshot=fixed_snapshot())
    async with app.run_test(size=(80, 24)):
        assert app.check_action("toggle_recording", ()) is False
