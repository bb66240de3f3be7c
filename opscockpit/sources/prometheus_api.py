"""The Prometheus HTTP API's query results: response envelope and series names.

Shared by ``ingest metrics`` (saved ``query_range`` responses) and the live Prometheus
source, and free of pandas so the live path stays light. Prometheus, Thanos, Mimir and
VictoriaMetrics answer in this shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Labels that name the machine a series describes, in order of preference; they become the
# sample's host and stay out of its metric name.
HOST_LABELS = ("host", "instance")


def strip_port(instance: str) -> str:
    """``10.0.0.1:9100`` -> ``10.0.0.1``; ``[::1]:9100`` -> ``::1``; anything else as is."""
    instance = instance.strip()
    bracketed = re.fullmatch(r"\[([^\]]+)\](:\d+)?", instance)
    if bracketed:
        return bracketed.group(1)
    # A bare IPv6 address has several colons and no port to strip.
    if instance.count(":") == 1 and re.fullmatch(r"[^:]+:\d+", instance):
        return instance.rsplit(":", 1)[0]
    return instance


def series_name(labels: Mapping[str, str], name: str | None = None) -> tuple[str, str]:
    """(host, metric) of a series: ``name{a=1,b=2}`` with sorted labels, where the host comes
    from the ``host`` label, else ``instance`` without its port, and neither is in the name.
    ``name`` stands in for ``__name__`` (a live query's own name for what it computes)."""
    host = str(labels.get("host") or strip_port(str(labels.get("instance", ""))))
    base = str(labels.get("__name__", "")) if name is None else name
    rest = sorted(
        (str(k), str(v)) for k, v in labels.items() if k != "__name__" and k not in HOST_LABELS
    )
    if rest:
        base += "{" + ",".join(f"{k}={v}" for k, v in rest) + "}"
    return host, base


def query_result(doc: Any) -> list[Any]:
    """The ``data.result`` series of a query response; ValueError saying what is wrong."""
    if not isinstance(doc, dict) or "status" not in doc:
        raise ValueError("not a Prometheus API response (no 'status')")
    if doc["status"] == "error":
        kind = doc.get("errorType", "error")
        raise ValueError(f"Prometheus query failed ({kind}): {doc.get('error', 'no message')}")
    if doc["status"] != "success":
        raise ValueError(f"Prometheus status {doc['status']!r}")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise ValueError("Prometheus response has no 'data' object")
    kind = data.get("resultType")
    if kind is None:
        raise ValueError("not a Prometheus query result (no 'data.resultType')")
    if kind not in ("matrix", "vector"):
        raise ValueError(f"Prometheus resultType {kind!r} carries no labelled series")
    result = data.get("result")
    if not isinstance(result, list):
        raise ValueError("Prometheus 'data.result' is not a list")
    return result
