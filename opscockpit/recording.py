"""Recordings: a DuckDB store holding what the sources produced, plus a manifest.

A recording is an ordinary store file, so a report or a replay opens it like any
store. The recorder appends every source batch and checkpoints at least once a
second, so a ``kill -9`` loses at most the last second and the file still opens.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opscockpit import __version__
from opscockpit.sources.base import Batch
from opscockpit.store import SCHEMA_VERSION, Store, StoreError
from opscockpit.store.replay_queries import recorded_span

MANIFEST_KEY = "recording_manifest"
KIND = "opscockpit.recording/1"
FLUSH_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class Manifest:
    sources: list[str]
    host: str
    started_at: str | None
    ended_at: str | None
    # True when the analyzers ran as it was written (anomalies, clusters are in the file).
    analysed: bool = False
    opscockpit_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    kind: str = KIND

    def to_json(self) -> str:
        return json.dumps({f: getattr(self, f) for f in self.__dataclass_fields__}, indent=1)


def read_manifest(store: Store) -> Manifest | None:
    raw = store.get_meta(MANIFEST_KEY)
    if raw is None:
        return None
    data: dict[str, Any] = json.loads(raw)
    return Manifest(**{k: v for k, v in data.items() if k in Manifest.__dataclass_fields__})


class Recorder:
    """Appends source batches to a recording file; safe to call from engine threads."""

    def __init__(self, path: Path, sources: list[str], store: Store | None = None, *,
                 analysed: bool = False) -> None:
        """Create ``path``; or, given ``store`` (open on ``path``), keep the manifest there.

        ``analysed``: the analyzers write their derived rows into the same file.
        """
        if store is None and path.exists():
            raise StoreError(f"recording {path} already exists: choose another --out")
        self.path = path
        self.store = store or Store.open(path)
        self.sources = sources
        self.analysed = analysed
        self._lock = threading.Lock()
        self._last_flush = 0.0
        self._write_manifest()

    def on_batch(self, batch: Batch) -> None:
        with self._lock:
            self.store.append(batch, origin="live")
            self._flush_if_due()

    def flush(self) -> None:
        with self._lock:
            self._write_manifest()
            self.store.checkpoint()
            self._last_flush = time.monotonic()

    def _flush_if_due(self) -> None:
        if time.monotonic() - self._last_flush >= FLUSH_EVERY_S:
            self._write_manifest()
            self.store.checkpoint()
            self._last_flush = time.monotonic()

    def _write_manifest(self) -> None:
        lo, hi = recorded_span(self.store)
        manifest = Manifest(
            sources=self.sources,
            host=socket.gethostname(),
            started_at=_iso(lo),
            ended_at=_iso(hi),
            analysed=self.analysed,
        )
        self.store.set_meta(MANIFEST_KEY, manifest.to_json())

    def close(self) -> None:
        self.flush()
        self.store.close()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
