"""Generate sample_data/incident/: a small incident that exercises every pane.

Fixed seed, so the files are the same on every run. The story (UTC, 2026-03-14):

- 04:00-12:30 five hosts report cpu, memory, latency and error rate every minute;
- 09:20 a decoy: `search` is deployed (nothing follows);
- 10:02 `api` v2.4.0 is deployed; from 10:05 api latency and errors climb, web follows;
- 10:06-10:40 an alert storm across web and api in five message shapes, amid a flapping
  disk warning on db-1 and a nightly job's notices;
- 10:20 the `web` CI pipeline fails on a test, passes on re-run (flaky);
- from 10:05 the fraud model's inputs drift (amounts grow, and stay grown after the
  rollback: retraining is due) and its accuracy drops (its
  reference is 05:00-06:00, in predictions_reference.csv.gz);
- 11:00 `api` is rolled back to v2.3.9; things recover.

    .venv/bin/python scripts/make_sample_incident.py
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sample_data" / "incident"
SEED = 20260314
DAY = datetime(2026, 3, 14, tzinfo=UTC)
START, END = DAY.replace(hour=4), DAY.replace(hour=12, minute=30)
DEPLOY = DAY.replace(hour=10, minute=2)
ONSET = DAY.replace(hour=10, minute=5)
ROLLBACK = DAY.replace(hour=11)
HOSTS = {"web-1": "web", "web-2": "web", "api-1": "api", "api-2": "api", "db-1": "db"}


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_level(ts: datetime) -> float:
    """0 before the bad deploy bites, rising to 1, back to 0 after the rollback."""
    if ts < ONSET or ts >= ROLLBACK + timedelta(minutes=4):
        return 0.0
    if ts >= ROLLBACK:
        return 1.0 - (ts - ROLLBACK).total_seconds() / 240
    return min(1.0, (ts - ONSET).total_seconds() / 300)


def metrics(rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    ts = START
    while ts < END:
        daily = math.sin((ts.hour * 60 + ts.minute) / 1440 * 2 * math.pi - math.pi / 2)
        bad = incident_level(ts)
        for host, service in HOSTS.items():
            hit = bad if service == "api" else bad * 0.6 if service == "web" else 0.0
            cpu = 25 + 10 * daily + rng.gauss(0, 2.5) + 45 * hit
            mem = (55 if service != "db" else 70) + rng.gauss(0, 0.8) + 12 * hit
            rows.append([iso(ts), host, "cpu_pct", round(min(100, max(0, cpu)), 2)])
            rows.append([iso(ts), host, "mem_pct", round(min(100, mem), 2)])
            if service in {"web", "api"}:
                base = 120 if service == "web" else 80
                latency = base * (1 + 0.1 * daily) + rng.gauss(0, base * 0.06) + 900 * hit
                errors = max(0.0, 0.4 + rng.gauss(0, 0.15) + 11 * hit)
                rows.append([iso(ts), host, "latency_ms", round(latency, 1)])
                rows.append([iso(ts), host, "error_rate_pct", round(errors, 3)])
        ts += timedelta(minutes=1)
    return rows


STORM_SHAPES = [
    ("api", "HighLatency", "error", "p99 latency {ms} ms on {host} above 800 ms for 2m"),
    ("api", "ConnectionPoolExhausted", "critical",
     "connection pool exhausted (max=50, waiting={n}) on {host}"),
    ("web", "UpstreamErrors", "error", "HTTP 502 from upstream api on /checkout ({n} in 1m)"),
    ("web", "UpstreamTimeout", "error", "upstream timeout after 30s calling api-{k}:8080"),
    ("web", "HighErrorRate", "critical", "5xx rate {pct}% on {host} above 5%"),
]


def alerts(rng: random.Random) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def add(ts: datetime, host: str, service: str, name: str, severity: str, message: str,
            status: str = "firing") -> None:
        out.append({
            "id": f"al-{len(out) + 1:05d}", "ts": iso(ts), "source": "alertmanager",
            "severity": severity, "host": host, "service": service, "title": name,
            "message": message, "status": status,
            "labels": {"alertname": name, "instance": f"{host}:9100", "service": service},
        })

    # Background: a disk warning on db-1 that flaps every ten minutes all morning.
    ts = START + timedelta(minutes=3)
    firing = True
    while ts < END:
        add(ts, "db-1", "db", "DiskSpaceLow", "warning",
            f"disk /var/lib/postgres {rng.randint(84, 86)}% full on db-1",
            "firing" if firing else "resolved")
        firing = not firing
        ts += timedelta(minutes=10)
    # Background: the nightly report job's notices.
    for minute in range(0, 50, 7):
        add(DAY.replace(hour=5, minute=minute), "db-1", "batch", "NightlyJobSlow", "info",
            f"nightly-report step {minute // 7 + 1} took {rng.randint(40, 90)}s")
    # The storm.
    ts = ONSET + timedelta(minutes=1)
    while ts < DAY.replace(hour=10, minute=40):
        service, name, severity, template = rng.choice(STORM_SHAPES)
        host = rng.choice([h for h, s in HOSTS.items() if s == service])
        message = template.format(ms=rng.randint(820, 2400), host=host, n=rng.randint(20, 400),
                                  k=rng.randint(1, 2), pct=rng.randint(6, 18))
        add(ts, host, service, name, severity, message)
        ts += timedelta(seconds=rng.randint(3, 12))
    return out


def workflow_run(run_id: int, repo: str, name: str, path: str, sha: str, when: datetime,
                 minutes: float, conclusion: str, actor: str, message: str,
                 attempt: int = 1) -> dict[str, object]:
    owner, short = repo.split("/")
    html = f"https://github.com/{repo}/actions/runs/{run_id}"
    api = f"https://api.github.com/repos/{repo}/actions/runs/{run_id}"
    user = {"login": actor, "id": zlib.crc32(actor.encode()) % 10**7, "type": "User",
            "html_url": f"https://github.com/{actor}"}
    return {
        "id": run_id, "name": name, "node_id": f"WFR_{run_id}", "head_branch": "main",
        "head_sha": sha, "path": path, "display_title": message.splitlines()[0],
        "run_number": run_id % 1000, "event": "push", "status": "completed",
        "conclusion": conclusion, "workflow_id": zlib.crc32(path.encode()) % 10**7,
        "url": api, "html_url": html, "pull_requests": [],
        "created_at": iso(when), "updated_at": iso(when + timedelta(minutes=minutes)),
        "actor": user, "triggering_actor": user, "run_attempt": attempt,
        "run_started_at": iso(when + timedelta(seconds=20)), "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs", "head_commit": {
            "id": sha, "tree_id": sha[::-1], "message": message,
            "timestamp": iso(when - timedelta(minutes=25)),
            "author": {"name": actor, "email": f"{actor}@example.com"},
            "committer": {"name": actor, "email": f"{actor}@example.com"}},
        "repository": {"id": zlib.crc32(repo.encode()) % 10**8, "name": short, "full_name": repo,
                       "private": True, "owner": {"login": owner, "type": "Organization"}},
    }


def runs(rng: random.Random) -> dict[str, object]:
    items = []
    run_id = 9100000

    def sha() -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(40))

    # Routine CI on web and api through the morning.
    for hour in range(5, 12):
        for repo in ("acme/web", "acme/api"):
            run_id += 1
            items.append(workflow_run(run_id, repo, "CI", ".github/workflows/ci.yml", sha(),
                                      DAY.replace(hour=hour, minute=rng.randint(0, 50)),
                                      rng.uniform(6, 9), "success", "dev-bot", "chore: tidy"))
    # The flaky web test: fails at 10:20, passes on re-run of the same commit.
    flaky = sha()
    items.append(workflow_run(run_id + 1, "acme/web", "CI", ".github/workflows/ci.yml", flaky,
                              DAY.replace(hour=10, minute=20), 7.5, "failure", "maria",
                              "fix: checkout retries"))
    items.append(workflow_run(run_id + 1, "acme/web", "CI", ".github/workflows/ci.yml", flaky,
                              DAY.replace(hour=10, minute=31), 7.1, "success", "maria",
                              "fix: checkout retries", attempt=2))
    # Deploys: a decoy on search, the bad one on api, the rollback.
    deploys = [
        ("acme/search", DAY.replace(hour=9, minute=20), "release: search v1.8.2", "lee"),
        ("acme/api", DEPLOY - timedelta(minutes=4), "release: api v2.4.0", "sam"),
        ("acme/api", ROLLBACK - timedelta(minutes=4), "revert: api v2.3.9", "sam"),
    ]
    for offset, (repo, when, message, actor) in enumerate(deploys, start=10):
        items.append(workflow_run(run_id + offset, repo, "Deploy production",
                                  ".github/workflows/deploy.yml", sha(), when, 4.0, "success",
                                  actor, message))
    items.sort(key=lambda r: str(r["created_at"]), reverse=True)  # newest first, as GitHub
    return {"total_count": len(items), "workflow_runs": items}


PREDICTIONS_PER_MINUTE = 84  # ~5,000 rows an hour: one drift window (5,000 rows) per hour
CATEGORIES = ["grocery", "travel", "electronics", "fuel", "online"]


def _transactions(rng: random.Random, start: datetime, end: datetime, first_id: int,
                  drifting_from: datetime | None) -> tuple[list[list[object]], list[list[object]]]:
    rows, labels = [], []
    ts, n = start, first_id
    while ts < end:
        for _ in range(PREDICTIONS_PER_MINUTE):
            n += 1
            drifting = drifting_from is not None and drifting_from <= ts
            amount = rng.lognormvariate(3.6 + (0.9 if drifting else 0.0), 0.7)
            category = rng.choices(CATEGORIES,
                                   [1, 1, 3 if drifting else 1, 1, 2 if drifting else 1])[0]
            device = rng.choices(["mobile", "web", "pos"], [5, 3, 2])[0]
            risk = 1 / (1 + math.exp(-(math.log(amount) - 4.6) * 2.2
                                     - (0.8 if category == "electronics" else 0)))
            fraud = rng.random() < risk * 0.5
            noise = rng.gauss(0, 0.18 if not drifting else 0.35)
            score = min(0.999, max(0.001, risk * 0.6 + (0.3 if fraud else 0) + noise))
            record_id = f"tx-{n:07d}"
            rows.append([iso(ts), "fraud-detector", "3", record_id, round(amount, 2), category,
                         device, round(score, 4), int(score >= 0.5)])
            labels.append([record_id, int(fraud)])
        ts += timedelta(minutes=1)
    return rows, labels


def predictions(rng: random.Random) -> tuple[list[list[object]], list[list[object]],
                                             list[list[object]]]:
    """The predictions from 08:00, and a reference hour from earlier that morning."""
    reference, _ = _transactions(rng, DAY.replace(hour=5), DAY.replace(hour=6), 0, None)
    rows, labels = _transactions(rng, DAY.replace(hour=8), END, 1_000_000, ONSET)
    return reference, rows, labels


def write_gzip_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    """Gzip with no timestamp in the header, so the same rows give the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                               filename="") as f:
        f.write(buffer.getvalue().encode())


def main() -> None:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "host", "metric", "value"])
        writer.writerows(metrics(rng))
    with (OUT / "alerts.ndjson").open("w") as f:
        for alert in alerts(rng):
            f.write(json.dumps(alert, sort_keys=True) + "\n")
    (OUT / "runs.json").write_text(json.dumps(runs(rng), indent=1) + "\n")
    reference, rows, labels = predictions(rng)
    header = ["ts", "model", "version", "id", "amount", "merchant_category", "device", "score",
              "prediction"]
    for name, table in (("predictions_reference.csv.gz", reference),
                        ("predictions.csv.gz", rows)):
        write_gzip_csv(OUT / name, header, table)
    write_gzip_csv(OUT / "labels.csv.gz", ["id", "label"], labels)
    for stale in ("predictions.csv", "labels.csv"):
        (OUT / stale).unlink(missing_ok=True)
    for path in sorted(OUT.iterdir()):
        print(f"wrote {path.relative_to(OUT.parents[1])} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
