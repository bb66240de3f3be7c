"""A small recording made from synthetic data: two hosts, a spike, alerts, a deploy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opscockpit.intake import Intake, default_analyzers
from opscockpit.recording import Recorder
from opscockpit.records import Alert, Change, ChangeKind, MetricSample, Severity
from opscockpit.sources.base import Batch
from opscockpit.store import Store

T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
STEP_S = 10
POINTS = 480  # eighty minutes


def make_recording(path: Path) -> Path:
    rng = random.Random(3)
    store = Store.open(path)
    recorder = Recorder(path, ["synthetic"], store=store)
    intake = Intake(store, default_analyzers(), on_batch=None)
    for i in range(POINTS):
        ts = T0 + timedelta(seconds=i * STEP_S)
        batch = Batch()
        for host in ("web-1", "api-1"):
            spike = 45 if host == "api-1" and 330 <= i < 340 else 0
            batch.metrics.append(MetricSample(ts, host, "cpu_pct", 30 + rng.gauss(0, 3) + spike))
            batch.metrics.append(MetricSample(ts, host, "mem_pct", 50 + rng.gauss(0, 1)))
        if i == 320:
            batch.changes.append(Change(ts, "deploy-1", ChangeKind.DEPLOY, "api", "2.4.0",
                                        "abc123", "ana", "https://ci.example/runs/1"))
        if 332 <= i < 342:
            batch.alerts.append(Alert(ts, f"a{i}", "alertmanager", Severity.ERROR, "api-1",
                                      "api", "HighLatency", f"p99 latency {900 + i} ms",
                                      {"alertname": "HighLatency"}, "fp-latency"))
        intake.accept(batch, ts)
    recorder.close()
    return path
