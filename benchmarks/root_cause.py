"""Root-cause ranking on synthetic incidents whose cause is known.

**Generator** (``generate(seed)``; one seed per scenario, ``--seed`` shifts them all).
A world of 5-9 services (``edge``, ``web``, ``api``...) with 1-3 hosts each; service i
calls 0-2 services of higher index (its upstreams), so faults travel towards the edge.
One service in ten is unmonitored (no hosts, no metrics). Over one day:

- *background changes*: every service deploys 0.5-12 times a day (Poisson; a few are busy
  streams), plus about one config change a day; 8% of deploys report ``failure``;
- *background noise*: weak anomaly episodes (peak 0.2-0.6, 5-30 min) about three times a
  day per host, one or two strong false episodes (peak 0.7-0.9) per scenario, a flapping
  disk warning and a periodic warning on random hosts, one-off alerts;
- *incidents*: one, or two (half of them overlapping in time, on services that do not
  depend on each other). Each picks a monitored root service and a cause: a deploy of the
  root 1-20 min before the onset (55%), a config change of it (15%), or no change at all
  (30%: an upstream fault whose truth is "a symptom on the root service"). The root's hosts
  turn anomalous from the onset (1-3 metrics each, 0-3 min apart, peak 0.7-1, 20-60 min)
  with a storm of 1-3 alert shapes; each service depending on the root (transitively, two
  hops) suffers with probability 0.7, 1-6 min later per hop, its alerts naming the
  upstream in half of the incidents. Hard cases: a decoy deploy of an unrelated service
  0-30 min before the onset (70%), a decoy deploy of a dependant 0-15 min before (30%),
  a weak or slow-starting false episode on the root 20-60 min before (30%), and a
  rollback of the bad change 30-60 min after the onset (50%).

**Scoring.** Each true incident is matched to the found incident holding most of its
symptoms; top-1/top-3 count the true cause's ``ref`` among that incident's first 1/3
candidates (for an incident without a change: any candidate that is a symptom on the root
service). *Cluster's cause* checks the ``probable_root_cause`` the report would give the
incident's biggest alert cluster (``causes_by_symptom``): when two faults meet in one
found incident, each cluster can still name its own cause. ``separated`` is the share of
true incidents whose match is not shared with another true incident. Two modes:
dependencies *configured* (the true call graph) and *inferred* (none configured: alert
text and learning only). Time per incident covers symptom frames, grouping and ranking
(the clustering beforehand is timed separately).

Usage: ``python -m benchmarks.root_cause [--n 200] [--seed 0] [--json]``
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opscockpit.analysis.alert_clusters import AlertClusterer
from opscockpit.analysis.incidents import group_incidents, symptom_frames
from opscockpit.analysis.root_cause import causes_by_symptom, rank_incidents
from opscockpit.analysis.service_topology import (
    dependencies_from_text,
    host_services,
    learn_dependencies,
    merge_dependencies,
)

T0 = pd.Timestamp("2024-06-03", tz="UTC")
NAMES = ["edge", "web", "api", "auth", "cart", "search", "billing", "ledger", "db", "cache",
         "queue", "mail"]
METRICS = ["latency_ms", "error_rate_pct", "cpu_pct", "mem_pct", "saturation"]
SHAPES = [("HighLatency", "p99 latency {n} ms on {host}"),
          ("HighErrorRate", "5xx rate {n}% on {host} above 5%"),
          ("PoolExhausted", "connection pool exhausted (waiting={n}) on {host}"),
          ("QueueBacklog", "queue backlog {n} messages on {host}"),
          ("PodRestarts", "{host} restarted {n} times in 10m")]


@dataclass
class Truth:
    root: str
    cause: str  # deploy, config, none
    ref: str  # the change id, or "" for none
    onset: pd.Timestamp
    series: set[tuple[str, pd.Timestamp]] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)


@dataclass
class Scenario:
    anomalies: pd.DataFrame
    alerts: pd.DataFrame
    changes: pd.DataFrame
    dependencies: dict[str, list[str]]
    hosts: dict[str, list[str]]
    truths: list[Truth]


class _World:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        n = rng.randint(5, 9)
        self.services = rng.sample(NAMES, n)
        self.deps: dict[str, list[str]] = {}
        for i, s in enumerate(self.services[:-1]):
            ups = self.services[i + 1:]
            self.deps[s] = rng.sample(ups, min(len(ups), rng.choice([0, 1, 1, 2])))
        self.hosts = {s: [] if rng.random() < 0.1 else
                      [f"{s}-{k}" for k in range(1, rng.randint(1, 3) + 1)]
                      for s in self.services}
        self.anomalies: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []

    def minute(self, m: float) -> pd.Timestamp:
        return T0 + pd.Timedelta(minutes=m)

    def dependants(self, service: str, hops: int = 2) -> dict[str, int]:
        out: dict[str, int] = {}
        frontier = {service}
        for hop in range(1, hops + 1):
            frontier = {d for d, ups in self.deps.items() if frontier & set(ups)} - set(out)
            frontier.discard(service)
            out.update({d: hop for d in sorted(frontier)})  # sorted: same run, same world
        return out

    def anomaly(self, host: str, metric: str, start: float, minutes: float, peak: float,
                peak_after: float = 0.0) -> tuple[str, pd.Timestamp]:
        series = f"{host}/{metric}"
        self.anomalies.append({"series": series, "host": host, "metric": metric,
                               "start": self.minute(start), "end": self.minute(start + minutes),
                               "peak_score": peak, "peak_ts": self.minute(start + peak_after)})
        return series, self.minute(start)

    def alert(self, m: float, host: str, service: str, title: str, message: str,
              severity: str, status: str = "firing") -> str:
        aid = f"al-{len(self.alerts) + 1}"
        self.alerts.append({"ts": self.minute(m), "id": aid, "source": "alertmanager",
                            "severity": severity, "host": host, "service": service,
                            "title": title, "message": message,
                            "labels": json.dumps({"service": service}),
                            "fingerprint": f"{title}:{host}", "status": status,
                            "ends_at": None})
        return aid

    def change(self, m: float, service: str, kind: str = "deploy", status: str = "success",
               ) -> str:
        cid = f"{kind}:{service or 'global'}:{len(self.changes) + 1}"
        self.changes.append({"ts": self.minute(m), "id": cid, "kind": kind, "service": service,
                             "version": f"v{len(self.changes)}", "status": status, "url": ""})
        return cid


def _background(w: _World) -> None:
    rng = w.rng
    for s in w.services:
        rate = rng.choice([0.5, 1, 2, 3, 6, 12])
        t = rng.expovariate(rate / 1440)
        while t < 1440:
            w.change(t, s, status="failure" if rng.random() < 0.08 else "success")
            t += rng.expovariate(rate / 1440)
    for _ in range(rng.randint(0, 2)):
        w.change(rng.uniform(0, 1440), rng.choice(["", *w.services]), kind="config")
    hosts = [(h, s) for s, hs in w.hosts.items() for h in hs]
    for h, _ in hosts:
        for _ in range(rng.randint(1, 5)):
            w.anomaly(h, rng.choice(METRICS), rng.uniform(0, 1400), rng.uniform(5, 30),
                      rng.uniform(0.2, 0.6))
    for _ in range(rng.randint(1, 2)):
        h, _ = rng.choice(hosts)
        w.anomaly(h, rng.choice(METRICS), rng.uniform(0, 1400), 10, rng.uniform(0.7, 0.9))
    h, s = rng.choice(hosts)
    for k in range(0, 1440 // 10):  # a flapping disk warning
        w.alert(k * 10 + 3, h, s, "DiskSpaceLow", f"disk 85% full on {h}", "warning",
                "firing" if k % 2 == 0 else "resolved")
    h, s = rng.choice(hosts)
    for k in range(0, 1440 // 30):  # a periodic warning
        w.alert(k * 30 + 7, h, s, "CertExpiring", f"certificate on {h} expires in 20d",
                "warning")
    for _ in range(rng.randint(3, 10)):
        h, s = rng.choice(hosts)
        w.alert(rng.uniform(0, 1440), h, s, "OneOff", f"transient error on {h}", "warning")


def _incident(w: _World, root: str, onset: float) -> Truth:
    rng = w.rng
    roll = rng.random()
    cause = "deploy" if roll < 0.55 else "config" if roll < 0.7 else "none"
    truth = Truth(root, cause, "", w.minute(onset))
    if cause != "none":
        at = onset - rng.uniform(1, 20)
        truth.ref = w.change(at, root, cause, "failure" if rng.random() < 0.1 else "success")
        if rng.random() < 0.5:
            w.change(onset + rng.uniform(30, 60), root)  # the rollback
    unrelated = [s for s in w.services if s != root and s not in w.dependants(root)
                 and root not in w.dependants(s)]
    if unrelated and rng.random() < 0.7:
        w.change(onset - rng.uniform(0, 30), rng.choice(unrelated))
    affected = {root: 0} | {d: hop for d, hop in w.dependants(root).items()
                            if rng.random() < 0.7}
    if len(affected) > 1 and rng.random() < 0.3:
        w.change(onset - rng.uniform(0, 15), rng.choice([s for s in affected if s != root]))
    if rng.random() < 0.3 and w.hosts[root]:
        h = rng.choice(w.hosts[root])
        slow = rng.random() < 0.5
        early = rng.uniform(20, 60)
        w.anomaly(h, rng.choice(METRICS), onset - early, early + 30 if slow else 8,
                  1.0 if slow else rng.uniform(0.4, 0.6), peak_after=early + 3 if slow else 0)
    names_upstream = rng.random() < 0.5
    for service, hop in affected.items():
        begin = onset + sum(rng.uniform(1, 6) for _ in range(hop))
        for h in w.hosts[service]:
            for metric in rng.sample(METRICS, rng.randint(1, 3)):
                truth.series.add(w.anomaly(h, metric, begin + rng.uniform(0, 3),
                                           rng.uniform(20, 60), rng.uniform(0.7, 1.0)))
        hosts = w.hosts[service] or [f"{service}-lb"]
        ups = [u for u in w.deps.get(service, []) if u in affected]
        for title, text in rng.sample(SHAPES, rng.randint(1, 3)):
            t = begin + rng.uniform(0, 4)
            end = t + rng.uniform(10, 30)
            while t < end:
                h = rng.choice(hosts)
                message = text.format(n=rng.randint(10, 900), host=h)
                if names_upstream and ups:
                    message += f" (upstream {ups[0]} timing out)"
                truth.alerts.add(w.alert(t, h, service, f"{service.title()}{title}", message,
                                         rng.choice(["error", "critical"])))
                t += rng.uniform(0.1, 0.5)
    return truth


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    w = _World(rng)
    _background(w)
    monitored = [s for s in w.services if w.hosts[s]]
    first = rng.choice(monitored)
    onset = rng.uniform(300, 1100)
    truths = [_incident(w, first, onset)]
    if rng.random() < 0.5:
        near = set(w.dependants(first)) | {first} | set(w.deps.get(first, []))
        others = [s for s in monitored if s not in near and first not in w.dependants(s)]
        if others:
            second = onset + rng.uniform(-5, 10) if rng.random() < 0.5 else \
                onset + rng.choice([-1, 1]) * rng.uniform(90, 240)
            truths.append(_incident(w, rng.choice(others), second))
    alerts = pd.DataFrame(w.alerts).sort_values("ts", kind="stable").reset_index(drop=True)
    return Scenario(pd.DataFrame(w.anomalies), alerts, pd.DataFrame(w.changes),
                    {k: v for k, v in w.deps.items() if v}, w.hosts, truths)


def evaluate(sc: Scenario, configured: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    clusterer = AlertClusterer()
    clusterer.add(sc.alerts)
    clusters = clusterer.clusters()
    t1 = time.perf_counter()
    deps_in = sc.dependencies if configured else {}
    metric_hosts = [h for hs in sc.hosts.values() for h in hs]
    hosts = host_services(sc.alerts, sc.changes, metric_hosts, deps_in)
    symptoms, events = symptom_frames(sc.anomalies, clusters, sc.alerts, hosts)
    deps = merge_dependencies(deps_in, dependencies_from_text(sc.alerts, hosts))
    starts = symptoms[symptoms["core"]].assign(
        service=symptoms["services"].map(lambda v: v[0] if v else ""))
    deps = merge_dependencies(deps, learn_dependencies(starts[["service", "start"]]))
    incidents = group_incidents(symptoms, events, deps)
    ranked = rank_incidents(incidents, sc.changes, deps, hosts, set(hosts.values()))
    t2 = time.perf_counter()
    cluster_of = dict(zip(clusterer.assignments()["id"], clusterer.assignments()["cluster_id"],
                          strict=True))
    rows, matched = [], []
    by_cluster = {cid: (x, c) for x in incidents
                  for cid, c in causes_by_symptom(x, ranked[x.id]).items()}
    for truth in sc.truths:
        counts = pd.Series([cluster_of[a] for a in truth.alerts if a in cluster_of])
        clusters_true = set(counts)
        main = counts.value_counts().index[0] if len(counts) else None
        cause = by_cluster.get(main, (None, None))[1]
        best, overlap = None, 0
        for x in incidents:
            keys = set(zip(x.symptoms["ref"], x.symptoms["start"], strict=True))
            hit = len(keys & truth.series) + len(set(x.clusters) & clusters_true)
            if hit > overlap:
                best, overlap = x, hit
        matched.append(best.id if best else None)
        cands = ranked.get(best.id, []) if best else []
        rows.append({"cause": truth.cause, "top1": _hit(cands[:1], truth, hosts),
                     "top3": _hit(cands[:3], truth, hosts),
                     "cluster_top1": cause is not None and _hit([cause], truth, hosts)})
    for row, m in zip(rows, matched, strict=True):
        row["separated"] = m is not None and matched.count(m) == 1
    return {"rows": rows, "incidents": len(incidents), "rank_s": t2 - t1, "cluster_s": t1 - t0}


def _hit(cands: list[Any], truth: Truth, hosts: dict[str, str]) -> bool:
    for c in cands:
        if truth.ref and c.ref == truth.ref:
            return True
        on_root = (truth.root in c.service.split(", ")
                   or hosts.get(c.ref.split("/")[0]) == truth.root)
        if not truth.ref and c.kind in {"symptom", "anomaly", "cluster"} and on_root:
            return True
    return False


def run(n: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {"scenarios": n, "seed": seed}
    scenarios = [generate(seed + i) for i in range(n)]
    for mode in ("configured", "inferred"):
        rows: list[dict[str, Any]] = []
        found = rank_s = cluster_s = 0.0
        for sc in scenarios:
            result = evaluate(sc, mode == "configured")
            rows += result["rows"]
            found += result["incidents"]
            rank_s += result["rank_s"]
            cluster_s += result["cluster_s"]
        frame = pd.DataFrame(rows)
        by_cause = frame.groupby("cause")[["top1", "top3"]].mean().round(3)
        out[mode] = {
            "incidents": len(frame), "top1": round(float(frame["top1"].mean()), 3),
            "top3": round(float(frame["top3"].mean()), 3),
            "cluster_top1": round(float(frame["cluster_top1"].mean()), 3),
            "separated": round(float(frame["separated"].mean()), 3),
            "by_cause": {c: {**by_cause.loc[c].to_dict(), "n": int((frame["cause"] == c).sum())}
                         for c in by_cause.index},
            "ms_per_found_incident": round(1000 * rank_s / max(found, 1), 2),
            "cluster_ms_per_scenario": round(1000 * cluster_s / n, 1),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="scenarios (seeds seed..seed+n-1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.n, args.seed)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"root-cause benchmark: {args.n} scenarios, seeds {args.seed}..{args.seed + args.n - 1}")
    print("| dependencies | incidents | top-1 | top-3 | cluster's cause | separated | "
          "deploy top-1 | config top-1 | no change top-1 | ms / incident | "
          "clustering ms / scenario |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in ("configured", "inferred"):
        r = result[mode]
        cause = {c: r["by_cause"].get(c, {}).get("top1", float("nan"))
                 for c in ("deploy", "config", "none")}
        print(f"| {mode} | {r['incidents']} | {r['top1']:.3f} | {r['top3']:.3f} | "
              f"{r['cluster_top1']:.3f} | {r['separated']:.3f} | {cause['deploy']:.3f} | "
              f"{cause['config']:.3f} | "
              f"{cause['none']:.3f} | {r['ms_per_found_incident']} | "
              f"{r['cluster_ms_per_scenario']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
