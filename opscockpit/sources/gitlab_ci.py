"""GitLab CI (gitlab.com or self-hosted): project pipelines and their jobs.

GitLab's words are mapped onto the house vocabulary: ``failed`` is a ``failure``,
``canceled`` is ``cancelled``, ``manual`` waits. A retried job is a new job with the same
name, so its ``attempt`` is its rank among the jobs of that name in the pipeline.
The pipeline list carries no start or end time; a new or changed pipeline is read once
more on its own to get them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlparse

import httpx

from opscockpit.records import PipelineJob, PipelineRun
from opscockpit.sources.base import Batch, Option, Source, SourceError
from opscockpit.sources.ci_http import (
    CI_OPTIONS,
    CiHttp,
    HttpHooks,
    RetryPolicy,
    SeenRuns,
    TokenAuth,
    next_link,
    parse_time,
)
from opscockpit.sources.deploy_rules import deploy_changes, parse_rules

PROVIDER = "gitlab_ci"
_STATUS: dict[str, tuple[str, str]] = {
    "created": ("queued", ""),
    "waiting_for_resource": ("queued", ""),
    "preparing": ("queued", ""),
    "pending": ("queued", ""),
    "scheduled": ("queued", ""),
    "running": ("running", ""),
    "manual": ("waiting", "action_required"),
    "success": ("completed", "success"),
    "failed": ("completed", "failure"),
    "canceled": ("completed", "cancelled"),
    "canceling": ("running", ""),
    "skipped": ("completed", "skipped"),
}


def status_and_conclusion(raw: Any) -> tuple[str, str]:
    text = str(raw or "").lower()
    return _STATUS.get(text, (text, ""))


def project_of_web_url(url: str) -> str:
    """``https://host/group/sub/project/-/pipelines/1`` -> ``group/sub/project``."""
    path = urlparse(url).path.strip("/")
    if "/-/" in f"/{path}/":
        return path.split("/-/", 1)[0]
    for marker in ("/pipelines/", "/jobs/", "/builds/"):
        if marker in f"/{path}/":
            return f"/{path}/".split(marker, 1)[0].strip("/")
    return path


def _username(user: Any) -> str:
    return str(user.get("username", "")) if isinstance(user, Mapping) else ""


def parse_pipeline(item: Mapping[str, Any], project: str = "") -> PipelineRun:
    """A pipeline from the list, the single-pipeline API or a webhook's ``object_attributes``."""
    created = parse_time(item["created_at"])
    if created is None:
        raise ValueError(f"pipeline {item.get('id')} has no created_at")
    status, conclusion = status_and_conclusion(item.get("status"))
    url = str(item.get("web_url") or "")
    finished = parse_time(item.get("finished_at")) if status == "completed" else None
    started = parse_time(item.get("started_at"))
    duration = item.get("duration")
    if started is None and finished is not None and isinstance(duration, int | float):
        # A pipeline hook names no start: its end minus its running time is one.
        started = finished - timedelta(seconds=float(duration))
    return PipelineRun(
        ts=created,
        provider=PROVIDER,
        repo=project or project_of_web_url(url),
        workflow=str(item.get("name") or "pipeline"),
        run_id=str(item["id"]),
        branch=str(item.get("ref") or ""),
        sha=str(item.get("sha") or ""),
        status=status,
        conclusion=conclusion,
        started_at=started,
        finished_at=finished,
        url=url,
        actor=_username(item.get("user")),
        event=str(item.get("source") or ""),
        attempt=1,
    )


def parse_pipelines(body: Any, project: str = "") -> list[PipelineRun]:
    """``GET /projects/:id/pipelines``."""
    if not isinstance(body, list):
        raise TypeError("the pipeline list is not a JSON array")
    return [parse_pipeline(item, project) for item in body]


def parse_jobs(
    body: Any, project: str = "", pipeline_id: str = ""
) -> tuple[list[PipelineJob], dict[str, str]]:
    """``GET /projects/:id/pipelines/:pipeline_id/jobs`` (or a webhook's ``builds``).

    Returns the jobs and, per job id, the environment the job deploys to.
    """
    if not isinstance(body, list):
        raise TypeError("the job list is not a JSON array")
    jobs: list[PipelineJob] = []
    environments: dict[str, str] = {}
    tries: dict[tuple[str, str], int] = {}
    for item in sorted(body, key=lambda j: int(j["id"])):
        pipeline = item.get("pipeline")
        run_id = str(pipeline["id"]) if isinstance(pipeline, Mapping) else pipeline_id
        if not run_id:
            raise ValueError(f"job {item.get('id')} names no pipeline")
        name = str(item.get("name") or "")
        tries[(run_id, name)] = tries.get((run_id, name), 0) + 1
        created = parse_time(item.get("created_at")) or parse_time(item.get("started_at"))
        if created is None:
            raise ValueError(f"job {item.get('id')} has no time")
        status, conclusion = status_and_conclusion(item.get("status"))
        url = str(item.get("web_url") or "")
        reason = str(item.get("failure_reason") or "") if conclusion == "failure" else ""
        environment = item.get("environment")
        if isinstance(environment, Mapping) and environment.get("name"):
            environments[str(item["id"])] = str(environment["name"])
        jobs.append(
            PipelineJob(
                ts=created,
                provider=PROVIDER,
                repo=project or project_of_web_url(url),
                run_id=run_id,
                job_id=str(item["id"]),
                name=name,
                status=status,
                conclusion=conclusion,
                started_at=parse_time(item.get("started_at")),
                finished_at=(
                    parse_time(item.get("finished_at")) if status == "completed" else None
                ),
                url=url,
                failed_step=reason,
                attempt=tries[(run_id, name)],
            )
        )
    return jobs, environments


def parse_webhook(
    body: Mapping[str, Any],
) -> tuple[PipelineRun, list[PipelineJob], dict[str, str]]:
    """A ``Pipeline Hook`` payload (``object_kind = pipeline``)."""
    project = body.get("project") or {}
    path = str(project.get("path_with_namespace") or "")
    attrs = dict(body["object_attributes"])
    attrs.setdefault("user", body.get("user"))
    if not attrs.get("web_url") and project.get("web_url"):
        attrs["web_url"] = f"{project['web_url']}/-/pipelines/{attrs['id']}"
    run = parse_pipeline(attrs, path)
    commit = body.get("commit")
    # Only the hook names the commit's own time (the REST pipeline does not): lead time.
    if isinstance(commit, Mapping) and str(commit.get("id") or "") == run.sha:
        run = replace(run, committed_at=parse_time(commit.get("timestamp")))
    jobs, envs = parse_jobs(body.get("builds") or [], path, run.run_id)
    return run, jobs, envs


def _next_page(response: httpx.Response) -> str | None:
    """GitLab pages by ``Link`` (keyset) or by ``x-next-page`` (offset)."""
    linked = next_link(response.headers.get("link"))
    if linked:
        return linked
    page = response.headers.get("x-next-page", "").strip()
    if not page:
        return None
    return str(response.request.url.copy_set_param("page", page))


class GitLabCISource(Source):
    kind: ClassVar[str] = PROVIDER
    summary: ClassVar[str] = "GitLab CI pipelines and jobs (gitlab.com or self-hosted)"
    options: ClassVar[tuple[Option, ...]] = (
        Option("projects", list, required=True,
               help='project paths or ids, e.g. ["group/project"]'),
        Option("token_env", str, "GITLAB_TOKEN", secret_env=True,
               help="environment variable that holds the token (sent as PRIVATE-TOKEN)"),
        Option("base_url", str, "https://gitlab.com", help="the instance, without /api/v4"),
        Option("ref", str, "", help="only pipelines of this branch or tag"),
        Option("per_page", int, 50, help="pipelines per page (GitLab allows 1-100)"),
        Option("max_pages", int, 3, help="pages read per project and poll"),
        Option("jobs", bool, True, help="also read the jobs of new or changed pipelines"),
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
        self.rules = parse_rules(self.settings["deploys"])
        self.api = self.settings["base_url"].rstrip("/") + "/api/v4"
        hooks = hooks or HttpHooks()
        self.http = CiHttp(
            "GitLab",
            TokenAuth(self.settings["token_env"], header="PRIVATE-TOKEN", scheme=""),
            timeout_s=self.settings["timeout_s"],
            retry=RetryPolicy(tries=max(1, self.settings["retries"])),
            sleep=hooks.sleep,
            jitter=hooks.jitter,
            now=hooks.now,
            transport=hooks.transport,
        )
        self._seen = SeenRuns()

    def __repr__(self) -> str:
        return f"GitLabCISource({self.name!r}, projects={self.settings['projects']!r})"

    async def poll(self, since: datetime | None) -> Batch:
        batch = Batch()
        try:
            async with self.http:
                for project in self.settings["projects"]:
                    await self._poll_project(str(project), batch)
        except BaseException:
            self._seen.rollback()
            raise
        self._seen.commit()
        return batch

    async def _poll_project(self, project: str, batch: Batch) -> None:
        base = f"{self.api}/projects/{quote(project, safe='')}"
        runs: list[PipelineRun] = []
        for listed in await self._changed(base, project):
            runs.append(
                listed if listed.started_at else await self._details(base, project, listed)
            )
        jobs: list[PipelineJob] = []
        environments: dict[str, str] = {}
        if self.settings["jobs"]:
            for run in runs:
                run_jobs, envs = await self._jobs(base, project, run.run_id)
                jobs.extend(run_jobs)
                environments.update(envs)
        batch.runs.extend(runs)
        batch.jobs.extend(jobs)
        batch.changes.extend(
            deploy_changes(
                runs, jobs, self.rules, job_environments=environments, source=self.name
            )
        )

    async def _changed(self, base: str, project: str) -> list[PipelineRun]:
        params: dict[str, str | int] = {
            "per_page": self.settings["per_page"], "order_by": "id", "sort": "desc",
        }
        if self.settings["ref"]:
            params["ref"] = self.settings["ref"]
        url: str | None = f"{base}/pipelines"
        fresh: list[PipelineRun] = []
        for _ in range(max(1, self.settings["max_pages"])):
            if url is None:
                break
            page = await self.http.get(
                url, lambda b: parse_pipelines(b, project), params=params,
                what=f"{project} pipelines", next_page=_next_page,
            )
            params = {}
            new_here = [r for r in page.value if self._is_news(r)]
            fresh.extend(new_here)
            if not new_here:
                break
            url = page.next_url
        return fresh

    def _is_news(self, run: PipelineRun) -> bool:
        # The list carries no end time, so ``since`` cannot tell an old pipeline from one
        # that ended during a restart: unknown pipelines are sent again (analysis keeps
        # the latest row of each run).
        return self._seen.changed((run.repo, run.run_id), (run.status, run.conclusion))

    async def _details(self, base: str, project: str, run: PipelineRun) -> PipelineRun:
        page = await self.http.get(
            f"{base}/pipelines/{run.run_id}",
            lambda b: parse_pipeline(b, project),
            what=f"{project} pipeline {run.run_id}",
        )
        detail: PipelineRun = page.value
        return detail

    async def _jobs(
        self, base: str, project: str, run_id: str
    ) -> tuple[list[PipelineJob], dict[str, str]]:
        url: str | None = f"{base}/pipelines/{run_id}/jobs"
        params: dict[str, str | int] = {"per_page": 100, "include_retried": "true"}
        pages: list[Any] = []
        for _ in range(max(1, self.settings["max_pages"])):
            if url is None:
                break
            page = await self.http.get(
                url, _job_list, params=params,
                what=f"{project} pipeline {run_id} jobs", next_page=_next_page,
            )
            params = {}
            pages.extend(page.value)
            url = page.next_url
        # Parsed once over all pages: a retry's rank may span a page boundary.
        try:
            return parse_jobs(pages, project, run_id)
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(
                f"GitLab sent an unexpected shape for {project} pipeline {run_id} jobs "
                f"({type(exc).__name__})"
            ) from None


def _job_list(body: Any) -> list[Any]:
    if not isinstance(body, list) or not all(isinstance(j, Mapping) for j in body):
        raise TypeError("the job list is not a JSON array of objects")
    return body
