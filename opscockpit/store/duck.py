"""The embedded DuckDB store: versioned schema, batch appends, window queries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from opscockpit.store.columns import insert_sql, normalise_frame, records_to_columns
from opscockpit.store.errors import StoreError, explain_open_error
from opscockpit.store.schema import BATCH_TABLES, MIGRATIONS, SCHEMA_VERSION, TABLE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from opscockpit.sources.base import Batch

MEMORY = ":memory:"


class Store:
    """One DuckDB database. Safe to share between threads: calls are serialised."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self._con = con
        self._lock = threading.RLock()
        self.path = path
        self.read_only = read_only
        self._insert_sql: dict[str, str] = {}
        # Records appended but not yet written, by (batch attribute, origin): see hold_appends.
        self._held: dict[tuple[str, str], list[Any]] = {}
        self._held_since: float | None = None
        self._hold_s = 0.0

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, read_only: bool = False) -> Store:
        """Open (and create or migrate) a store; ``None`` gives an in-memory one."""
        target = MEMORY if path in (None, MEMORY) else str(Path(path).expanduser())
        if target != MEMORY:
            file = Path(target)
            if read_only and not file.exists():
                raise StoreError(f"store {file} does not exist")
            if file.is_dir():
                raise StoreError(f"store {file} is a directory: give a file path for --db")
            if not read_only:
                try:
                    file.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"store {file}: cannot create its folder ({exc})") from exc
        try:
            con = duckdb.connect(target, read_only=read_only and target != MEMORY)
        except (duckdb.Error, OSError) as exc:
            raise explain_open_error(Path(target), exc) from None
        con.execute("SET TimeZone = 'UTC'")
        store = cls(con, target, read_only)
        try:
            store._migrate()
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"store {target} cannot be migrated: {exc}") from None
        return store

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema v{version}, newer than this opscockpit "
                f"(v{SCHEMA_VERSION}): upgrade opscockpit"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(
                f"store {self.path} has schema v{version}, this opscockpit needs "
                f"v{SCHEMA_VERSION}: open it once without --readonly to migrate it"
            )
        with self._transaction():
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER, applied_at TIMESTAMPTZ DEFAULT now())"
            )
            for number, statements in enumerate(MIGRATIONS, start=1):
                if number <= version:
                    continue
                for statement in statements:
                    self._con.execute(statement)
                self._con.execute("INSERT INTO schema_version (version) VALUES (?)", [number])

    @property
    def schema_version(self) -> int:
        with self._current():
            exists = self._con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
            ).fetchone()
            if not exists or not exists[0]:
                return 0
            row = self._con.execute("SELECT max(version) FROM schema_version").fetchone()
            return int(row[0] or 0) if row else 0

    def close(self) -> None:
        with self._lock:
            try:
                if self._held:
                    self._write_held()
            finally:
                self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------
    def hold_appends(self, seconds: float) -> None:
        """Write appended records in one transaction at most every ``seconds``.

        A DuckDB transaction costs far more than the few dozen rows a live poll brings
        (measured: ten polls appended together cost a sixth of ten appended one by one).
        Held records are written before anything else touches the database, so every
        reader of this store sees them; a crash loses at most ``seconds`` of them.
        """
        with self._current():
            self._hold_s = max(0.0, seconds)

    def append(self, batch: Batch, origin: str = "live") -> int:
        """Append every record of a batch: one statement per table, all or nothing."""
        self._writable()
        if self._hold_s > 0.0 and not batch.frames:
            return self._hold(batch, origin)
        written = 0
        with self._current(), self._transaction():
            written += self._insert_records(
                (attr, origin, getattr(batch, attr)) for attr in BATCH_TABLES)
            for table, frame in batch.frames.items():
                written += self._append_frame_locked(table, frame, origin)
        return written

    def _hold(self, batch: Batch, origin: str) -> int:
        held = 0
        with self._lock:
            for attr in BATCH_TABLES:
                records = getattr(batch, attr)
                if records:
                    self._held.setdefault((attr, origin), []).extend(records)
                    held += len(records)
            now = time.monotonic()
            if self._held_since is None:
                self._held_since = now
            elif now - self._held_since >= self._hold_s:
                self._write_held()
        return held

    def _insert_records(self, groups: Iterable[tuple[str, str, list[Any]]]) -> int:
        written = 0
        for attr, origin, records in groups:
            if records:
                table = BATCH_TABLES[attr]
                columns = records_to_columns(table, records)
                self._con.execute(self._insert(table), [*columns, origin])
                written += len(records)
        return written

    def _write_held(self) -> None:
        """Under the lock: write what :meth:`_hold` kept (dropped if the write fails)."""
        held, self._held, self._held_since = self._held, {}, None
        with self._transaction():
            self._insert_records((attr, origin, records)
                                 for (attr, origin), records in held.items())

    @contextmanager
    def _current(self) -> Iterator[None]:
        """The lock, with every held record written first."""
        with self._lock:
            if self._held:
                self._write_held()
            yield

    def _insert(self, table: str) -> str:
        if table not in self._insert_sql:
            rows = self._con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ?", [table]
            ).fetchall()
            self._insert_sql[table] = insert_sql(table, {str(n): str(t) for n, t in rows})
        return self._insert_sql[table]

    def append_frame(
        self, table: str, frame: pd.DataFrame | pa.Table, origin: str = "live"
    ) -> int:
        """Append a frame whose columns are the table's; one INSERT ... SELECT."""
        self._writable()
        with self._current():
            return self._append_frame_locked(table, frame, origin)

    def _append_frame_locked(
        self, table: str, frame: pd.DataFrame | pa.Table, origin: str
    ) -> int:
        if table not in TABLE_COLUMNS:
            raise ValueError(f"no table {table!r}")
        if not hasattr(frame, "iloc"):  # an Arrow table
            frame = frame.to_pandas()
        if frame.empty:
            return 0
        frame = normalise_frame(table, frame)
        columns = ", ".join(f'"{c}"' for c in TABLE_COLUMNS[table])
        self._con.register("incoming_rows", frame)
        try:
            self._con.execute(
                f"INSERT INTO {table} ({columns}, origin) SELECT {columns}, ? FROM incoming_rows",
                [origin],
            )
        finally:
            self._con.unregister("incoming_rows")
        return len(frame)

    def apply_retention(self, now: datetime, keep: timedelta) -> int:
        """Delete live rows older than ``now - keep``; imported and recorded rows stay."""
        self._writable()
        cutoff = now - keep
        deleted = 0
        with self._current():
            for table in TABLE_COLUMNS:
                row = self._con.execute(
                    f"DELETE FROM {table} WHERE origin = 'live' AND ts < ? RETURNING 1", [cutoff]
                ).fetchall()
                deleted += len(row)
        return deleted

    def set_meta(self, key: str, value: str) -> None:
        self._writable()
        with self._current():
            self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def get_meta(self, key: str) -> str | None:
        with self._current():
            row = self._con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def save_state(self, name: str, state: dict[str, Any], at: datetime) -> None:
        """Keep an analyzer's learned state (JSON) so a restart resumes it."""
        self._writable()
        with self._current():
            self._con.execute(
                "INSERT OR REPLACE INTO analyzer_state VALUES (?, ?, ?)",
                [name, at, json.dumps(state, separators=(",", ":"))],
            )

    def load_state(self, name: str) -> dict[str, Any] | None:
        with self._current():
            row = self._con.execute(
                "SELECT state FROM analyzer_state WHERE name = ?", [name]
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def checkpoint(self) -> None:
        """Make what was appended durable in the main file (not only the WAL)."""
        if not self.read_only:
            with self._current():
                self._con.execute("CHECKPOINT")

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only")

    # --- reading -----------------------------------------------------------------
    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query into a DataFrame; callers live in ``store/`` so SQL stays here."""
        with self._current():
            return self._con.execute(sql, params or []).fetchdf()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a small read query into tuples: the live path stays free of pandas."""
        with self._current():
            return self._con.execute(sql, params or []).fetchall()

    def window(
        self,
        table: str,
        start: datetime | None = None,
        end: datetime | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Rows of ``table`` with ``start <= ts < end`` and column equalities, by time."""
        if table not in TABLE_COLUMNS:
            raise ValueError(f"no table {table!r}")
        clauses, params = _time_clauses(start, end)
        for column, value in (where or {}).items():
            if column not in TABLE_COLUMNS[table]:
                raise ValueError(f"{table} has no column {column!r}")
            clauses.append(f'"{column}" = ?')
            params.append(value)
        sql = f"SELECT * FROM {table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return self.query(sql + " ORDER BY ts", params)

    def count(self, table: str) -> int:
        if table not in TABLE_COLUMNS:
            raise ValueError(f"no table {table!r}")
        with self._current():
            row = self._con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        """Oldest and newest ``ts`` over every record table: "now" for imported data."""
        union = " UNION ALL ".join(
            f"SELECT min(ts) AS lo, max(ts) AS hi FROM {t}" for t in TABLE_COLUMNS
        )
        with self._current():
            row = self._con.execute(f"SELECT min(lo), max(hi) FROM ({union})").fetchone()
        if row is None:
            return None, None
        return row[0], row[1]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing, under the lock (migrations bypass the read-only check)."""
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield
            except Exception:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")


def _time_clauses(start: datetime | None, end: datetime | None) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    return clauses, params
