"""Ingesting and clustering an alert storm, next to the physical limit of reading it.

A storm of ``--n`` alerts (default 100k) is written as opscockpit NDJSON: a dozen
situations bursting over several hosts and services, each with a few message shapes,
amid periodic background warnings and flapping checks (seeded, see ``storm``). Then, in
the same process and on the same file:

* **limit**: read the file and ``json.loads`` every line -- what any importer must do;
* **ingest**: :func:`opscockpit.ingest.ingest` through an :class:`Intake` with the
  :class:`AlertsAnalyzer`: parse and validate every alert, append to a DuckDB store,
  cluster incrementally (templates, fingerprints, situations, flapping), derive the noise
  figures, then save the clusterer state as ``opscockpit ingest`` does.

The ratio ingest / limit says how far the whole path is from reading alone. ``--cli`` also
times the real ``opscockpit ingest alerts`` command (process start included).

Usage: ``python -m benchmarks.alert_ingest [--n 100000] [--seed 1] [--cli] [--json]``
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

T0 = 1_709_251_200  # 2024-03-01T00:00:00Z
_SHAPES = [
    "HTTP 5xx rate {f:.1f}% on {host}", "upstream {svc2} timed out after {n}ms",
    "pool exhausted: {k}/100 connections", "p99 latency {f:.2f}s above 1s SLO",
    "health check failed for {host}:8080", "queue {svc} backlog {n} messages",
    "disk /var/lib/{svc} usage {k}% on {host}", "OOM killed worker {n} on {host}",
]


def storm(n: int, seed: int = 1) -> list[str]:
    """``n`` NDJSON lines in time order: situations, steady background, flapping checks.

    85% of the alerts come from 12 situations, each on its own service and hosts with
    2-5 message shapes; the rest are periodic warnings (one fingerprint per host) and four
    checks that flap between firing and resolved.
    """
    rng = random.Random(seed)
    rows: list[tuple[float, dict[str, object]]] = []
    span = max(3600.0, n / 20)  # about 20 alerts a second overall
    situations = 12
    per_situation = int(n * 0.85 / situations)
    for k in range(situations):
        svc, svc2 = f"svc-{k}", f"svc-{(k + 1) % situations}"
        shapes = rng.sample(_SHAPES, rng.randint(2, 5))
        start = rng.uniform(0, span * 0.8)
        duration = rng.uniform(0.05, 0.2) * span
        for i in range(per_situation):
            host = f"{svc}-h{rng.randint(1, 4)}"
            text = rng.choice(shapes).format(f=rng.uniform(1, 99), n=rng.randint(1, 10**6),
                                              k=rng.randint(80, 100), host=host, svc=svc,
                                              svc2=svc2)
            rows.append((start + duration * i / per_situation,
                         {"id": f"s{k}-{i}", "severity": "critical", "host": host,
                          "service": svc, "title": f"Situation{k}", "message": text}))
    background = n - len(rows)
    for i in range(background):
        k = i % 24
        host = f"bg-{k}"
        flapping = k < 4
        rows.append((span * i / background, {
            "id": f"b{i}", "severity": "warning", "host": host, "service": f"infra-{k}",
            "title": "ProbeFailed" if flapping else "DiskUsageHigh",
            "message": "probe failed" if flapping else f"disk usage {rng.randint(80, 95)}%",
            "status": ("firing", "resolved")[(i // 24) % 2] if flapping else "firing",
        }))
    rows.sort(key=lambda r: r[0])
    return [json.dumps({**obj, "ts": T0 + t}) for t, obj in rows]


def limit(path: Path) -> float:
    started = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            json.loads(line)
    return time.perf_counter() - started


def ingest_intake(path: Path, db: Path) -> dict[str, float]:
    import opscockpit.analysis.alert_clusters
    import opscockpit.sources.alert_ingest  # noqa: F401 - imports are not what is measured
    from opscockpit.analyzers.alerts import AlertsAnalyzer
    from opscockpit.ingest import ingest
    from opscockpit.intake import Intake
    from opscockpit.store import Store

    rss_before = _rss_mb()
    started = time.perf_counter()
    store = Store.open(db)
    analyzer = AlertsAnalyzer()
    observe, clustering = analyzer.observe, [0.0]

    def timed_observe(*args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return observe(*args)
        finally:
            clustering[0] += time.perf_counter() - t0

    analyzer.observe = timed_observe  # type: ignore[method-assign]
    intake = Intake(store, [analyzer])
    intake.restore()
    summary = ingest(intake, "alerts", [path])
    intake.save()
    store.checkpoint()
    total = time.perf_counter() - started
    view = analyzer.view(store, store.time_span()[1])
    store.close()
    assert view is not None and not summary.errors
    return {"ingest_s": total, "cluster_s": clustering[0], "rows": summary.rows,
            "clusters": view.noise.clusters,
            "reduction_ratio": view.noise.reduction_ratio, "flapping": view.noise.flapping,
            "rss_before_mb": rss_before, "peak_rss_mb": _rss_mb()}


def ingest_cli(path: Path, db: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "opscockpit", "ingest", "alerts", str(path),
                    "--db", str(db)], check=True, capture_output=True)
    return time.perf_counter() - started


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="alerts in the storm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cli", action="store_true", help="also time `opscockpit ingest alerts`")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "storm.ndjson"
        path.write_text("\n".join(storm(args.n, args.seed)) + "\n", encoding="utf-8")
        floor = limit(path)
        result = {"alerts": args.n, "file_mb": path.stat().st_size / 1e6, "limit_s": floor,
                  **ingest_intake(path, Path(tmp) / "intake.duckdb")}
        result["ratio"] = result["ingest_s"] / floor
        result["alerts_per_s"] = args.n / result["ingest_s"]
        if args.cli:
            result["cli_s"] = ingest_cli(path, Path(tmp) / "cli.duckdb")
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{args.n} alerts ({result['file_mb']:.1f} MB NDJSON) -> {result['clusters']} "
          f"clusters (reduction {result['reduction_ratio']:.4f}, {result['flapping']} flapping)")
    print(f"limit (read + json.loads per line): {floor:.3f} s")
    print(f"ingest + cluster + store + save:    {result['ingest_s']:.3f} s "
          f"({result['alerts_per_s']:,.0f} alerts/s), {result['ratio']:.1f}x the limit")
    print(f"  of which clustering (AlertsAnalyzer.observe): {result['cluster_s']:.3f} s")
    print(f"peak RSS {result['peak_rss_mb']:.0f} MB (before ingest {result['rss_before_mb']:.0f})")
    if "cli_s" in result:
        print(f"opscockpit ingest alerts (new process): {result['cli_s']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
