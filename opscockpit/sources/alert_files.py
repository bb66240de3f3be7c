"""Alert and log files: detect the format, parse, keep every good line.

Formats: opscockpit alerts NDJSON, Alertmanager webhook payloads (also one payload per
line), Alertmanager API v2 alert and alert-group lists, and plain log files (syslog or
journal text, application logs, the LogHub layouts). In a log file every line becomes an
event; lines at error level or above, or matching one of the configured patterns, are
also alerts. Malformed lines become :class:`LineError` values and the rest is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from opscockpit.records import Alert, Severity
from opscockpit.sources.alert_formats import (
    ALERT_COLUMNS,
    LineError,
    RecordError,
    alert_from_object,
    alertmanager_alerts,
    alerts_frame,
    fingerprint,
    is_alertmanager_payload,
)
from opscockpit.sources.log_lines import LOGHUB_FORMATS, format_regex, split_generic

__all__ = [
    "ALERT_COLUMNS", "AlertFileResult", "LineError", "detect_format", "detect_text_format",
    "guess_loghub_dataset", "parse_alert_file", "parse_alert_text", "parse_log_lines",
]

FORMATS = ("ndjson", "alertmanager", "log")


@dataclass(slots=True)
class AlertFileResult:
    """``frame``: the alerts; ``events``: every record (all lines of a log file)."""

    format: str
    frame: pd.DataFrame
    events: pd.DataFrame
    errors: list[LineError] = field(default_factory=list)


def detect_text_format(text: str) -> str:
    """``ndjson``, ``alertmanager`` or ``log`` from the text itself."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return "ndjson"
    if stripped[0] in "[{":
        try:
            doc = json.loads(stripped)
        except ValueError:
            doc = None
        if isinstance(doc, list) or is_alertmanager_payload(doc):
            return "alertmanager"
        first = stripped.splitlines()[0]
        try:
            obj = json.loads(first)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return "alertmanager" if is_alertmanager_payload(obj) else "ndjson"
        if isinstance(doc, dict):
            return "ndjson"
    return "log"


def detect_format(path: str | Path, sniff_bytes: int = 1 << 20) -> str:
    """Detect a file's format from its first ``sniff_bytes`` (whole JSON docs need more)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = fh.read(sniff_bytes)
        if head.lstrip().startswith("[") and len(head) == sniff_bytes:
            head += fh.read()  # a JSON array only parses whole
    return detect_text_format(head)


def guess_loghub_dataset(path: str | Path) -> str | None:
    """``HDFS_2k.log`` -> ``HDFS``: LogHub files are named after their data set."""
    stem = Path(path).name.split("_")[0].split(".")[0]
    return stem if stem in LOGHUB_FORMATS else None


def parse_alert_file(
    path: str | Path,
    *,
    format: str | None = None,
    source: str | None = None,
    patterns: Sequence[str] = (),
    year: int | None = None,
    dataset: str | None = None,
) -> AlertFileResult:
    """Parse an alerts file of any supported format (detected unless ``format`` is given)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if dataset is None:
        dataset = guess_loghub_dataset(path)
    return parse_alert_text(text, str(path), format=format, source=source, patterns=patterns,
                            year=year, dataset=dataset)


def parse_alert_text(
    text: str,
    path: str = "<text>",
    *,
    format: str | None = None,
    source: str | None = None,
    patterns: Sequence[str] = (),
    year: int | None = None,
    dataset: str | None = None,
) -> AlertFileResult:
    fmt = format or detect_text_format(text)
    if fmt not in FORMATS:
        raise ValueError(f"unknown alert format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "log":
        return parse_log_lines(text.splitlines(), path, source=source or "log",
                               patterns=patterns, year=year, dataset=dataset)
    alerts: list[Alert] = []
    errors: list[LineError] = []
    stripped = text.lstrip("\ufeff \t\r\n")
    whole = None
    if fmt == "alertmanager":
        try:
            whole = json.loads(stripped)
        except ValueError:
            whole = None  # one payload per line
    if whole is not None:
        got, bad = alertmanager_alerts(whole, source or "alertmanager")
        alerts.extend(got)
        errors.extend(LineError(path, 1, reason) for reason in bad)
    else:
        name = Path(path).name
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                errors.append(LineError(path, n, f"not JSON: {exc.msg}"))
                continue
            if is_alertmanager_payload(obj):
                got, bad = alertmanager_alerts(obj, source or "alertmanager")
                alerts.extend(got)
                errors.extend(LineError(path, n, reason) for reason in bad)
                continue
            try:
                alerts.append(alert_from_object(obj, f"{name}:{n}", source or "ndjson"))
            except RecordError as exc:
                errors.append(LineError(path, n, str(exc)))
    frame = alerts_frame(alerts)
    return AlertFileResult(fmt, frame, frame, errors)


# -- plain logs ---------------------------------------------------------------------------
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = {m: i for i, m in enumerate(_MONTHS, start=1)}
_TS_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
                       r"(Z|[+-]\d{2}:?\d{2})?")),
    ("bgl", re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})\.(\d{2})\.(\d{2})(?:\.(\d{1,9}))?")),
    ("apache", re.compile(r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})"
                          r"(?:\.(\d+))? (\d{4})")),
    ("syslog", re.compile(r"\b([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\b")),
    ("compact", re.compile(r"^(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})\b")),
    ("epoch", re.compile(r"^(?:\S+\s+)?(1\d{9})(?:\.(\d+))?\b")),
)
_LEVEL_UPPER = re.compile(
    r"\b(EMERG|EMERGENCY|ALERT|CRIT|CRITICAL|FATAL|SEVERE|ERROR|ERR|WARN|WARNING|NOTICE|INFO|"
    r"DEBUG|TRACE)\b"
)
_LEVEL_MARKED = re.compile(
    r"[\[<(](emerg|alert|crit|critical|fatal|severe|error|err|warn|warning|notice|info|debug|"
    r"trace)[\])>]|\b(?:level|severity|lvl)=\"?(\w+)",
    re.IGNORECASE,
)
_LEVEL_SYNONYMS = {"severe": "error", "trace": "debug"}
# Which header field holds the host, the service and the level, where LogHub's column
# names say otherwise (its Linux "Level" column is the host name).
_ROLES: dict[str, dict[str, str | None]] = {
    "Linux": {"host": "Level", "service": "Component", "level": None},
    "OpenSSH": {"host": "Component", "service": None, "level": None},
    "Zookeeper": {"host": None, "service": "Component", "level": "Level"},
}
_DEFAULT_ROLES: dict[str, str | None] = {"host": "Node", "service": "Component", "level": "Level"}


def _frac(text: str | None) -> int:
    return int((text or "0")[:6].ljust(6, "0"))


def _find_ts(line: str, year: int) -> tuple[datetime | None, int | None]:
    """The earliest timestamp in the line's head, and its month (for year roll-over)."""
    head = line[:120]
    best: tuple[int, str, re.Match[str]] | None = None
    for kind, rx in _TS_PATTERNS:
        m = rx.search(head)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind, m)
    if best is None:
        return None, None
    _, kind, m = best
    g = m.groups()
    try:
        if kind in ("iso", "bgl"):
            ts = datetime(int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]),
                          _frac(g[6]), tzinfo=UTC)
            if kind == "iso" and g[7] and g[7] != "Z":
                ts = pd.Timestamp(m.group(0).replace(",", ".")).tz_convert("UTC").to_pydatetime()
            return ts, None
        if kind == "apache":
            return datetime(int(g[6]), _MONTH[g[0]], int(g[1]), int(g[2]), int(g[3]),
                            int(g[4]), _frac(g[5]), tzinfo=UTC), None
        if kind == "syslog":
            if g[0] not in _MONTH:
                return None, None
            month = _MONTH[g[0]]
            return datetime(year, month, int(g[1]), int(g[2]), int(g[3]), int(g[4]),
                            _frac(g[5]), tzinfo=UTC), month
        if kind == "compact":
            return datetime(2000 + int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]),
                            int(g[5]), tzinfo=UTC), None
        return datetime.fromtimestamp(int(g[0]) + _frac(g[1]) / 1e6, UTC), None
    except (ValueError, KeyError, OverflowError):
        return None, None


def _level(line: str, header_level: str | None) -> Severity:
    if header_level:
        key = header_level.strip().lower()
        return Severity.parse(_LEVEL_SYNONYMS.get(key, key))
    head = line[:160]
    upper = _LEVEL_UPPER.search(head)
    marked = _LEVEL_MARKED.search(head)
    found = min((m for m in (upper, marked) if m), key=lambda m: m.start(), default=None)
    if found is None:
        return Severity.INFO
    key = next(g for g in found.groups() if g).lower()
    return Severity.parse(_LEVEL_SYNONYMS.get(key, key))


def parse_log_lines(
    lines: Iterable[str],
    path: str = "<log>",
    *,
    source: str = "log",
    patterns: Sequence[str] = (),
    year: int | None = None,
    dataset: str | None = None,
    host: str = "",
    min_severity: Severity = Severity.ERROR,
) -> AlertFileResult:
    """Every line an event; lines at ``min_severity`` or matching ``patterns`` also alerts.

    A line without a timestamp (a stack-trace continuation) takes its predecessor's; one
    before any timestamp is a :class:`LineError`. Syslog lines carry no year: ``year``
    (default: this year) is used and advanced when the months wrap around.
    """
    compiled = [re.compile(p) for p in patterns]
    regex, _ = format_regex(LOGHUB_FORMATS[dataset]) if dataset else (None, [])
    roles = _ROLES.get(dataset or "", _DEFAULT_ROLES)
    current_year = year if year is not None else datetime.now(UTC).year
    name = Path(path).name
    events: list[Alert] = []
    is_alert: list[bool] = []
    errors: list[LineError] = []
    last_ts: datetime | None = None
    last_month: int | None = None
    for n, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        m = regex.match(line) if regex is not None else None
        fields = {k: v or "" for k, v in m.groupdict().items()} if m else split_generic(line)
        content = fields.get("Content", line).strip()
        ts, month = _find_ts(line, current_year)
        if month is not None and last_month is not None and month < last_month - 6:
            current_year += 1
            ts, month = _find_ts(line, current_year)
        if ts is None:
            if last_ts is None:
                errors.append(LineError(path, n, "no timestamp"))
                continue
            ts = last_ts
        last_ts, last_month = ts, month if month is not None else last_month
        level_field = roles.get("level") if m else None
        severity = _level(line, fields.get(level_field) if level_field else None)
        line_host = (fields.get(roles["host"] or "", "") if m else fields.get("host", "")) or host
        service = fields.get(roles["service"] or "", "") if m else fields.get("process", "")
        # "proc[123]" -> "proc"; LogHub's Zookeeper layout leaves "addr:port:Component".
        service = re.sub(r"\[\d+\]$", "", service or "").rsplit(":", 1)[-1]
        title = content.splitlines()[0][:120] if content else line[:120]
        labels = {"file": name, "line": str(n)}
        events.append(Alert(
            ts=ts, id=f"{name}:{n}", source=source, severity=severity, host=line_host,
            service=service, title=title, message=content or line, labels=labels,
            fingerprint=fingerprint({}, source, line_host, title),
        ))
        is_alert.append(severity.rank >= min_severity.rank
                        or any(rx.search(line) for rx in compiled))
    all_events = alerts_frame(events)
    alerts = all_events[pd.Series(is_alert, dtype=bool).to_numpy()].reset_index(drop=True)
    return AlertFileResult("log", alerts, all_events, errors)
