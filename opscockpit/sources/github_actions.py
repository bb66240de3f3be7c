"""GitHub Actions (github.com or GHES): workflow runs and their jobs, per repository.

Status words are mapped onto the house vocabulary (``queued``, ``running``, ``waiting``,
``completed``); conclusions keep GitHub's words, which the other CI sources map onto.
GitHub sends no run end time: a completed run's ``updated_at`` is taken as its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlparse

from opscockpit.records import PipelineJob, PipelineRun
from opscockpit.sources.base import Batch, Option, Source
from opscockpit.sources.ci_http import (
    CI_OPTIONS,
    CiHttp,
    HttpHooks,
    RetryPolicy,
    SeenRuns,
    TokenAuth,
    parse_time,
)
from opscockpit.sources.deploy_rules import deploy_changes, parse_rules

PROVIDER = "github_actions"
_STATUS = {
    "completed": "completed",
    "in_progress": "running",
    "queued": "queued",
    "requested": "queued",
    "pending": "queued",
    "waiting": "waiting",
    "action_required": "waiting",
}
_FAILED_STEP = frozenset({"failure", "timed_out", "cancelled"})


def _status(raw: Any) -> str:
    return _STATUS.get(str(raw or "").lower(), str(raw or "").lower())


def _login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, Mapping) else ""


def repo_of_api_url(url: str) -> str:
    """``https://api.github.com/repos/o/r/actions/...`` -> ``o/r`` (GHES: ``/api/v3/repos``)."""
    parts = urlparse(url).path.split("/")
    if "repos" not in parts:
        return ""
    i = parts.index("repos")
    return "/".join(parts[i + 1 : i + 3])


def parse_run(item: Mapping[str, Any], repo: str = "") -> PipelineRun:
    """One object of ``workflow_runs`` (REST list, or a ``workflow_run`` webhook)."""
    created = parse_time(item["created_at"])
    if created is None:
        raise ValueError(f"run {item.get('id')} has no created_at")
    status = _status(item.get("status"))
    repository = item.get("repository")
    full_name = repository.get("full_name", "") if isinstance(repository, Mapping) else ""
    head = item.get("head_commit")
    return PipelineRun(
        ts=created,
        provider=PROVIDER,
        repo=full_name or repo or repo_of_api_url(str(item.get("url", ""))),
        workflow=str(item.get("name") or item.get("path") or item.get("workflow_id", "")),
        run_id=str(item["id"]),
        branch=str(item.get("head_branch") or ""),
        sha=str(item.get("head_sha") or ""),
        status=status,
        conclusion=str(item.get("conclusion") or "").lower(),
        started_at=parse_time(item.get("run_started_at")) or created,
        finished_at=parse_time(item.get("updated_at")) if status == "completed" else None,
        url=str(item.get("html_url") or item.get("url") or ""),
        actor=_login(item.get("triggering_actor")) or _login(item.get("actor")),
        event=str(item.get("event") or ""),
        attempt=int(item.get("run_attempt") or 1),
        # The head commit's own time: DORA lead time starts there, not at the push.
        committed_at=parse_time(head.get("timestamp")) if isinstance(head, Mapping) else None,
    )


def parse_runs(body: Mapping[str, Any], repo: str = "") -> list[PipelineRun]:
    """``GET /repos/{owner}/{repo}/actions/runs``."""
    items = body["workflow_runs"]
    if not isinstance(items, list):
        raise TypeError("workflow_runs is not a list")
    return [parse_run(item, repo) for item in items]


def parse_job(item: Mapping[str, Any], repo: str = "", attempt: int | None = None) -> PipelineJob:
    """One object of ``jobs`` (REST list, or a ``workflow_job`` webhook)."""
    started = parse_time(item.get("started_at"))
    created = parse_time(item.get("created_at")) or started
    if created is None:
        raise ValueError(f"job {item.get('id')} has no time")
    status = _status(item.get("status"))
    steps = item.get("steps") or []
    failed = next(
        (str(s.get("name", "")) for s in steps if str(s.get("conclusion")) in _FAILED_STEP), ""
    )
    return PipelineJob(
        ts=created,
        provider=PROVIDER,
        repo=repo or repo_of_api_url(str(item.get("run_url") or item.get("url") or "")),
        run_id=str(item["run_id"]),
        job_id=str(item["id"]),
        name=str(item.get("name") or ""),
        status=status,
        conclusion=str(item.get("conclusion") or "").lower(),
        started_at=started,
        finished_at=parse_time(item.get("completed_at")) if status == "completed" else None,
        url=str(item.get("html_url") or item.get("url") or ""),
        failed_step=failed,
        attempt=int(item.get("run_attempt") or attempt or 1),
    )


def parse_jobs(
    body: Mapping[str, Any], repo: str = "", attempt: int | None = None
) -> list[PipelineJob]:
    """``GET /repos/{owner}/{repo}/actions/runs/{id}[/attempts/{n}]/jobs``."""
    items = body["jobs"]
    if not isinstance(items, list):
        raise TypeError("jobs is not a list")
    return [parse_job(item, repo, attempt) for item in items]


class GitHubActionsSource(Source):
    kind: ClassVar[str] = PROVIDER
    summary: ClassVar[str] = "GitHub Actions workflow runs and jobs (github.com or GHES)"
    options: ClassVar[tuple[Option, ...]] = (
        Option("repos", list, required=True, help='repositories, e.g. ["owner/name"]'),
        Option("token_env", str, "GITHUB_TOKEN", secret_env=True,
               help="environment variable that holds the token (the token is never stored)"),
        Option("base_url", str, "https://api.github.com",
               help="API root; GHES: https://HOST/api/v3"),
        Option("branch", str, "", help="only runs of this branch"),
        Option("per_page", int, 50, help="runs per page (GitHub allows 1-100)"),
        Option("max_pages", int, 3, help="pages read per repo and poll"),
        Option("jobs", bool, True, help="also read the jobs of new or changed runs"),
        *CI_OPTIONS,
    )
    default_interval_s: ClassVar[float] = 60.0
    default_timeout_s: ClassVar[float] = 60.0

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any] | None = None,
        *,
        hooks: HttpHooks | None = None,
    ) -> None:
        super().__init__(name, settings)
        for repo in self.settings["repos"]:
            if not isinstance(repo, str) or repo.count("/") != 1:
                raise ValueError(f"source {self.kind!r} repos: {repo!r} is not 'owner/name'")
        self.rules = parse_rules(self.settings["deploys"])
        self.base_url = self.settings["base_url"].rstrip("/")
        hooks = hooks or HttpHooks()
        self.http = CiHttp(
            "GitHub",
            TokenAuth(self.settings["token_env"]),
            timeout_s=self.settings["timeout_s"],
            retry=RetryPolicy(tries=max(1, self.settings["retries"])),
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            sleep=hooks.sleep,
            jitter=hooks.jitter,
            now=hooks.now,
            transport=hooks.transport,
        )
        self._seen = SeenRuns()

    async def poll(self, since: datetime | None) -> Batch:
        batch = Batch()
        try:
            async with self.http:
                for repo in self.settings["repos"]:
                    runs = await self._changed_runs(repo, since)
                    jobs: list[PipelineJob] = []
                    if self.settings["jobs"]:
                        for run in runs:
                            jobs.extend(await self._jobs(repo, run))
                    batch.runs.extend(runs)
                    batch.jobs.extend(jobs)
                    batch.changes.extend(deploy_changes(runs, jobs, self.rules, source=self.name))
        except BaseException:
            self._seen.rollback()
            raise
        self._seen.commit()
        return batch

    async def _changed_runs(self, repo: str, since: datetime | None) -> list[PipelineRun]:
        params: dict[str, str | int] = {"per_page": self.settings["per_page"]}
        if self.settings["branch"]:
            params["branch"] = self.settings["branch"]
        url: str | None = f"{self.base_url}/repos/{repo}/actions/runs"
        fresh: list[PipelineRun] = []
        for _ in range(max(1, self.settings["max_pages"])):
            if url is None:
                break
            page = await self.http.get(
                url, lambda body: parse_runs(body, repo), params=params, what=f"{repo} runs"
            )
            params = {}  # the Link header's URL already carries the query
            new_here = [r for r in page.value if self._is_news(r, since)]
            fresh.extend(new_here)
            if not new_here:
                break  # runs are newest first: nothing new on this page, nothing further on
            url = page.next_url
        return fresh

    def _is_news(self, run: PipelineRun, since: datetime | None) -> bool:
        key = (run.repo, run.run_id, str(run.attempt))
        state = (run.status, run.conclusion, run.finished_at)
        known = self._seen.known(key)
        if not self._seen.changed(key, state):
            return False
        if known or since is None:
            return True
        last_change = run.finished_at or run.started_at or run.ts
        return last_change >= since or run.status != "completed"

    async def _jobs(self, repo: str, run: PipelineRun) -> list[PipelineJob]:
        # A re-run's earlier attempts are read once, so "failed, then passed on re-run"
        # can be seen even when the cockpit first meets the run at attempt 2.
        first = 1 if not self._seen.known((repo, run.run_id, "1")) else run.attempt
        jobs: list[PipelineJob] = []
        for attempt in range(first, run.attempt + 1):
            jobs.extend(await self._attempt_jobs(repo, run.run_id, attempt))
        return jobs

    async def _attempt_jobs(self, repo: str, run_id: str, attempt: int) -> list[PipelineJob]:
        url: str | None = (
            f"{self.base_url}/repos/{repo}/actions/runs/{run_id}/attempts/{attempt}/jobs"
        )
        params: dict[str, str | int] = {"per_page": 100}
        jobs: list[PipelineJob] = []
        for _ in range(max(1, self.settings["max_pages"])):
            if url is None:
                break
            page = await self.http.get(
                url,
                lambda body: parse_jobs(body, repo, attempt),
                params=params,
                what=f"{repo} run {run_id} jobs",
            )
            params = {}
            jobs.extend(page.value)
            url = page.next_url
        return jobs

    def __repr__(self) -> str:
        return f"GitHubActionsSource({self.name!r}, repos={self.settings['repos']!r})"

