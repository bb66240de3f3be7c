"""CI pipeline statistics and DORA keys: throughput against DuckDB SQL in the same run.

    python -m benchmarks.pipelines [--sizes 1000,10000,100000,1000000] [--repeat 3] [--json]

Run histories are generated in the shape of the recorded payloads (``../shared/datasets/ci``):
workflow names and their typical durations come from the recorded GitHub runs when the data
is there; providers, status and conclusion words are the ones the sources emit. Every
history has what a store really holds: runs seen ``running`` and again ``completed`` (2 %),
re-run attempts (3 %), open runs, cancelled and timed-out runs, four branches per repo.
One workflow per repo deploys; its completed runs form the deploy history (about 12 %).

Measured, best of ``--repeat``, on the same frame:

* ours: ``pipeline_stats`` (dedupe, counts, failure rate, p50/p95 duration, duration trend,
  queue p50/p95, running, strip of the last 20 outcomes and durations) and ``dora_metrics``.
* peer: the same aggregates as one DuckDB SQL query each over the same pandas frame
  (DuckDB scans it in place; its threads are on), results fetched as a DataFrame.

The ratio is ours / peer: above 1 means ours is slower. The two answers are compared
(runs, failures, p50, p95 per pipeline; the four DORA keys) and ``agree`` says whether
they match. Also reported: GitHub runs-JSON parsing rate (``parse_runs`` on copies of a
recorded run), up to 100k runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from opscockpit.analysis.dora import dora_metrics
from opscockpit.analysis.pipelines import pipeline_stats
from opscockpit.sources.github_actions import parse_runs

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("OPSCOCKPIT_DATASETS", ROOT.parent / "shared" / "datasets"))
RECORDED_RUNS = DATASETS / "ci" / "github_actions" / "list_workflow_runs_mixed.json"
T0 = pd.Timestamp("2024-01-01", tz="UTC")
DAYS = 90
# Used when the recorded data is absent: the recorded workflows and their durations (s).
FALLBACK_WORKFLOWS = {"Fast workflow": 41.0, "Slow workflow": 314.0, "Broken Workflow": 16.0,
                      "Failing workflow": 12.0, "Artifacts workflow": 13.0}
PROVIDERS = np.array(["github_actions", "gitlab_ci", "jenkins"])
CONCLUSIONS = np.array(["success", "failure", "cancelled", "timed_out", "skipped"])
CONCLUSION_P = np.array([0.84, 0.10, 0.03, 0.01, 0.02])


def recorded_workflows() -> dict[str, float]:
    if not RECORDED_RUNS.exists():
        return FALLBACK_WORKFLOWS
    found: dict[str, float] = {}
    for run in parse_runs(json.loads(RECORDED_RUNS.read_text())):
        if run.finished_at and run.started_at:
            found[run.workflow] = max(5.0, (run.finished_at - run.started_at).total_seconds())
    return found or FALLBACK_WORKFLOWS


def generate(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` rows of ``pipeline_runs`` as a store would hold them."""
    rng = np.random.default_rng(seed)
    names = {**recorded_workflows(), "Deploy": 180.0}
    workflows = np.array(list(names))
    typical = np.array(list(names.values()))
    repos = max(5, min(200, n // 2000))
    repo_i = rng.integers(0, repos, n)
    wf_i = rng.integers(0, len(workflows), n)
    ts = T0 + pd.to_timedelta(np.sort(rng.uniform(0, DAYS * 86400, n)), unit="s")
    queue = rng.exponential(8.0, n)
    duration = typical[wf_i] * rng.lognormal(0.0, 0.35, n)
    conclusion = rng.choice(CONCLUSIONS, n, p=CONCLUSION_P)
    open_ = rng.random(n) < 0.02
    status = np.where(open_, np.where(rng.random(n) < 0.5, "running", "queued"), "completed")
    conclusion = np.where(open_, "", conclusion)
    started = ts + pd.to_timedelta(queue, unit="s")
    finished = (started + pd.to_timedelta(duration, unit="s")).where(~open_)
    branch = np.array(["main", "main", "release", "feature-x"])[rng.integers(0, 4, n)]
    frame = pd.DataFrame({
        "ts": ts,
        "provider": PROVIDERS[repo_i % 3],
        "repo": np.char.add("acme/svc-", repo_i.astype(str)),
        "workflow": workflows[wf_i],
        "run_id": np.arange(n).astype(str),
        "branch": branch,
        "sha": [f"{x:040x}" for x in rng.integers(0, 2**62, n)],
        "status": status,
        "conclusion": conclusion,
        "started_at": started,
        "finished_at": finished,
        "url": "",
        "actor": "dev",
        "event": "push",
        "attempt": 1,
        "committed_at": ts - pd.to_timedelta(rng.exponential(1800.0, n), unit="s"),
    })
    # Re-runs of failed runs: same run id and sha, attempt 2, mostly passing.
    again = frame[(frame["conclusion"] == "failure") & (rng.random(n) < 0.3)].copy()
    shift = pd.to_timedelta(rng.uniform(600, 3600, len(again)), unit="s")
    again["attempt"] = 2
    again["conclusion"] = np.where(rng.random(len(again)) < 0.8, "success", "failure")
    for col in ("ts", "started_at", "finished_at"):
        again[col] = again[col] + shift
    # The same run seen while running, before its completed row.
    seen = frame[(frame["status"] == "completed") & (rng.random(n) < 0.02)].copy()
    seen["status"], seen["conclusion"], seen["finished_at"] = "running", "", pd.NaT
    out = pd.concat([seen, frame, again], ignore_index=True).iloc[:n]
    out["seq"] = np.arange(len(out))
    return out.reset_index(drop=True)


def deploys_of(runs: pd.DataFrame) -> pd.DataFrame:
    d = runs[(runs["workflow"] == "Deploy") & (runs["status"] == "completed")
             & runs["conclusion"].isin(["success", "failure", "timed_out"])]
    d = d.sort_values("seq").drop_duplicates(["provider", "repo", "run_id", "attempt"],
                                             keep="last")
    return pd.DataFrame({
        "service": d["repo"].str.rsplit("/", n=1).str[-1], "ts": d["finished_at"],
        "sha": d["sha"], "conclusion": d["conclusion"], "committed_at": d["committed_at"],
    }).reset_index(drop=True)


PIPELINES_SQL = """
WITH latest AS (
  SELECT * FROM runs QUALIFY row_number() OVER (
    PARTITION BY provider, repo, run_id, attempt
    ORDER BY (status = 'completed') DESC, seq DESC) = 1
), x AS (
  SELECT *, status = 'completed' AND conclusion IN
              ('failure', 'timed_out', 'startup_failure', 'unstable') AS f,
            status = 'completed' AND conclusion = 'success' AS p,
            status IN ('queued', 'running', 'waiting', 'in_progress', 'pending') AS o,
            CASE WHEN status = 'completed' THEN conclusion ELSE status END AS outcome,
            epoch(finished_at) - epoch(started_at) AS dur,
            greatest(epoch(started_at) - epoch(ts), 0) AS q
  FROM latest
), timed AS (
  SELECT provider, repo, workflow, ts, dur, row_number() OVER (
    PARTITION BY provider, repo, workflow ORDER BY ts DESC, seq DESC) AS back
  FROM x WHERE (f OR p) AND dur >= 0
), trend AS (
  SELECT provider, repo, workflow,
    median(dur) FILTER (WHERE back <= 10)
      / nullif(median(dur) FILTER (WHERE back > 10 AND back <= 20), 0) - 1 AS duration_trend,
    list(dur ORDER BY ts) FILTER (WHERE back <= 20) AS durations
  FROM timed GROUP BY ALL
), strip AS (
  SELECT provider, repo, workflow, list(outcome ORDER BY ts) AS last_runs FROM (
    SELECT *, row_number() OVER (PARTITION BY provider, repo, workflow
                                 ORDER BY ts DESC, seq DESC) AS back FROM x)
  WHERE back <= 20 GROUP BY ALL
)
SELECT provider, repo, workflow, count(*) AS runs, sum(p::INT) AS successes,
  sum(f::INT) AS failures, sum(o::INT) AS running,
  sum(f::INT) / nullif(sum((f OR p)::INT), 0) AS failure_rate,
  quantile_cont(CASE WHEN (f OR p) AND dur >= 0 THEN dur END, 0.5) AS duration_p50_s,
  quantile_cont(CASE WHEN (f OR p) AND dur >= 0 THEN dur END, 0.95) AS duration_p95_s,
  quantile_cont(q, 0.5) AS queue_p50_s, quantile_cont(q, 0.95) AS queue_p95_s,
  any_value(trend.duration_trend) AS duration_trend, any_value(trend.durations) AS durations,
  any_value(strip.last_runs) AS last_runs
FROM x LEFT JOIN trend USING (provider, repo, workflow)
       LEFT JOIN strip USING (provider, repo, workflow)
GROUP BY ALL
"""

DORA_SQL = """
WITH d AS (
  SELECT *, conclusion = 'success' AS ok,
    max(CASE WHEN conclusion = 'success' THEN ts END) OVER (
      PARTITION BY service ORDER BY ts ROWS UNBOUNDED PRECEDING) AS prev_ok_ts,
    min(CASE WHEN conclusion = 'success' THEN ts END) OVER (
      PARTITION BY service ORDER BY ts ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
      AS next_ok_ts,
    lag(conclusion = 'success') OVER (PARTITION BY service ORDER BY ts) AS prev_row_ok
  FROM deploys
), s AS (
  SELECT *, lag(ts) OVER w AS before_ts, lag(sha) OVER w AS prev_sha,
    min(ts) OVER (PARTITION BY service, sha) AS first_seen
  FROM d WHERE ok WINDOW w AS (PARTITION BY service ORDER BY ts)
), failed AS (
  SELECT DISTINCT service, prev_ok_ts AS ts FROM d
  WHERE NOT ok AND prev_ok_ts IS NOT NULL AND ts - prev_ok_ts <= INTERVAL 1 DAY
  UNION
  SELECT DISTINCT service, before_ts FROM s
  WHERE sha <> '' AND first_seen < ts AND sha <> prev_sha AND before_ts IS NOT NULL
)
SELECT
  (SELECT count(*) FROM s) / greatest(1, (epoch(max(ts)) - epoch(min(ts))) / 86400)
    AS deployment_frequency_per_day,
  (SELECT median(greatest(epoch(ts) - epoch(committed_at), 0)) FROM s) AS lead_time_p50_s,
  (SELECT count(*) FROM failed) / (SELECT count(*) FROM s) AS change_failure_rate,
  (SELECT median(epoch(next_ok_ts) - epoch(ts)) FROM d
   WHERE NOT ok AND coalesce(prev_row_ok, TRUE)) AS time_to_restore_p50_s
FROM d
"""


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def pipelines_agree(ours: pd.DataFrame, peer: pd.DataFrame) -> bool:
    keys = ["provider", "repo", "workflow"]
    cols = ["runs", "failures", "running", "duration_p50_s", "duration_p95_s"]
    a = ours.set_index(keys)[cols].sort_index()
    b = peer.set_index(keys)[cols].sort_index().astype(float)
    # DuckDB keeps microseconds, pandas nanoseconds: equal to 1e-6.
    return a.shape == b.shape and bool(np.allclose(a.astype(float), b, rtol=1e-6,
                                                   equal_nan=True))


def dora_agree(ours: dict[str, Any], peer: pd.Series) -> bool:
    return all(
        (ours[k] is None and pd.isna(peer[k])) or np.isclose(ours[k], float(peer[k]))
        for k in ("deployment_frequency_per_day", "lead_time_p50_s", "change_failure_rate",
                  "time_to_restore_p50_s")
    )


def parse_rate(n: int) -> float | None:
    if not RECORDED_RUNS.exists():
        return None
    body = json.loads(RECORDED_RUNS.read_text())
    template = body["workflow_runs"][0]
    items = []
    for i in range(n):
        item = copy.copy(template)
        item["id"] = i
        items.append(item)
    seconds, runs = best_of(1, lambda: parse_runs({"workflow_runs": items}))
    assert len(runs) == n
    return n / seconds


def measure(n: int, repeat: int) -> dict[str, Any]:
    runs = generate(n)
    deploys = deploys_of(runs)
    con = duckdb.connect()
    con.register("runs", runs)
    con.register("deploys", deploys)
    ours_s, stats = best_of(repeat, lambda: pipeline_stats(runs))
    peer_s, peer = best_of(repeat, lambda: con.execute(PIPELINES_SQL).df())
    dora_s, metrics = best_of(repeat, lambda: dora_metrics(deploys))
    dpeer_s, dpeer = best_of(repeat, lambda: con.execute(DORA_SQL).df().iloc[0])
    con.close()
    return {
        "runs": n, "pipelines": len(stats), "deploys": len(deploys),
        "stats_s": ours_s, "stats_sql_s": peer_s, "stats_ratio": ours_s / peer_s,
        "stats_runs_per_s": n / ours_s, "stats_agree": pipelines_agree(stats, peer),
        "dora_s": dora_s, "dora_sql_s": dpeer_s, "dora_ratio": dora_s / dpeer_s,
        "dora_deploys_per_s": len(deploys) / dora_s,
        "dora_agree": dora_agree(metrics.as_dict(), dpeer),
        "parse_runs_per_s": parse_rate(min(n, 100_000)),
    }


def _table(rows: Sequence[dict[str, Any]]) -> str:
    cols = ["runs", "pipelines", "deploys", "stats_s", "stats_sql_s", "stats_ratio",
            "stats_agree", "dora_s", "dora_sql_s", "dora_ratio", "dora_agree",
            "parse_runs_per_s"]

    def fmt(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return str(v)
        if isinstance(v, float):
            return f"{v:,.0f}" if v >= 1000 else f"{v:.3f}"
        return f"{v:,}"

    lines = [" | ".join(cols), " | ".join("---" for _ in cols)]
    lines += [" | ".join(fmt(r[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000",
                        help="comma-separated run counts")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    rows = [measure(n, max(1, args.repeat)) for n in sizes]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"duckdb {duckdb.__version__}, pandas {pd.__version__}, {os.cpu_count()} CPUs; "
              "ratio = ours / DuckDB SQL (above 1: ours slower)")
        print(_table(rows))
    return 0 if all(r["stats_agree"] and r["dora_agree"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
