"""Alert wire formats: opscockpit NDJSON, Alertmanager webhook v4 and API v2.

Everything here turns untrusted JSON into :class:`~opscockpit.records.Alert` values. Text
is only ever stored, never evaluated. A malformed line costs that line, never the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd

from opscockpit.records import Alert, Severity, utc
from opscockpit.sources.prometheus_api import strip_port

ALERT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Alert))
HOST_LABELS = ("instance", "host", "hostname")
SERVICE_LABELS = ("service", "job", "app")


@dataclass(frozen=True, slots=True)
class LineError:
    """A line (1-based) of ``path`` that could not be read, and why."""

    path: str
    line: int
    reason: str


class RecordError(ValueError):
    """One record is unusable; the message becomes a :class:`LineError` reason."""


def parse_ts(value: Any) -> datetime:
    """ISO 8601 text or epoch seconds (numbers or numeric text) as aware UTC.

    Epoch values above 1e11 are taken as milliseconds: no alert is dated after 5138 AD.
    """
    if isinstance(value, bool) or value is None:
        raise RecordError(f"bad timestamp {value!r}")
    if isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value)
    ):
        number = float(value)
        if not math.isfinite(number):
            raise RecordError(f"bad timestamp {value!r}")
        micros = round(number * (1_000 if abs(number) > 1e11 else 1_000_000))
        try:
            return pd.Timestamp(micros, unit="us", tz="UTC").to_pydatetime()
        except (ValueError, OverflowError) as exc:
            raise RecordError(f"bad timestamp {value!r}") from exc
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"bad timestamp {value!r}")
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, OverflowError) as exc:
        raise RecordError(f"bad timestamp {value[:40]!r}") from exc
    if ts is pd.NaT:
        raise RecordError(f"bad timestamp {value[:40]!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    # Alertmanager writes nanoseconds; datetime holds microseconds.
    return utc(ts.floor("us").to_pydatetime())


def _optional_ts(value: Any) -> datetime | None:
    """Alertmanager's "0001-01-01T00:00:00Z" means "not set"."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.startswith("0001-01-01"):
        return None
    try:
        return parse_ts(value)
    except RecordError:
        return None


def host_and_service(labels: Mapping[str, str]) -> tuple[str, str]:
    host = next((strip_port(labels[k]) for k in HOST_LABELS if labels.get(k)), "")
    service = next((labels[k] for k in SERVICE_LABELS if labels.get(k)), "")
    return host, service


def fingerprint(
    labels: Mapping[str, str], source: str = "", host: str = "", title: str = ""
) -> str:
    """A stable 16-hex id: of the sorted labels when there are any, else of source+host+title."""
    if labels:
        payload = json.dumps(dict(sorted(labels.items())), sort_keys=True, ensure_ascii=False)
    else:
        payload = "\x1f".join((source, host, title))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError("labels is not an object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _status(value: Any) -> str:
    key = _text(value).strip().lower()
    if key in ("resolved", "ok", "recovered", "closed", "inactive"):
        return "resolved"
    return "firing"


def alert_from_object(obj: Any, default_id: str, default_source: str = "ndjson") -> Alert:
    """One opscockpit NDJSON object as an :class:`Alert`."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    if "ts" not in obj:
        raise RecordError("missing 'ts'")
    ts = parse_ts(obj["ts"])
    labels = _labels(obj.get("labels"))
    title = _text(obj.get("title"))
    message = _text(obj.get("message"))
    if not title and not message:
        raise RecordError("neither 'title' nor 'message'")
    host_l, service_l = host_and_service(labels)
    host = strip_port(_text(obj.get("host"))) or host_l
    service = _text(obj.get("service")) or service_l
    source = _text(obj.get("source")) or default_source
    title = title or message.splitlines()[0][:120]
    fp = _text(obj.get("fingerprint")) or fingerprint(
        {**labels, "alertname": labels.get("alertname", title)} if labels else {},
        source, host, title,
    )
    return Alert(
        ts=ts,
        id=_text(obj.get("id")) or default_id,
        source=source,
        severity=Severity.parse(_text(obj.get("severity")) or labels.get("severity")),
        host=host,
        service=service,
        title=title,
        message=message,
        labels=labels,
        fingerprint=fp,
        status=_status(obj.get("status", "firing")),
        ends_at=_optional_ts(obj.get("ends_at", obj.get("endsAt"))),
    )


def _am_alert(item: Any, payload_status: str | None, source: str) -> Alert:
    if not isinstance(item, dict):
        raise RecordError("alert is not an object")
    labels = _labels(item.get("labels"))
    annotations = item.get("annotations") or {}
    if not isinstance(annotations, dict):
        annotations = {}
    title = labels.get("alertname", "") or _text(annotations.get("summary"))[:120]
    summary = _text(annotations.get("summary"))
    description = _text(annotations.get("description"))
    message = summary or description
    if summary and description and description != summary:
        message = f"{summary}\n{description}"
    host, service = host_and_service(labels)
    # Per-alert status (webhook) or status.state (API v2); old payloads only have the
    # group's status, and API v2 lists only alerts that are still active.
    raw_status = item.get("status")
    if isinstance(raw_status, dict):
        status = "resolved" if raw_status.get("state") == "resolved" else "firing"
    elif raw_status:
        status = _status(raw_status)
    else:
        status = _status(payload_status or "firing")
    starts = item.get("startsAt")
    ts = parse_ts(starts) if starts else None
    if ts is None:
        raise RecordError("alert without startsAt")
    fp = _text(item.get("fingerprint")) or fingerprint(labels, source, host, title)
    return Alert(
        ts=ts,
        id=f"{fp}@{ts.isoformat()}",
        source=source,
        severity=Severity.parse(labels.get("severity")),
        host=host,
        service=service,
        title=title or "(unnamed alert)",
        message=message,
        labels=labels,
        fingerprint=fp,
        status=status,
        ends_at=_optional_ts(item.get("endsAt")),
    )


def alertmanager_alerts(
    doc: Any, source: str = "alertmanager"
) -> tuple[list[Alert], list[str]]:
    """Alerts of a webhook payload, an API v2 alert list or an API v2 group list.

    Returns the alerts and one reason per alert that could not be read.
    """
    items: list[tuple[Any, str | None]] = []
    if isinstance(doc, dict) and isinstance(doc.get("alerts"), list):
        items = [(a, doc.get("status")) for a in doc["alerts"]]
    elif isinstance(doc, list):
        for entry in doc:
            if isinstance(entry, dict) and isinstance(entry.get("alerts"), list):
                items.extend((a, None) for a in entry["alerts"])  # alert groups
            else:
                items.append((entry, None))
    else:
        return [], ["not an Alertmanager payload"]
    alerts: list[Alert] = []
    errors: list[str] = []
    for n, (item, status) in enumerate(items, start=1):
        try:
            alerts.append(_am_alert(item, status, source))
        except RecordError as exc:
            errors.append(f"alert {n}: {exc}")
    return alerts, errors


def is_alertmanager_payload(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("alerts"), list) and (
        "version" in obj or "groupKey" in obj or "receiver" in obj
    )


def alerts_frame(alerts: Iterable[Alert]) -> pd.DataFrame:
    """Alerts as a frame with exactly the :class:`Alert` fields as columns.

    ``labels`` is canonical JSON text, ``severity`` the plain string, ``ts``/``ends_at``
    timezone-aware UTC timestamps.
    """
    rows = [
        {
            "ts": a.ts, "id": a.id, "source": a.source, "severity": str(a.severity),
            "host": a.host, "service": a.service, "title": a.title, "message": a.message,
            "labels": json.dumps(a.labels, sort_keys=True, ensure_ascii=False),
            "fingerprint": a.fingerprint, "status": a.status, "ends_at": a.ends_at,
        }
        for a in alerts
    ]
    frame = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["ends_at"] = pd.to_datetime(frame["ends_at"], utc=True)
    return frame
