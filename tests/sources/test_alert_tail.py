"""Tailing alert and log files: only new bytes, whole lines, rotation and truncation."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from opscockpit.sources.alert_files import parse_alert_file
from opscockpit.sources.alert_tail import AlertFileSource
from opscockpit.sources.base import Batch, SourceError
from tests.conftest import require_dataset


def _line(n: int, title: str = "Down", ts: str = "2024-03-01T10:00:00Z") -> str:
    return json.dumps({"id": f"a{n}", "ts": ts, "severity": "error", "host": "web-1",
                       "title": title, "message": f"{title} {n}"}) + "\n"


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _ids(batch: Batch) -> list[str]:
    frame = batch.frames.get("alerts")
    return [] if frame is None else list(frame["id"])


def test_growing_file_is_read_once_and_only_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "alerts.ndjson"
    path.write_text(_line(1))
    source = AlertFileSource("t", {"path": str(path), "from_start": True})
    assert _ids(source.poll(None)) == ["a1"]
    assert _ids(source.poll(None)) == []
    # What was read is never read again: scribble over it (same length), append a line.
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(b"x" * (size - 1))
    half = _line(3)
    _append(path, _line(2) + half[:20])
    assert _ids(source.poll(None)) == ["a2"]  # the half-written line waits
    _append(path, half[20:])
    assert _ids(source.poll(None)) == ["a3"]
    assert source.rejected == 0


def test_starts_at_the_end_unless_from_start(tmp_path: Path) -> None:
    path = tmp_path / "alerts.ndjson"
    path.write_text(_line(1) + _line(2))
    source = AlertFileSource("t", {"path": str(path)})
    assert _ids(source.poll(None)) == []
    _append(path, _line(3))
    assert _ids(source.poll(None)) == ["a3"]


def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "alerts.ndjson"
    path.write_text(_line(1))
    source = AlertFileSource("t", {"path": str(path), "from_start": True})
    assert _ids(source.poll(None)) == ["a1"]
    _append(path, _line(2))  # written just before logrotate renames the file
    os.rename(path, tmp_path / "alerts.ndjson.1")
    assert _ids(source.poll(None)) == ["a2"]  # between rename and re-create
    path.write_text(_line(3))
    assert _ids(source.poll(None)) == ["a3"]


def test_truncation_in_place_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "alerts.ndjson"
    path.write_text(_line(1) + _line(2))
    source = AlertFileSource("t", {"path": str(path), "from_start": True})
    assert _ids(source.poll(None)) == ["a1", "a2"]
    path.write_text(_line(9))  # copytruncate: same file, shorter
    assert _ids(source.poll(None)) == ["a9"]


def test_directory_new_files_and_rotated_copies(tmp_path: Path) -> None:
    (tmp_path / "app.ndjson").write_text(_line(1))
    (tmp_path / ".hidden").write_text(_line(99))
    source = AlertFileSource("t", {"path": str(tmp_path)})
    assert _ids(source.poll(None)) == []  # what is there at start is history
    (tmp_path / "new.ndjson").write_text(_line(2))
    _append(tmp_path / "app.ndjson", _line(3))
    assert sorted(_ids(source.poll(None))) == ["a2", "a3"]
    shutil.copy(tmp_path / "app.ndjson", tmp_path / "app.ndjson.1")  # copytruncate's copy
    (tmp_path / "old.ndjson.gz").write_bytes(b"\x1f\x8b not text")
    assert _ids(source.poll(None)) == []


def test_alertmanager_document_rewritten_emits_only_new_alerts(tmp_path: Path) -> None:
    recorded = require_dataset("alertmanager/api_v2_alerts_recorded.json").read_text()
    doc = json.loads(recorded)
    path = tmp_path / "am.json"
    path.write_text(json.dumps(doc[:1], indent=2))
    source = AlertFileSource("t", {"path": str(tmp_path), "from_start": True})
    assert len(_ids(source.poll(None))) == 1
    path.write_text(json.dumps(doc, indent=2))  # the poller rewrites the whole list
    assert len(_ids(source.poll(None))) == len(doc) - 1
    path.write_text(json.dumps(doc, indent=2)[:-5])  # half-written: wait for the rest
    assert _ids(source.poll(None)) == [] and source.rejected == 0
    for _ in range(2):  # still the same bytes a poll later: broken, reported once
        assert _ids(source.poll(None)) == [] and source.rejected == 1


def test_logs_ids_count_from_the_top_and_continuations_keep_their_time(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("2024-03-01 10:00:00 ERROR first failure\n")
    source = AlertFileSource("t", {"path": str(path), "from_start": True,
                                   "patterns": ["timed out"]})
    assert _ids(source.poll(None)) == ["app.log:1"]
    _append(path, "  at frame one\n2024-03-01 10:00:05 INFO call timed out after 3s\n"
                  "2024-03-01 10:00:06 INFO all good\n")
    batch = source.poll(None)
    assert _ids(batch) == ["app.log:3"] and source.rejected == 0  # the stack line is dated
    frame = batch.frames["alerts"]
    assert json.loads(frame["labels"].iloc[0]) == {"file": "app.log", "line": "3"}


@pytest.mark.parametrize("name", ["Zookeeper", "BGL"])
def test_tailed_file_gives_the_same_alerts_as_ingest(tmp_path: Path, name: str) -> None:
    lines = require_dataset(f"loghub/{name}/{name}_2k.log").read_text().splitlines(True)
    path = tmp_path / f"{name}_2k.log"
    source = AlertFileSource("t", {"path": str(path), "from_start": True})
    path.write_text("")
    tailed = []
    for start in range(0, len(lines), 300):
        _append(path, "".join(lines[start:start + 300]))
        frame = source.poll(None).frames.get("alerts")
        if frame is not None:
            tailed.append(frame)
    import pandas as pd

    got = pd.concat(tailed, ignore_index=True)
    want = parse_alert_file(path).frame
    cols = ["id", "ts", "severity", "host", "service", "title", "fingerprint", "labels"]
    pd.testing.assert_frame_equal(got[cols], want[cols])


def test_bad_options_fail_at_start_and_missing_dirs_at_poll(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pattern"):
        AlertFileSource("t", {"path": str(tmp_path), "patterns": ["(unclosed"]})
    with pytest.raises(ValueError, match="needs option 'path'"):
        AlertFileSource("t", {})
    gone = AlertFileSource("t", {"path": str(tmp_path / "no" / "such.log")})
    with pytest.raises(SourceError, match="no such file"):
        gone.poll(None)
    waiting = AlertFileSource("t", {"path": str(tmp_path / "not-yet.log")})
    assert len(waiting.poll(None)) == 0  # the folder exists: the file may come


async def test_engine_tails_a_file_into_the_alerts_view(tmp_path: Path) -> None:
    """Live, end to end: a file growing under the engine becomes clusters in the snapshot."""
    import asyncio

    from opscockpit.analyzers.alerts import AlertsAnalyzer
    from opscockpit.engine import Engine, Scheduled
    from opscockpit.store import Store

    path = tmp_path / "alerts.ndjson"
    path.write_text("")
    source = AlertFileSource("storm", {"path": str(path)})
    store = Store.open(tmp_path / "c.duckdb")
    engine = Engine(store, [Scheduled(source, 0.05, 5.0)], refresh_s=0.05,
                    analyzers=[AlertsAnalyzer()])
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(0.3)
    assert engine.last_snapshot is None or engine.last_snapshot.views["alerts"] is None
    _append(path, "".join(_line(i, "Down" if i % 2 else "Slow") for i in range(40)))
    for _ in range(100):
        await asyncio.sleep(0.05)
        view = engine.last_snapshot.views["alerts"] if engine.last_snapshot else None
        if view is not None and view.noise.alerts == 40:
            break
    engine.stop()
    await asyncio.wait_for(task, 15)
    assert view is not None and view.noise.alerts == 40 and len(view.clusters) == 1
    assert store.load_state("alerts") is not None  # saved at shutdown
    store.close()
