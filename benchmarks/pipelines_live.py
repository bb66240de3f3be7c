"""What the CI sources and the Pipelines pane cost live: requests per refresh, with and
without ETag revalidation, and the view and report over a big stored history.

    python -m benchmarks.pipelines_live [--repos 20] [--refreshes 30] [--changing 2]
                                        [--runs 100000] [--json]

Requests: a GitHub Actions source polls ``--repos`` repositories ``--refreshes`` times
against a fake api.github.com (respx) that serves the recorded runs list
(``../shared/datasets/ci``) and its jobs list and honours ``If-None-Match`` as GitHub
does: a 304 for an unchanged page, which does not count against the rate limit. Before
each refresh ``--changing`` repositories get a new run. Measured with the source's ETag
cache on, then off (``cache_size = 0``: every page is fetched and parsed again).

History: ``--runs`` runs from ``benchmarks.pipelines.generate`` stored in DuckDB, then the
analyzer's restore (SQL, latest row per run, newest 50 per pipeline and branch) and view
(the pane's picture), and the report's pipelines/dora/changes section over all of it.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx

from benchmarks.pipelines import DATASETS, RECORDED_RUNS, generate

RECORDED_JOBS = DATASETS / "ci" / "github_actions" / "list_jobs_for_run.json"
API = "https://api.github.com"
_PATH = re.compile(r"/repos/([^/]+/[^/]+)/actions/runs(?:/(\d+)/attempts/(\d+)/jobs)?$")


class FakeGitHub:
    """Serves each repo's runs list and jobs, with one ETag per page state."""

    def __init__(self, repos: Sequence[str], runs: list[dict[str, Any]],
                 jobs: dict[str, Any]) -> None:
        self.runs = {repo: [self._own(r, repo, 1000 * k + i) for i, r in enumerate(runs)]
                     for k, repo in enumerate(repos)}
        self.version = dict.fromkeys(repos, 0)
        self.jobs = jobs
        self.next_id = 10**9
        self.calls: list[tuple[str, int, int]] = []  # (kind, status, bytes)

    @staticmethod
    def _own(run: dict[str, Any], repo: str, run_id: int) -> dict[str, Any]:
        own = copy.deepcopy(run)
        own["id"] = run_id
        own["repository"] = {**own.get("repository", {}), "full_name": repo}
        return own

    def new_run(self, repo: str, at: datetime) -> None:
        run = copy.deepcopy(self.runs[repo][0])
        self.next_id += 1
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        run.update(id=self.next_id, created_at=stamp, run_started_at=stamp, updated_at=stamp)
        self.runs[repo].insert(0, run)
        self.version[repo] += 1

    def handle(self, request: httpx.Request) -> httpx.Response:
        match = _PATH.search(request.url.path)
        if match is None:
            return httpx.Response(404)
        repo, run_id = match.group(1), match.group(2)
        if run_id:
            kind, body, etag = "jobs", self.jobs, f'W/"jobs-{run_id}"'
        else:
            per_page = int(request.url.params.get("per_page", 50))
            kind, etag = "runs", f'W/"{repo}-{self.version[repo]}"'
            runs = self.runs[repo][:per_page]
            body = {"total_count": len(self.runs[repo]), "workflow_runs": runs}
        if request.headers.get("if-none-match") == etag:
            self.calls.append((kind, 304, 0))
            return httpx.Response(304, headers={"ETag": etag})
        content = json.dumps(body).encode()
        self.calls.append((kind, 200, len(content)))
        return httpx.Response(200, content=content, headers={
            "ETag": etag, "Content-Type": "application/json"})


async def _no_sleep(_seconds: float) -> None:
    return None


def requests_per_refresh(repos: int, refreshes: int, changing: int, etag: bool
                         ) -> dict[str, Any]:
    from opscockpit.sources.ci_http import HttpHooks
    from opscockpit.sources.github_actions import GitHubActionsSource

    recorded = json.loads(RECORDED_RUNS.read_text())["workflow_runs"]
    names = [f"acme/svc-{i:02d}" for i in range(repos)]
    fake = FakeGitHub(names, recorded, json.loads(RECORDED_JOBS.read_text()))
    router = respx.Router(assert_all_called=False)
    router.route(host="api.github.com").mock(side_effect=fake.handle)
    hooks = HttpHooks(sleep=_no_sleep, jitter=lambda: 0.0,
                      transport=httpx.MockTransport(router.async_handler))
    source = GitHubActionsSource("gh", {"repos": names, "per_page": 20}, hooks=hooks)
    if not etag:
        source.http.cache_size = 0
    at = datetime(2024, 3, 1, tzinfo=UTC)
    records = 0
    started = time.perf_counter()
    first = 0
    for i in range(refreshes + 1):
        if i:  # refresh 0 is the first poll: everything is new
            for repo in names[(i * changing) % repos:][:changing] or names[:changing]:
                fake.new_run(repo, at + timedelta(minutes=i))
        batch = asyncio.run(source.poll(at + timedelta(minutes=i)))
        records += len(batch.runs) if i else 0
        if i == 0:
            first = len(fake.calls)
    seconds = time.perf_counter() - started
    later = fake.calls[first:]
    costly = [c for c in later if c[1] != 304]
    return {
        "etag": etag, "repos": repos, "refreshes": refreshes, "changing": changing,
        "requests_per_refresh": len(later) / refreshes,
        "rate_limited_per_refresh": len(costly) / refreshes,
        "kb_per_refresh": sum(c[2] for c in later) / refreshes / 1024,
        "runs_sent_per_refresh": records / refreshes,
        "seconds": seconds,
    }


def history_cost(n: int) -> dict[str, Any]:
    from opscockpit.analyzers.pipelines import PipelinesAnalyzer
    from opscockpit.report.builder import ReportWindow
    from opscockpit.report.pipelines import pipelines_section
    from opscockpit.store import Store

    runs = generate(n).drop(columns=["seq"])
    store = Store.open(None)
    t0 = time.perf_counter()
    store.append_frame("pipeline_runs", runs)
    append_s = time.perf_counter() - t0
    now = runs["ts"].max().floor("us").to_pydatetime()
    analyzer = PipelinesAnalyzer()
    t0 = time.perf_counter()
    analyzer.restore(store)
    restore_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    view = analyzer.view(store, now)
    view_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    section = pipelines_section(store, ReportWindow.of(store, None, None))
    report_s = time.perf_counter() - t0
    store.close()
    return {
        "runs": n, "kept_runs": len(analyzer.memory.runs),
        "pipelines": len(view.pipelines) if view else 0,
        "append_s": append_s, "restore_s": restore_s, "view_s": view_s,
        "report_s": report_s, "report_pipelines": len(section["pipelines"]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--refreshes", type=int, default=30)
    parser.add_argument("--changing", type=int, default=2,
                        help="repositories with a new run before each refresh")
    parser.add_argument("--runs", type=int, default=100_000, help="stored history size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [requests_per_refresh(args.repos, args.refreshes, args.changing, etag)
            for etag in (True, False)]
    history = history_cost(args.runs)
    with_etag, without = rows
    ratio = with_etag["rate_limited_per_refresh"] / without["rate_limited_per_refresh"]
    if args.json:
        print(json.dumps({"requests": rows, "rate_limit_ratio": ratio, "history": history},
                         indent=1))
        return 0
    print("requests per refresh | etag | sent | rate-limited | KB | runs re-sent")
    for r in rows:
        print(f"{'on' if r['etag'] else 'off':>4} | {r['requests_per_refresh']:.1f} | "
              f"{r['rate_limited_per_refresh']:.1f} | {r['kb_per_refresh']:.0f} | "
              f"{r['runs_sent_per_refresh']:.1f}")
    print(f"rate-limited requests with ETag / without: {ratio:.3f}")
    print("history | " + " | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                    for k, v in history.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
