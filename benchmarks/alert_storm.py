"""Alert-storm clustering quality and incremental throughput.

Two sources of ground truth, nothing tuned to either:

1. **Synthetic storms** (``generate``; every knob below, seeds printed). A world of
   ``services`` services, each with 1-3 hosts, where service i may call service i+1.
   A *situation* starts at a random time on a root service and cascades to 0-2 downstream
   callers; it emits 1-5 message shapes per service at 0.2-1 alerts/s for 3-15 minutes.
   A caller's shapes name the service they call in half of the situations ("upstream
   svc-4 timed out"), the other half do not -- those cascades are *expected* to be hard.
   Background, mixed in over the whole span: periodic warnings (every 5-30 min, one
   fingerprint each), flapping checks (fire/resolve every 1-4 min for a while) and one-off
   singletons. Truth: situation id for storm alerts, one item per background fingerprint.
2. **BGL 2k** (LogHub, real): lines whose first column is an alert category (not "-")
   are alerts; truth is the category (KERNDTLB, APPSEV…), which is the closest thing to
   a "situation" label in public data. Categories that co-occur in one real incident
   make this a lower bound on homogeneity-style scores rather than an exact target.

Scores: adjusted Rand index, homogeneity, completeness (scikit-learn), reduction ratio
(1 - clusters/alerts) next to the truth's own ratio (1 - situations/alerts).

Throughput: the same alerts fed in batches to one ``AlertClusterer`` (incremental) versus
re-running ``cluster_alerts`` on everything so far after every batch (full recompute).

Usage: ``python -m benchmarks.alert_storm [--limit N] [--seeds 5] [--batch 50] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score, completeness_score, homogeneity_score

from opscockpit.analysis.alert_clusters import AlertClusterer, cluster_alerts
from opscockpit.sources.alert_files import parse_alert_file

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("OPSCOCKPIT_DATASETS", ROOT.parent / "shared" / "datasets"))
T0 = pd.Timestamp("2024-01-01", tz="UTC")

_VERBS = ["timed out", "refused connection", "returned 503", "is degraded", "failed health check",
          "queue backlog high", "error rate above SLO", "pool exhausted", "disk latency high",
          "OOM killed", "restart loop", "certificate expired", "deadlock detected",
          "replication lag high", "throttled by quota"]
_NOUNS = ["request", "worker", "shard", "consumer", "job", "pod", "query", "session", "batch"]


def _shape(
    rng: random.Random, service: str, upstream: str | None
) -> tuple[str, Callable[[random.Random, str], str]]:
    verb, noun = rng.choice(_VERBS), rng.choice(_NOUNS)
    title = f"{service.title().replace('-', '')}{noun.title()}{rng.randint(1, 99)}"
    if upstream:
        def message(r: random.Random, host: str) -> str:
            return f"upstream {upstream} {verb} for {noun} {r.randint(1, 10**6)} on {host}"
    else:
        def message(r: random.Random, host: str) -> str:
            return f"{noun} {r.randint(1, 10**6)} {verb} after {r.randint(100, 9000)}ms on {host}"
    return title, message


def _row(t: float, aid: str, host: str, service: str, title: str, message: str, severity: str,
         fp: str, status: str = "firing") -> dict:
    return {"ts": T0 + pd.Timedelta(seconds=t), "id": aid, "source": "synthetic",
            "severity": severity, "host": host, "service": service, "title": title,
            "message": message, "labels": "{}", "fingerprint": fp, "status": status,
            "ends_at": pd.NaT}


def generate(seed: int, services: int = 16, situations: int = 8, hours: float = 12.0,
             periodic: int = 10, flapping: int = 3, singletons: int = 40) -> pd.DataFrame:
    """A synthetic alert stream with a ``truth`` column (see the module docstring)."""
    rng = random.Random(seed)
    names = [f"svc-{i}" for i in range(services)]
    hosts = {s: [f"{s}-h{j}" for j in range(rng.randint(1, 3))] for s in names}
    span = hours * 3600
    rows: list[dict] = []
    for k in range(situations):
        root = rng.randrange(services)
        chain = [names[(root + d) % services] for d in range(rng.randint(1, 3))]
        mention = rng.random() < 0.5
        start = rng.uniform(0, span - 1800)
        duration = rng.uniform(180, 900)
        rate = rng.uniform(0.2, 1.0)
        shapes = []
        for i, svc in enumerate(chain):
            upstream = chain[i - 1] if (i > 0 and mention) else None
            shapes += [(svc, *_shape(rng, svc, upstream)) for _ in range(rng.randint(1, 3))]
        shapes = shapes[:5] if len(shapes) > 5 else shapes
        t = start
        n = 0
        while t < start + duration:
            svc, title, message = rng.choice(shapes)
            host = rng.choice(hosts[svc])
            rows.append(_row(t, f"s{k}-{n}", host, svc, title, message(rng, host),
                             rng.choice(["error", "critical"]), f"{host}|{title}")
                        | {"truth": f"situation-{k}"})
            n += 1
            t += rng.expovariate(rate)
    for k in range(periodic):
        svc = rng.choice(names)
        host = rng.choice(hosts[svc])
        period = rng.uniform(300, 1800)
        t = rng.uniform(0, period)
        title = f"Periodic{k}"
        while t < span:
            rows.append(_row(t, f"p{k}-{t:.0f}", host, svc, title,
                             f"disk usage {rng.randint(80, 95)}% on {host}", "warning",
                             f"periodic-{k}") | {"truth": f"periodic-{k}"})
            t += period * rng.uniform(0.9, 1.1)
    for k in range(flapping):
        svc = rng.choice(names)
        host = rng.choice(hosts[svc])
        t = rng.uniform(0, span - 3600)
        state = "firing"
        for _ in range(rng.randint(8, 20)):
            rows.append(_row(t, f"f{k}-{t:.0f}", host, svc, f"Flappy{k}", "probe check failed",
                             "warning", f"flap-{k}", state) | {"truth": f"flap-{k}"})
            state = "resolved" if state == "firing" else "firing"
            t += rng.uniform(60, 240)
    for k in range(singletons):
        svc = rng.choice(names)
        host = rng.choice(hosts[svc])
        title = f"OneOff{k}"
        rows.append(_row(rng.uniform(0, span), f"o{k}", host, svc, title,
                         f"{rng.choice(_NOUNS)} {rng.choice(_VERBS)}", "warning", f"one-{k}")
                    | {"truth": f"single-{k}"})
    frame = pd.DataFrame(rows).sort_values(["ts", "id"], kind="stable")
    return frame.reset_index(drop=True)


def score(frame: pd.DataFrame, truth: pd.Series) -> dict[str, float]:
    clusterer = AlertClusterer()
    clusterer.add(frame)
    assigned = clusterer.assignments().set_index("id")["cluster_id"]
    pred = frame["id"].map(assigned)
    n_clusters = pred.nunique()
    return {
        "alerts": len(frame),
        "truth_items": truth.nunique(),
        "clusters": n_clusters,
        "ARI": adjusted_rand_score(truth, pred),
        "homogeneity": homogeneity_score(truth, pred),
        "completeness": completeness_score(truth, pred),
        "reduction": 1 - n_clusters / len(frame),
        "truth_reduction": 1 - truth.nunique() / len(frame),
    }


def bgl(limit: int | None) -> dict[str, float] | None:
    path = DATASETS / "loghub" / "BGL" / "BGL_2k.log"
    if not path.exists():
        return None
    lines = path.read_text().splitlines()[:limit]
    labels = [line.split(" ", 1)[0] for line in lines]
    result = parse_alert_file(path, dataset="BGL")
    events = result.events.head(len(lines))
    keep = [lab != "-" for lab in labels]
    alerts = events[keep].reset_index(drop=True)
    truth = pd.Series([lab for lab in labels if lab != "-"])
    return score(alerts, truth) if len(alerts) else None


def throughput(frame: pd.DataFrame, batch: int) -> dict[str, float]:
    data = frame.drop(columns="truth")
    t0 = time.perf_counter()
    inc = AlertClusterer()
    for i in range(0, len(data), batch):
        inc.add(data.iloc[i:i + batch])
    inc.clusters()
    t_inc = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(0, len(data), batch):
        full = cluster_alerts(data.iloc[: i + batch])
    t_full = time.perf_counter() - t0
    same = sorted(map(sorted, inc.clusters()["alert_ids"])) == sorted(map(sorted,
                                                                        full["alert_ids"]))
    return {"alerts": len(data), "batch": batch, "incremental_s": t_inc,
            "full_recompute_s": t_full, "speedup": t_full / t_inc if t_inc else float("nan"),
            "incremental_alerts_per_s": len(data) / t_inc, "same_result": same}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="cap alerts per scenario")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for seed in range(args.seeds):
        frame = generate(seed)
        if args.limit:
            frame = frame.head(args.limit)
        rows.append({"scenario": f"synthetic seed={seed}", **score(frame.drop(columns="truth"),
                                                                    frame["truth"])})
    real = bgl(args.limit)
    if real is not None:
        rows.append({"scenario": "BGL_2k alert categories", **real})
    table = pd.DataFrame(rows)
    tp_frame = generate(0)
    tp = throughput(tp_frame.head(args.limit or 2000), args.batch)
    if args.json:
        print(json.dumps({"quality": rows, "throughput": tp}, indent=1, default=str))
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        synth = table[table["scenario"].str.startswith("synthetic")]
        print("\nsynthetic mean:", ", ".join(
            f"{k}={synth[k].mean():.3f}" for k in
            ["ARI", "homogeneity", "completeness", "reduction", "truth_reduction"]))
    print("\nthroughput (synthetic seed=0):", ", ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in tp.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
