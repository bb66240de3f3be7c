"""The Prometheus source against a real Prometheus scraping a real node_exporter (loopback)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opscockpit.sources.base import SourceError
from opscockpit.sources.prometheus import PrometheusSource
from opscockpit.store import Store
from tests.conftest import require_binary
from tests.integration.servers import free_port, server, wait_until


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prometheus = require_binary("prometheus")
    exporter = require_binary("prometheus-node-exporter")
    tmp = tmp_path_factory.mktemp("prometheus")
    node_port, prom_port = free_port(), free_port()
    config = tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: node\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{node_port}']\n"
    )
    url = f"http://127.0.0.1:{prom_port}"
    with (
        server([exporter, f"--web.listen-address=127.0.0.1:{node_port}"], tmp / "node.log",
               f"http://127.0.0.1:{node_port}/metrics"),
        server([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}"], tmp / "prometheus.log",
               f"{url}/-/ready"),
    ):
        # rate() over the CPU counters needs two scrapes.
        wait_until(lambda: _has_rate(url), 30, "node_exporter CPU rates in Prometheus")
        yield url


def _has_rate(url: str) -> bool:
    doc = httpx.get(f"{url}/api/v1/query", timeout=2,
                    params={"query": "rate(node_cpu_seconds_total[1m])"}).json()
    return bool(doc["data"]["result"])


def test_the_default_queries_give_each_instance_the_host_series(prometheus_url: str) -> None:
    source = PrometheusSource("fleet", {"url": prometheus_url, "step_s": 1.0,
                                        "backfill_s": 30.0})
    batch = asyncio.run(source.poll(None))
    by_metric: dict[str, list[float]] = {}
    for sample in batch.metrics:
        assert sample.host == "127.0.0.1"  # the instance label, without its port
        by_metric.setdefault(sample.metric, []).append(sample.value)
    for metric in ("cpu_pct", "mem_pct", "load1", "mem_total_bytes", "net_rx_bps"):
        assert metric in by_metric, sorted(by_metric)
    assert all(0.0 <= v <= 100.0 for v in by_metric["cpu_pct"] + by_metric["mem_pct"])
    assert any(m.startswith("disk_pct{mount=") for m in by_metric), sorted(by_metric)
    assert max(by_metric["mem_total_bytes"]) > 100e6

    # The next poll asks only for the steps since: no point twice.
    first_newest = max(s.ts for s in batch.metrics)
    asyncio.run(asyncio.sleep(2.1))
    again = asyncio.run(source.poll(None))
    assert again.metrics and min(s.ts for s in again.metrics) > first_newest


def test_a_query_the_server_rejects_is_named_with_its_error(prometheus_url: str) -> None:
    source = PrometheusSource("fleet", {"url": prometheus_url, "queries": {"broken": "rate(("}})
    with pytest.raises(SourceError, match=r"query 'broken'.*bad_data"):
        asyncio.run(source.poll(None))


def test_an_unreachable_server_is_a_readable_reason() -> None:
    source = PrometheusSource("fleet", {"url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(SourceError, match=r"cannot reach Prometheus at http://127\.0\.0\.1:"):
        asyncio.run(source.poll(None))


def test_a_recording_of_the_fleet_holds_every_instance(prometheus_url: str,
                                                        tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[sources.fleet]\nkind = "prometheus"\nurl = "{prometheus_url}"\n'
                      "step_s = 1.0\nbackfill_s = 20.0\ninterval = \"1s\"\n")
    out = tmp_path / "fleet.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "opscockpit", "record", "--out", str(out), "--duration", "3s",
         "--config", str(config)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    with Store.open(out, read_only=True) as store:
        hosts = store.rows("SELECT DISTINCT host FROM metrics WHERE metric = 'cpu_pct'")
    assert hosts == [("127.0.0.1",)]
