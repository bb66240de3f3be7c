"""A live source that tails alert and log files (a file, or every file of a directory).

Like ``tail -F``: each file is read from a byte offset kept per file, so a poll costs what
was appended since the last one, never the file again. A line counts once its newline is
written (a half-written last line waits for the next poll). A file renamed away by log
rotation is read to its end through the handle still open on it, then the new file at the
path is read from its start; a file truncated in place (``copytruncate``) is read again
from its start. In a directory, a new file named like a rotated copy of a watched one
(``app.log.1``, ``app.log-20240301``) holds lines already read and starts at its end.

Files are parsed exactly as ``opscockpit ingest`` parses them -- same formats, ids (line
numbers count from the top of the file), fingerprints -- so a tailed file and an ingested
one give the same alerts. Whole-document JSON (an Alertmanager API v2 list rewritten by a
poller) is re-read when it changes and only alerts not seen before are emitted.

Offsets live in memory: by default a (re)started cockpit starts at the end of the files it
finds, so a restart never stores the same lines twice; ``from_start`` reads them whole.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from opscockpit.sources.alert_files import (
    AlertFileResult,
    LineError,
    detect_format,
    guess_loghub_dataset,
    parse_log_lines,
)
from opscockpit.sources.alert_formats import (
    RecordError,
    alert_from_object,
    alertmanager_alerts,
    alerts_frame,
    is_alertmanager_payload,
)
from opscockpit.sources.alert_ingest import result_batch
from opscockpit.sources.base import Batch, Option, Source, SourceError

if TYPE_CHECKING:
    import pandas as pd

    from opscockpit.analysis.templates import TemplateMiner
    from opscockpit.records import Alert

log = logging.getLogger(__name__)

MAX_READ = 8 << 20  # per file and poll: a huge backlog is read over several polls
_SKIP_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip", ".swp", ".tmp")
_ROTATED = re.compile(r"^(?P<base>.+?)(?:\.\d+|-\d{8}(?:\d{2})?)$")
_CONTEXT_TRIES = 50
_DOC_SEEN_CAP = 100_000


@dataclass(slots=True)
class _Tail:
    """One watched file, by identity (device, inode) rather than by name."""

    path: Path
    handle: IO[bytes]
    ident: tuple[int, int]
    name: str = ""  # the name at first sight: ids keep it after a rotation renames the file
    offset: int = 0  # bytes consumed: always just after a newline
    line: int = 0  # lines consumed
    fmt: str = "ndjson"
    decided: bool = False  # format (and whole-document or not) read from the content
    doc: bool = False  # a whole JSON document, re-read when it changes
    doc_stamp: tuple[int, int] | None = None
    doc_failed: tuple[int, int] | None = None
    doc_seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    context: str | None = None  # the last log line that carried its own timestamp


class AlertFileSource(Source):
    kind: ClassVar[str] = "alert_file"
    summary: ClassVar[str] = "Tails alert/log files as they grow (NDJSON, Alertmanager, logs)"
    options: ClassVar[tuple[Option, ...]] = (
        Option("path", str, required=True, help="A file, or a directory of files."),
        Option("format", str, None, help="ndjson, alertmanager or log (default: detect)."),
        Option("patterns", list, [], help="Regexes: log lines matching one become alerts."),
        Option("from_start", bool, False, help="Read what the files already hold at start."),
    )
    default_interval_s: ClassVar[float] = 2.0

    def __init__(self, name: str, settings: dict[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.path = Path(self.settings["path"]).expanduser()
        self.patterns = tuple(str(p) for p in self.settings["patterns"] or ())
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:  # fail at start, naming the pattern
                raise ValueError(f"pattern {pattern!r}: {exc}") from None
        self._tails: dict[tuple[int, int], _Tail] = {}
        self._started = False
        self._miner: TemplateMiner | None = None
        self.rejected = 0
        self.recent_errors: deque[LineError] = deque(maxlen=100)

    # --- polling -----------------------------------------------------------------
    def poll(self, since: datetime | None) -> Batch:
        first = not self._started
        self._started = True
        present = self._scan()
        results: list[AlertFileResult] = []
        for ident in list(self._tails):
            if ident not in present:  # rotated away or deleted: finish it, then let go
                tail = self._tails.pop(ident)
                try:
                    results.extend(self._read(tail))
                finally:
                    tail.handle.close()
        for ident, path in present.items():
            tail = self._tails.get(ident)
            if tail is None:
                tail = self._open(path, ident, at_end=(first and not self.settings["from_start"])
                                  or (not first and self._rotated_copy(path)))
                if tail is None:
                    continue
            tail.path = path
            results.extend(self._read(tail))
        return self._batch(results)

    def _scan(self) -> dict[tuple[int, int], Path]:
        """The files to watch now, by identity."""
        if self.path.is_dir():
            paths = [p for p in sorted(self.path.rglob("*")) if p.is_file()
                     and not any(part.startswith(".") for part in p.relative_to(self.path).parts)
                     and not p.name.endswith(_SKIP_SUFFIXES)]
        elif self.path.exists():
            paths = [self.path]
        elif self.path.parent.is_dir():
            paths = []  # between a rotation's rename and the new file: wait for it
        else:
            raise SourceError(f"{self.path}: no such file or directory")
        found: dict[tuple[int, int], Path] = {}
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue  # removed since the listing
            found.setdefault((st.st_dev, st.st_ino), path)
        return found

    def _rotated_copy(self, path: Path) -> bool:
        m = _ROTATED.match(path.name)
        return bool(m) and any(t.path.name == m.group("base") for t in self._tails.values())

    def _open(self, path: Path, ident: tuple[int, int], at_end: bool) -> _Tail | None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - kept open across polls, closed on rotation
        except OSError as exc:
            log.warning("%s: cannot open %s: %s", self.name, path, exc)
            return None
        tail = _Tail(path, handle, ident, name=path.name)
        if at_end:
            tail.offset, tail.line = _complete_lines(handle)
        self._tails[ident] = tail
        return tail

    # --- reading one file --------------------------------------------------------
    def _read(self, tail: _Tail) -> list[AlertFileResult]:
        try:
            size = os.fstat(tail.handle.fileno()).st_size
            if size < tail.offset:  # truncated in place: its content is new
                tail.offset, tail.line, tail.context = 0, 0, None
            if not tail.decided:
                if size == 0:
                    return []
                fmt = self.settings["format"] or detect_format(tail.path)
                doc = fmt == "alertmanager" and _whole_document(tail.path)
                if not doc and not _has_newline(tail.handle, size):
                    return []  # decide on a complete first line, not half of one
                tail.fmt, tail.doc, tail.decided = fmt, doc, True
            if tail.doc:
                return self._read_document(tail)
            tail.handle.seek(tail.offset)
            data = tail.handle.read(MAX_READ)
        except OSError as exc:
            raise SourceError(f"{tail.path}: cannot read: {exc.strerror or exc}") from None
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) < MAX_READ:
                return []  # the last line is still being written
            cut = len(data) - 1  # one line longer than MAX_READ: take it as it is
        chunk = data[: cut + 1].decode("utf-8", errors="replace")
        first_line = tail.line + 1
        tail.offset += cut + 1
        tail.line += chunk.count("\n")
        if tail.fmt == "log":
            return [self._log_lines(tail, chunk.splitlines(), first_line)]
        return [_json_lines(tail, chunk.splitlines(), first_line)]

    def _log_lines(self, tail: _Tail, lines: list[str], first_line: int) -> AlertFileResult:
        """Parse log lines; the previous timestamped line dates a leading continuation."""
        context = tail.context
        fed = [context, *lines] if context is not None else lines
        shift = first_line - (2 if context is not None else 1)
        result = parse_log_lines(fed, str(tail.path), patterns=self.patterns,
                                 dataset=guess_loghub_dataset(tail.path))
        for line in reversed(lines[-_CONTEXT_TRIES:]):
            if line.strip() and not parse_log_lines([line], str(tail.path)).errors:
                tail.context = line
                break
        skip = 1 if context is not None else 0
        name = tail.name
        return AlertFileResult(
            "log",
            _renumber(result.frame, name, shift, skip),
            _renumber(result.events, name, shift, skip),
            [LineError(e.path, e.line + shift, e.reason) for e in result.errors if e.line > skip],
        )

    def _read_document(self, tail: _Tail) -> list[AlertFileResult]:
        st = os.fstat(tail.handle.fileno())
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp == tail.doc_stamp:
            return []
        tail.handle.seek(0)
        text = tail.handle.read().decode("utf-8", errors="replace")
        try:
            doc = json.loads(text)
        except ValueError as exc:
            # Half-written? Wait for the next change; the same bytes twice are an error.
            if tail.doc_failed == stamp:
                tail.doc_stamp = stamp
                return [AlertFileResult("alertmanager", alerts_frame([]), alerts_frame([]),
                                        [LineError(str(tail.path), exc.lineno, exc.msg)])]
            tail.doc_failed = stamp
            return []
        quiet = tail.doc_stamp is None and not self.settings["from_start"] and tail.offset > 0
        tail.doc_stamp, tail.doc_failed = stamp, None
        alerts, bad = alertmanager_alerts(doc)
        fresh = []
        for alert in alerts:
            key = f"{alert.id}\x1f{alert.status}"
            if key not in tail.doc_seen:
                tail.doc_seen[key] = None
                fresh.append(alert)
        while len(tail.doc_seen) > _DOC_SEEN_CAP:
            tail.doc_seen.popitem(last=False)
        if quiet:  # there before we started: known, not new
            return []
        frame = alerts_frame(fresh)
        errors = [LineError(str(tail.path), 1, reason) for reason in bad]
        return [AlertFileResult("alertmanager", frame, frame, errors)]

    # --- output ------------------------------------------------------------------
    def _batch(self, results: list[AlertFileResult]) -> Batch:
        batch = Batch()
        alerts: list[pd.DataFrame] = []
        events: list[pd.DataFrame] = []
        for result in results:
            for error in result.errors:
                self.rejected += 1
                self.recent_errors.append(error)
                log.info("%s: %s:%d: %s", self.name, error.path, error.line, error.reason)
            if result.format == "log" and self._miner is None:
                from opscockpit.analysis.templates import TemplateMiner

                self._miner = TemplateMiner()  # one miner, so templates hold across polls
            part = result_batch(result, self._miner)
            alerts.extend(f for name, f in part.frames.items() if name == "alerts")
            events.extend(f for name, f in part.frames.items() if name != "alerts")
        if alerts or events:
            import pandas as pd

            if alerts:
                batch.frames["alerts"] = pd.concat(alerts, ignore_index=True)
            if events:
                batch.frames["events"] = pd.concat(events, ignore_index=True)
        return batch

    def close(self) -> None:
        for tail in self._tails.values():
            tail.handle.close()
        self._tails.clear()


def _json_lines(tail: _Tail, lines: list[str], first_line: int) -> AlertFileResult:
    """NDJSON alerts or one Alertmanager payload per line, as ``parse_alert_text`` reads them."""
    path = str(tail.path)
    alerts: list[Alert] = []
    errors: list[LineError] = []
    for n, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            errors.append(LineError(path, n, f"not JSON: {exc.msg}"))
            continue
        if is_alertmanager_payload(obj):
            got, bad = alertmanager_alerts(obj)
            alerts.extend(got)
            errors.extend(LineError(path, n, reason) for reason in bad)
            continue
        try:
            alerts.append(alert_from_object(obj, f"{tail.name}:{n}", "ndjson"))
        except RecordError as exc:
            errors.append(LineError(path, n, str(exc)))
    frame = alerts_frame(alerts)
    return AlertFileResult(tail.fmt, frame, frame, errors)


def _renumber(frame: pd.DataFrame, name: str, shift: int, skip: int) -> pd.DataFrame:
    """Ids and ``line`` labels counted from the top of the file, not of this chunk."""
    if frame.empty:
        return frame
    lines = frame["id"].str.rsplit(":", n=1).str[-1].astype(int)
    keep = (lines > skip).to_numpy()
    frame, lines = frame[keep].copy(), lines[keep] + shift
    frame["id"] = [f"{name}:{n}" for n in lines]
    frame["labels"] = [json.dumps({"file": name, "line": str(n)}, sort_keys=True,
                                  ensure_ascii=False) for n in lines]
    return frame.reset_index(drop=True)


def _complete_lines(handle: IO[bytes]) -> tuple[int, int]:
    """Offset just after the last newline, and the number of lines before it."""
    handle.seek(0)
    offset = lines = position = 0
    while block := handle.read(1 << 20):
        count = block.count(b"\n")
        if count:
            lines += count
            offset = position + block.rfind(b"\n") + 1
        position += len(block)
    return offset, lines


def _has_newline(handle: IO[bytes], size: int) -> bool:
    handle.seek(0)
    return b"\n" in handle.read(min(size, 1 << 20)) or size >= 1 << 20


def _whole_document(path: Path) -> bool:
    """A JSON array, or an object spread over lines, rather than one payload per line."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return True
    try:
        return not isinstance(json.loads(head.splitlines()[0]), dict)
    except (ValueError, IndexError):
        return True
