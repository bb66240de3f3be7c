"""Metrics of many hosts from a Prometheus-compatible query API.

The cockpit does not scrape exporters itself: it asks the server users already run
(Prometheus, Thanos, Mimir, VictoriaMetrics) for a few named PromQL queries and keeps
the answers in its store, where the panes, the anomaly detectors and replay treat them
like the local host's samples. Each poll asks ``query_range`` for the steps since the
last one, so a poll that failed is made up by the next (as far as the server keeps
data back); the first poll reaches ``backfill_s`` back, so sparklines start full.

The default queries read node_exporter and give each instance the local host source's
series names (``cpu_pct``, ``mem_pct``, ``disk_pct{mount=/}``, ...): the Telemetry pane
shows a fleet with no configuration beyond the URL.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from opscockpit.records import MetricSample
from opscockpit.sources.base import Batch, Option, Source, SourceError
from opscockpit.sources.ci_http import TokenAuth, display_url, redact
from opscockpit.sources.prometheus_api import query_result, series_name

_FS = 'fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs"'


def _by_mount(metric: str) -> str:
    return (f'max by (instance, mount) (label_replace({metric}{{{_FS}}}, '
            f'"mount", "$1", "mountpoint", "(.*)"))')


NODE_QUERIES: dict[str, str] = {
    "cpu_pct": '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])))',
    "load1": "max by (instance) (node_load1)",
    "load5": "max by (instance) (node_load5)",
    "load15": "max by (instance) (node_load15)",
    "mem_pct": "100 * (1 - max by (instance) (node_memory_MemAvailable_bytes)"
               " / max by (instance) (node_memory_MemTotal_bytes))",
    "mem_used_bytes": "max by (instance) (node_memory_MemTotal_bytes"
                      " - node_memory_MemAvailable_bytes)",
    "mem_total_bytes": "max by (instance) (node_memory_MemTotal_bytes)",
    # No swap at all divides by zero: NaN, and NaN points are dropped.
    "swap_pct": "100 * (1 - max by (instance) (node_memory_SwapFree_bytes)"
                " / max by (instance) (node_memory_SwapTotal_bytes))",
    "swap_used_bytes": "max by (instance) (node_memory_SwapTotal_bytes"
                       " - node_memory_SwapFree_bytes)",
    "disk_pct": f"100 * (1 - {_by_mount('node_filesystem_avail_bytes')}"
                f" / {_by_mount('node_filesystem_size_bytes')})",
    "net_rx_bps": 'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[1m]))',
    "net_tx_bps": 'sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[1m]))',
    "disk_read_bps": "sum by (instance) (rate(node_disk_read_bytes_total[1m]))",
    "disk_write_bps": "sum by (instance) (rate(node_disk_written_bytes_total[1m]))",
}


class PrometheusSource(Source):
    kind: ClassVar[str] = "prometheus"
    summary: ClassVar[str] = "metrics of many hosts from a Prometheus-compatible query API"
    options: ClassVar[tuple[Option, ...]] = (
        Option("url", str, "http://127.0.0.1:9090",
               help="the server's base URL (Prometheus, Thanos, Mimir, VictoriaMetrics)"),
        Option("queries", dict, NODE_QUERIES,
               help="series name = PromQL; the host is each result's host or instance label"),
        Option("step_s", float, 15.0, help="seconds between the points asked for"),
        Option("backfill_s", float, 900.0, help="how far back the first poll reaches"),
        Option("token_env", str, "", secret_env=True,
               help="environment variable holding a bearer token, if the server wants one"),
        Option("verify_tls", bool, True, help="check the server's certificate"),
    )
    default_interval_s: ClassVar[float] = 15.0
    default_timeout_s: ClassVar[float] = 10.0

    def __init__(self, name: str, settings: dict[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.url = str(self.settings["url"]).rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"source {self.kind!r} url {self.url!r} should start with http(s)://")
        self.where = display_url(self.url)  # what reasons show: no user or password
        queries = self.settings["queries"]
        bad = [k for k, v in queries.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            raise ValueError(f"source {self.kind!r} query {bad[0]!r} should be PromQL text")
        self.queries: dict[str, str] = dict(queries)
        self.step_s = max(1.0, float(self.settings["step_s"]))
        self.auth = TokenAuth(self.settings["token_env"])
        self._last: float | None = None  # the newest step already read, in epoch seconds

    async def poll(self, since: datetime | None) -> Batch:
        end = datetime.now(UTC).timestamp()
        start = end - float(self.settings["backfill_s"]) if self._last is None \
            else self._last + self.step_s
        if start > end:
            return Batch()
        # Prometheus evaluates at start, start + step, ... up to end.
        last = start + math.floor((end - start) / self.step_s) * self.step_s
        headers: dict[str, str] = {}
        auth = self.auth.apply(headers)
        metrics: list[MetricSample] = []
        async with httpx.AsyncClient(headers=headers, auth=auth,
                                     verify=bool(self.settings["verify_tls"]),
                                     timeout=self.default_timeout_s) as client:
            # All at once: one poll must fit the engine's timeout however many queries.
            docs = await asyncio.gather(*(
                self._get(client, "/api/v1/query_range",
                          {"query": promql, "start": f"{start:.3f}", "end": f"{last:.3f}",
                           "step": f"{self.step_s:g}"}, name)
                for name, promql in self.queries.items()), return_exceptions=True)
        failed = next((d for d in docs if isinstance(d, BaseException)), None)
        if failed is not None:
            raise failed
        for name, doc in zip(self.queries, docs, strict=True):
            metrics.extend(_samples(doc, name))
        self._last = last
        return Batch(metrics=metrics)

    async def _get(self, client: httpx.AsyncClient, path: str, params: dict[str, str],
                   name: str) -> Any:
        try:
            response = await client.get(self.url + path, params=params)
        except httpx.TimeoutException:
            raise SourceError(self._say(f"Prometheus at {self.where} timed out")) from None
        except httpx.HTTPError as exc:
            raise SourceError(self._say(f"cannot reach Prometheus at {self.where}: {exc}")) \
                from None
        status = response.status_code
        if status in (401, 403):
            raise SourceError(self._say(
                f"Prometheus at {self.where} refused the request (HTTP {status}): check "
                f"token_env ({self.auth.env or 'not set'})"))
        if status == 429:
            retry = response.headers.get("Retry-After", "")
            raise SourceError(self._say(f"Prometheus at {self.where} is rate limiting"),
                              retry_after_s=float(retry) if retry.isdigit() else None)
        try:
            doc = response.json()
        except ValueError:
            raise SourceError(self._say(
                f"Prometheus at {self.where} answered HTTP {status} with no JSON")) from None
        try:
            query_result(doc)
        except ValueError as exc:
            # A query the server rejects is a configuration error: name it.
            raise SourceError(self._say(f"query {name!r}: {exc}")) from None
        return doc

    def _say(self, text: str) -> str:
        return redact(text, (self.auth.token(),))


def _samples(doc: Any, name: str) -> list[MetricSample]:
    """The points of a ``query_range`` answer, each series named after its query."""
    out: list[MetricSample] = []
    for series in query_result(doc):
        labels = series.get("metric") if isinstance(series, dict) else None
        if not isinstance(labels, dict):
            continue
        host, metric = series_name(labels, name)
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        for point in points:
            try:
                ts, value = float(point[0]), float(point[1])
            except (TypeError, ValueError, IndexError):
                continue  # one odd point costs that point
            if math.isfinite(value):
                out.append(MetricSample(datetime.fromtimestamp(ts, UTC), host, metric, value))
    return out
