from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from opscockpit.records import Alert, Annotation, Change, ChangeKind, MetricSample, Severity
from opscockpit.sources.base import Batch
from opscockpit.store import SCHEMA_VERSION, Store, StoreError

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    alert = Alert(T0, "a1", "am", Severity.CRITICAL, "web-1", "web", "Down", "web-1 is <b>down</b>",
                  {"alertname": "Down", "team": "sre"}, "fp1", "firing", None)
    change = Change(T0 + timedelta(minutes=1), "c1", ChangeKind.DEPLOY, "api", "1.2", "abc",
                    "ana", "https://ci/1", "github_actions")
    path = tmp_path / "s.duckdb"
    with Store.open(path) as store:
        store.append(Batch(alerts=[alert], changes=[change],
                           metrics=[MetricSample(T0, "web-1", "cpu_pct", 42.5)]))
    with Store.open(path, read_only=True) as store:
        alerts = store.window("alerts")
        assert alerts.loc[0, "message"] == "web-1 is <b>down</b>"
        assert alerts.loc[0, "severity"] == "critical"
        assert alerts.loc[0, "labels"] == '{"alertname": "Down", "team": "sre"}'
        assert alerts.loc[0, "ts"] == pd.Timestamp(T0)
        assert str(alerts["ts"].dt.tz) == "UTC"
        changes = store.window("changes")
        assert list(changes[["id", "kind", "service", "sha"]].iloc[0]) == ["c1", "deploy", "api",
                                                                            "abc"]
        assert store.window("metrics")["value"].tolist() == [42.5]


def test_window_bounds_and_filters() -> None:
    store = Store.open(None)
    samples = [MetricSample(T0 + timedelta(seconds=i), h, "cpu_pct", float(i))
               for i in range(10) for h in ("a", "b")]
    store.append(Batch(metrics=samples))
    got = store.window("metrics", T0 + timedelta(seconds=2), T0 + timedelta(seconds=5),
                       where={"host": "a"})
    assert got["value"].tolist() == [2.0, 3.0, 4.0]
    assert store.time_span() == (T0, T0 + timedelta(seconds=9))
    with pytest.raises(ValueError, match="no column"):
        store.window("metrics", where={"nope; DROP TABLE metrics": 1})


def test_hundred_thousand_rows_in_one_call() -> None:
    store = Store.open(None)
    n = 100_000
    frame = pd.DataFrame({
        "ts": pd.date_range(T0, periods=n, freq="s", tz="UTC"),
        "host": "h", "metric": "cpu_pct", "value": np.arange(n, dtype=float),
    })
    started = time.perf_counter()
    assert store.append_frame("metrics", frame, origin="import") == n
    assert time.perf_counter() - started < 10  # generous: proves one bulk call, not a loop
    assert store.count("metrics") == n
    row = store.query("SELECT sum(value) AS s FROM metrics")
    assert row["s"][0] == n * (n - 1) / 2


def test_schema_is_versioned_and_reopening_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        versions = store.query("SELECT version FROM schema_version")["version"].tolist()
        assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_migrates_an_unversioned_file_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE unrelated (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="open it once without --readonly"):
        Store.open(path, read_only=True)
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_refuses_a_store_from_a_newer_opscockpit(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    Store.open(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version) VALUES (999)")
    con.close()
    with pytest.raises(StoreError, match=r"newer than this opscockpit"):
        Store.open(path)


def test_retention_spares_imported_rows() -> None:
    store = Store.open(None)
    old = T0 - timedelta(days=30)
    store.append(Batch(metrics=[MetricSample(old, "h", "cpu_pct", 1.0)]), origin="live")
    store.append(Batch(metrics=[MetricSample(old, "h", "cpu_pct", 2.0)]), origin="import")
    store.append(Batch(metrics=[MetricSample(T0, "h", "cpu_pct", 3.0)]), origin="live")
    store.append(Batch(annotations=[Annotation(old, "n1", "note", "", "x")]), origin="live")
    assert store.apply_retention(T0, timedelta(days=7)) == 2
    assert sorted(store.window("metrics")["value"]) == [2.0, 3.0]


def test_read_only_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    with Store.open(path, read_only=True) as store, pytest.raises(StoreError, match="read-only"):
        store.append(Batch(metrics=[MetricSample(T0, "h", "m", 1.0)]))


def test_not_a_database_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    message = str(info.value)
    assert str(path) in message and "not a DuckDB database" in message
    assert "\n" not in message
    assert path.read_text().startswith("these are my notes")  # nothing lost


def test_locked_store_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from opscockpit.store import Store
            s = Store.open({str(path)!r})
            print("ready", flush=True)
            time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        for read_only in (False, True):
            with pytest.raises(StoreError) as info:
                Store.open(path, read_only=read_only)
            message = str(info.value)
            assert str(path) in message
            assert "another opscockpit is writing it" in message
            assert f"PID {holder.pid}" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_v1_store_migrates_forward_keeping_its_rows(tmp_path: Path) -> None:
    from opscockpit.store.schema import MIGRATIONS

    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMPTZ)")
    for statement in MIGRATIONS[0]:
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, now())")
    con.execute("INSERT INTO changes (ts, id, kind, service) VALUES "
                "('2026-01-01 00:00:00+00', 'c1', 'deploy', 'api')")
    con.close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        changes = store.window("changes")
        assert changes["id"].tolist() == ["c1"] and changes["status"].isna().all()
        assert store.count("anomalies") == 0


def test_analyzer_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path) as store:
        store.save_state("alerts", {"clusters": [1, 2], "seen": {"a": 1.5}}, T0)
    with Store.open(path, read_only=True) as store:
        assert store.load_state("alerts") == {"clusters": [1, 2], "seen": {"a": 1.5}}
        assert store.load_state("nope") is None


def test_held_appends_are_seen_by_every_reader_and_written_by_close(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    store = Store.open(path)
    store.hold_appends(3600.0)
    for i in range(3):
        store.append(Batch(metrics=[MetricSample(T0 + timedelta(seconds=i), "h", "cpu_pct", i)]))
        store.append(Batch(metrics=[MetricSample(T0 + timedelta(seconds=i), "h", "x", -1.0)]),
                     origin="derived")
    other = duckdb.connect(str(path))  # the same database, through its own connection
    assert other.execute("SELECT count(*) FROM metrics").fetchone() == (0,)  # held
    assert store.window("metrics", where={"metric": "cpu_pct"})["value"].tolist() == [0, 1, 2]
    assert other.execute("SELECT count(*) FROM metrics").fetchone() == (6,)  # written
    other.close()
    store.append(Batch(metrics=[MetricSample(T0 + timedelta(seconds=9), "h", "cpu_pct", 9.0)]))
    store.close()
    with Store.open(path, read_only=True) as reopened:
        frame = reopened.window("metrics")
        assert frame[frame.metric == "cpu_pct"]["value"].tolist() == [0, 1, 2, 9]
        assert set(frame[frame.metric == "x"]["origin"]) == {"derived"}


def test_held_appends_are_written_once_they_are_old_enough(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "held.duckdb")
    store.hold_appends(0.05)
    other = duckdb.connect(str(tmp_path / "held.duckdb"))
    store.append(Batch(metrics=[MetricSample(T0, "h", "cpu_pct", 1.0)]))
    time.sleep(0.06)
    store.append(Batch(metrics=[MetricSample(T0, "h", "cpu_pct", 2.0)]))
    assert other.execute("SELECT count(*) FROM metrics").fetchone() == (2,)
    other.close()
    store.close()
