"""Jenkins: jobs (through nested folders and multibranch projects) and their builds.

Reads the JSON API with ``tree=`` filters so one request per job brings its recent
builds. A server that ignores the filter (or a proxy that strips the query) answers with
bare ``{number, url}`` builds; those are then read one by one, bounded by ``max_builds``.

A job's ``repo`` is its full name (``team/service``), minus the branch level inside a
multibranch project, whose child jobs are branches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

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

PROVIDER = "jenkins"
_RESULT = {
    "SUCCESS": "success",
    "FAILURE": "failure",
    "FAILED": "failure",
    "UNSTABLE": "unstable",
    "ABORTED": "cancelled",
    "NOT_BUILT": "skipped",
    "NOT_EXECUTED": "skipped",
}
_WFAPI_OPEN = {
    "IN_PROGRESS": "running",
    "QUEUED": "queued",
    "PAUSED_PENDING_INPUT": "waiting",
    "NOT_EXECUTED": "queued",
}
_CONTAINERS = ("Folder", "MultiBranch", "OrganizationFolder")
_BUILDABLE = ("Project", "WorkflowJob", "MavenModuleSet", "ExternalJob", "Matrix")
_ENV_PARAMETERS = frozenset({"environment", "env", "deploy_env", "target_env", "stage"})
_BUILD_TREE = (
    "number,url,result,building,timestamp,duration,"
    "actions[causes[userId,userName,shortDescription],parameters[name,value],"
    "lastBuiltRevision[SHA1,branch[name]]],changeSets[items[commitId,timestamp]]"
)
_JOB_FIELDS = "name,fullName,url,_class"


def job_path(url: str) -> list[str]:
    """``http://h/job/team/job/svc/12/`` -> ``["team", "svc"]``."""
    parts = [unquote(p) for p in urlparse(url).path.split("/")]
    return [parts[i + 1] for i, p in enumerate(parts[:-1]) if p == "job" and parts[i + 1]]


def _causes(build: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for action in build.get("actions") or []:
        if isinstance(action, Mapping):
            found.extend(c for c in action.get("causes") or [] if isinstance(c, Mapping))
    return found


def _event(causes: Sequence[Mapping[str, Any]]) -> str:
    text = " ".join(str(c.get("shortDescription") or c.get("_class") or "") for c in causes)
    text = text.lower()
    for needle, event in (("upstream", "upstream"), ("timer", "schedule"), ("scm", "push"),
                          ("push", "push"), ("branch", "push"), ("user", "manual")):
        if needle in text:
            return event
    return ""


def _revision(build: Mapping[str, Any]) -> tuple[str, str]:
    """The built commit and branch: the Git plugin's record, else the change set."""
    for action in build.get("actions") or []:
        rev = action.get("lastBuiltRevision") if isinstance(action, Mapping) else None
        if isinstance(rev, Mapping) and rev.get("SHA1"):
            branches = rev.get("branch") or [{}]
            name = str(branches[0].get("name") or "")
            for prefix in ("refs/remotes/origin/", "refs/heads/", "origin/"):
                name = name.removeprefix(prefix)
            return str(rev["SHA1"]), name
    for change_set in build.get("changeSets") or []:
        items = change_set.get("items") or []
        if items:
            return str(items[-1].get("commitId") or ""), ""
    return "", ""


def _commit_time(build: Mapping[str, Any], sha: str) -> datetime | None:
    """When the built commit was made, from the change set that lists it (epoch ms)."""
    if not sha:
        return None
    for change_set in build.get("changeSets") or []:
        for item in change_set.get("items") or []:
            if isinstance(item, Mapping) and item.get("commitId") == sha:
                return parse_time(item.get("timestamp"))
    return None


def build_environments(build: Mapping[str, Any]) -> list[str]:
    """Values of parameters that name a target environment (``ENVIRONMENT=prod``)."""
    found: list[str] = []
    for action in build.get("actions") or []:
        if not isinstance(action, Mapping):
            continue
        for param in action.get("parameters") or []:
            if str(param.get("name", "")).lower() in _ENV_PARAMETERS and param.get("value"):
                found.append(str(param["value"]))
    return found


def has_details(build: Mapping[str, Any]) -> bool:
    return "timestamp" in build and ("result" in build or "building" in build)


def parse_build(
    build: Mapping[str, Any], repo: str = "", workflow: str = "", branch: str = ""
) -> PipelineRun:
    """``GET /job/{name}/{number}/api/json``, or one entry of a job's ``builds``."""
    started = parse_time(build["timestamp"])
    if started is None:
        raise ValueError(f"build {build.get('number')} has no timestamp")
    url = str(build.get("url") or "")
    path = job_path(url)
    building = bool(build.get("building"))
    result = build.get("result")
    status = "running" if building else ("completed" if result else "queued")
    duration_ms = build.get("duration") or 0
    causes = _causes(build)
    sha, built_branch = _revision(build)
    actor = next((str(c.get("userId") or c.get("userName")) for c in causes
                  if c.get("userId") or c.get("userName")), "")
    return PipelineRun(
        ts=started,
        provider=PROVIDER,
        repo=repo or "/".join(path) or str(build.get("fullDisplayName", "")).split(" #")[0],
        workflow=workflow or (path[-1] if path else ""),
        run_id=str(build["number"]),
        branch=branch or built_branch,
        sha=sha,
        status=status,
        conclusion=_RESULT.get(str(result or "").upper(), str(result or "").lower()),
        started_at=started,
        finished_at=(
            started + timedelta(milliseconds=duration_ms) if status == "completed" else None
        ),
        url=url,
        actor=actor,
        event=_event(causes),
        attempt=1,
        committed_at=_commit_time(build, sha),
    )


def _wfapi_state(raw: Any) -> tuple[str, str]:
    text = str(raw or "").upper()
    if text in _WFAPI_OPEN:
        return _WFAPI_OPEN[text], ""
    return "completed", _RESULT.get(text, text.lower())


def parse_wfapi_runs(
    body: Any, repo: str = "", base_url: str = ""
) -> tuple[list[PipelineRun], list[PipelineJob]]:
    """``GET /job/{name}/wfapi/runs`` (Pipeline Stage View): runs, and stages as jobs."""
    if not isinstance(body, list):
        raise TypeError("wfapi runs is not a JSON array")
    runs: list[PipelineRun] = []
    jobs: list[PipelineJob] = []
    for item in body:
        href = str(item["_links"]["self"]["href"])  # /job/NAME/16/wfapi/describe
        run_path = href.split("/wfapi/", 1)[0]
        path = job_path(run_path)
        run_id = run_path.rstrip("/").rsplit("/", 1)[-1]
        name = repo or "/".join(path)
        url = f"{base_url.rstrip('/')}{run_path}/" if base_url else f"{run_path}/"
        started = parse_time(item["startTimeMillis"])
        if started is None:
            raise ValueError(f"wfapi run {run_id} has no start time")
        status, conclusion = _wfapi_state(item.get("status"))
        ended = parse_time(item.get("endTimeMillis")) if status == "completed" else None
        runs.append(PipelineRun(
            ts=started, provider=PROVIDER, repo=name, workflow=path[-1] if path else name,
            run_id=run_id, branch="", sha="", status=status, conclusion=conclusion,
            started_at=started, finished_at=ended, url=url,
        ))
        for stage in item.get("stages") or []:
            s_start = parse_time(stage["startTimeMillis"])
            if s_start is None:
                raise ValueError(f"stage {stage.get('id')} of run {run_id} has no start time")
            s_status, s_conclusion = _wfapi_state(stage.get("status"))
            s_end = s_start + timedelta(milliseconds=stage.get("durationMillis") or 0)
            jobs.append(PipelineJob(
                ts=s_start, provider=PROVIDER, repo=name, run_id=run_id,
                job_id=f"{run_id}:{stage['id']}", name=str(stage.get("name") or ""),
                status=s_status, conclusion=s_conclusion, started_at=s_start,
                finished_at=s_end if s_status == "completed" else None, url=url,
                failed_step=str(stage.get("name") or "") if s_conclusion == "failure" else "",
            ))
    return runs, jobs


def _is_container(item: Mapping[str, Any]) -> bool:
    return "jobs" in item or any(k in str(item.get("_class", "")) for k in _CONTAINERS)


def _is_buildable(item: Mapping[str, Any]) -> bool:
    return "color" in item or any(k in str(item.get("_class", "")) for k in _BUILDABLE)


def _job_list(body: Any) -> list[Mapping[str, Any]]:
    jobs = body["jobs"]
    if not isinstance(jobs, list):
        raise TypeError("jobs is not a list")
    return [j for j in jobs if isinstance(j, Mapping) and j.get("url")]


def _job_body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping) or not isinstance(body.get("builds", []), list):
        raise TypeError("not a Jenkins job")
    return body


def _build_body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping) or not has_details(body):
        raise TypeError("not a Jenkins build")
    return body


class JenkinsSource(Source):
    kind: ClassVar[str] = PROVIDER
    summary: ClassVar[str] = "Jenkins jobs and builds (folders and multibranch projects too)"
    options: ClassVar[tuple[Option, ...]] = (
        Option("base_url", str, required=True, help="e.g. https://jenkins.example.com"),
        Option("user", str, "", help="user for HTTP basic auth (with the API token)"),
        Option("token_env", str, "JENKINS_TOKEN", secret_env=True,
               help="environment variable that holds the user's API token"),
        Option("jobs", list, [], help='full job names ("team/service"); empty: discover all'),
        Option("depth", int, 3, help="folder levels discovered below the root"),
        Option("max_builds", int, 25, help="recent builds read per job and poll"),
        Option("stages", bool, False,
               help="read Pipeline stages as jobs (needs the Pipeline Stage View plugin)"),
        *CI_OPTIONS,
    )
    default_interval_s: ClassVar[float] = 60.0
    default_timeout_s: ClassVar[float] = 120.0

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any] | None = None,
        *,
        hooks: HttpHooks | None = None,
    ) -> None:
        super().__init__(name, settings)
        self.rules = parse_rules(self.settings["deploys"])
        self.base_url = self.settings["base_url"].rstrip("/")
        hooks = hooks or HttpHooks()
        self.http = CiHttp(
            "Jenkins",
            TokenAuth(self.settings["token_env"], basic_user=self.settings["user"]),
            timeout_s=self.settings["timeout_s"],
            retry=RetryPolicy(tries=max(1, self.settings["retries"])),
            sleep=hooks.sleep,
            jitter=hooks.jitter,
            now=hooks.now,
            transport=hooks.transport,
        )
        self._seen = SeenRuns()

    def __repr__(self) -> str:
        return f"JenkinsSource({self.name!r}, base_url={self.base_url!r})"

    def _job_url(self, full_name: str) -> str:
        return self.base_url + "".join(f"/job/{p}" for p in full_name.strip("/").split("/")) + "/"

    async def poll(self, since: datetime | None) -> Batch:
        batch = Batch()
        try:
            async with self.http:
                if self.settings["jobs"]:
                    targets = [(self._job_url(str(j)), "") for j in self.settings["jobs"]]
                else:
                    targets = await self._discover(f"{self.base_url}/", self.settings["depth"])
                for url, multibranch in targets:
                    await self._poll_job(url, multibranch, batch)
        except BaseException:
            self._seen.rollback()
            raise
        self._seen.commit()
        return batch

    async def _discover(self, url: str, depth: int) -> list[tuple[str, str]]:
        """Buildable jobs below ``url``, each with its multibranch parent's name if any."""
        found: list[tuple[str, str]] = []
        pending: list[tuple[str, int, str]] = [(url, depth, "")]
        visited: set[str] = set()
        while pending:
            where, left, parent_class = pending.pop(0)
            if where in visited:
                continue
            visited.add(where)
            page = await self.http.get(
                f"{where.rstrip('/')}/api/json", _job_list,
                params={"tree": f"jobs[{_JOB_FIELDS},color]"}, what=f"jobs of {where}",
            )
            for item in page.value:
                child = str(item["url"])
                if _is_container(item):
                    if left > 0:
                        pending.append((child, left - 1, str(item.get("_class", ""))))
                elif _is_buildable(item):
                    found.append((child, where if "MultiBranch" in parent_class else ""))
        return found

    async def _poll_job(self, url: str, multibranch_url: str, batch: Batch) -> None:
        path = job_path(url)
        repo = "/".join(path[:-1]) if multibranch_url else "/".join(path)
        workflow = path[-2] if multibranch_url and len(path) > 1 else (path[-1] if path else url)
        branch = path[-1] if multibranch_url and path else ""
        limit = max(1, self.settings["max_builds"])
        page = await self.http.get(
            f"{url.rstrip('/')}/api/json", _job_body,
            params={"tree": f"{_JOB_FIELDS},builds[{_BUILD_TREE}]{{0,{limit}}}"},
            what=f"job {'/'.join(path)}",
        )
        runs: list[PipelineRun] = []
        envs: dict[str, list[str]] = {}
        done = ("completed",)
        for entry in list(page.value.get("builds") or [])[:limit]:
            build = entry
            key = (url, str(entry.get("number")))
            if not has_details(entry):
                if self._seen.last(key) == done:  # a finished build never changes
                    self._seen.changed(key, done)
                    continue
                detail = await self.http.get(
                    f"{str(entry['url']).rstrip('/')}/api/json", _build_body,
                    params={"tree": _BUILD_TREE}, what=f"build {'/'.join(path)} #{key[1]}",
                )
                build = detail.value
            run = parse_build(build, repo, workflow, branch)
            if branch:  # branches of one multibranch project number their builds alike
                run = replace(run, run_id=f"{branch}/{run.run_id}")
            state = done if run.status == "completed" else (run.status,)
            if self._seen.changed(key, state):
                runs.append(run)
                envs[run.run_id] = build_environments(build)
        stages: list[PipelineJob] = []
        if self.settings["stages"] and runs:
            stages = await self._stages(url, repo, branch, {r.run_id for r in runs})
        batch.runs.extend(runs)
        batch.jobs.extend(stages)
        batch.changes.extend(
            deploy_changes(runs, stages, self.rules, run_environments=envs, source=self.name)
        )

    async def _stages(
        self, url: str, repo: str, branch: str, run_ids: set[str]
    ) -> list[PipelineJob]:
        """Stages of the changed builds, from ``wfapi/runs`` (the last runs of the job)."""
        parts = urlparse(self.base_url)
        origin = f"{parts.scheme}://{parts.netloc}"  # the links carry Jenkins' own path prefix
        page = await self.http.get(
            f"{url.rstrip('/')}/wfapi/runs", lambda b: parse_wfapi_runs(b, repo, origin)[1],
            what=f"stages of {repo}",
        )
        jobs: list[PipelineJob] = page.value
        if branch:
            jobs = [replace(j, run_id=f"{branch}/{j.run_id}") for j in jobs]
        return [j for j in jobs if j.run_id in run_ids]
