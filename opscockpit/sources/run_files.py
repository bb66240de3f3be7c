"""CI run files for ``opscockpit ingest runs FILE... [--provider P]``.

The same JSON the CI sources read, saved to files (``gh api``, ``glab api``, ``curl``):

* GitHub Actions: a workflow-runs list, a jobs list, a single run, ``workflow_run`` and
  ``workflow_job`` webhook payloads;
* GitLab CI: a pipelines list, a single pipeline, a jobs list, a ``Pipeline Hook`` payload;
* Jenkins: a build, a list of builds, a job read with ``tree=builds[...]``, Pipeline Stage
  View ``wfapi/runs``.

A file may also hold one such document per line (NDJSON, e.g. a webhook log). The system is
recognised from the document's shape unless ``provider`` names it. What cannot be read
becomes a :class:`LineError` (file, line, reason); everything else is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opscockpit.records import PipelineJob, PipelineRun
from opscockpit.sources import github_actions as gh
from opscockpit.sources import gitlab_ci as gl
from opscockpit.sources import jenkins as jk
from opscockpit.sources.alert_formats import LineError
from opscockpit.sources.base import Batch
from opscockpit.sources.deploy_rules import DeployRule, deploy_changes

PROVIDERS = ("github_actions", "gitlab_ci", "jenkins")


@dataclass(slots=True)
class Parsed:
    runs: list[PipelineRun] = field(default_factory=list)
    jobs: list[PipelineJob] = field(default_factory=list)
    run_environments: dict[str, list[str]] = field(default_factory=dict)
    job_environments: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RunFileResult:
    """Records read from the files, the formats recognised, and what could not be read."""

    batch: Batch = field(default_factory=Batch)
    formats: dict[str, str] = field(default_factory=dict)  # file -> provider/format
    errors: list[LineError] = field(default_factory=list)


class NotThisFormat(ValueError):
    """The document has a known shape that still carries no runs; the text says why."""


def _is_obj(doc: Any, *keys: str) -> bool:
    return isinstance(doc, Mapping) and all(k in doc for k in keys)


def _list_of(doc: Any, *keys: str) -> bool:
    return isinstance(doc, list) and bool(doc) and all(_is_obj(d, *keys) for d in doc)


# --- per format: (name, provider, test, parser) --------------------------------------------

def _gh_runs(doc: Any) -> Parsed:
    return Parsed(runs=gh.parse_runs(doc))


def _gh_run(doc: Any) -> Parsed:
    return Parsed(runs=[gh.parse_run(doc)])


def _gh_jobs(doc: Any) -> Parsed:
    return Parsed(jobs=gh.parse_jobs(doc))


def _gh_workflow_run(doc: Any) -> Parsed:
    repo = str((doc.get("repository") or {}).get("full_name") or "")
    return Parsed(runs=[gh.parse_run(doc["workflow_run"], repo)])


def _gh_workflow_job(doc: Any) -> Parsed:
    repo = str((doc.get("repository") or {}).get("full_name") or "")
    return Parsed(jobs=[gh.parse_job(doc["workflow_job"], repo)])


def _gl_pipelines(doc: Any) -> Parsed:
    return Parsed(runs=gl.parse_pipelines(doc))


def _gl_pipeline(doc: Any) -> Parsed:
    return Parsed(runs=[gl.parse_pipeline(doc)])


def _gl_jobs(doc: Any) -> Parsed:
    jobs, envs = gl.parse_jobs(doc)
    return Parsed(jobs=jobs, job_environments=envs)


def _gl_webhook(doc: Any) -> Parsed:
    run, jobs, envs = gl.parse_webhook(doc)
    return Parsed(runs=[run], jobs=jobs, job_environments=envs)


def _jk_builds(builds: Iterable[Mapping[str, Any]], repo: str = "") -> Parsed:
    parsed = Parsed()
    for build in builds:
        run = jk.parse_build(build, repo)
        parsed.runs.append(run)
        parsed.run_environments[run.run_id] = jk.build_environments(build)
    return parsed


def _jk_build(doc: Any) -> Parsed:
    return _jk_builds([doc])


def _jk_build_list(doc: Any) -> Parsed:
    return _jk_builds(doc)


def _jk_job(doc: Any) -> Parsed:
    builds = doc.get("builds") or doc.get("allBuilds") or []
    bare = [b for b in builds if not jk.has_details(b)]
    if bare:
        raise NotThisFormat(
            f"Jenkins job {doc.get('fullName') or doc.get('name') or '?'} lists {len(builds)} "
            "builds without result or time: save it with "
            "api/json?tree=builds[number,url,result,building,timestamp,duration]"
        )
    path = jk.job_path(str(doc.get("url") or ""))
    return _jk_builds(builds, "/".join(path) or str(doc.get("fullName") or ""))


def _jk_wfapi(doc: Any) -> Parsed:
    runs, jobs = jk.parse_wfapi_runs(doc)
    return Parsed(runs=runs, jobs=jobs)


def _jk_root(doc: Any) -> Parsed:
    raise NotThisFormat("a Jenkins job list holds no builds: save each job's builds instead")


def _is_gh_jobs(doc: Any) -> bool:
    return _is_obj(doc, "jobs") and isinstance(doc["jobs"], list) and all(
        _is_obj(j, "run_id", "id") for j in doc["jobs"]
    )


def _is_jk_build(doc: Any) -> bool:
    return _is_obj(doc, "number", "timestamp") and ("result" in doc or "building" in doc)


def _is_jk_job(doc: Any) -> bool:
    key = "builds" if _is_obj(doc, "builds") else "allBuilds"
    return _is_obj(doc, key) and isinstance(doc[key], list) and all(
        _is_obj(b, "number") for b in doc[key]
    )


def _is_jk_root(doc: Any) -> bool:
    return _is_obj(doc, "jobs") and isinstance(doc["jobs"], list) and all(
        _is_obj(j, "name", "url") for j in doc["jobs"]
    )


def _is_gl_pipeline(doc: Any) -> bool:
    return _is_obj(doc, "id", "iid", "project_id", "ref", "sha", "status")


Format = tuple[str, str, Callable[[Any], bool], Callable[[Any], Parsed]]
FORMATS: tuple[Format, ...] = (
    ("runs", "github_actions", lambda d: _is_obj(d, "workflow_runs"), _gh_runs),
    ("workflow_run", "github_actions", lambda d: _is_obj(d, "workflow_run"), _gh_workflow_run),
    ("workflow_job", "github_actions", lambda d: _is_obj(d, "workflow_job"), _gh_workflow_job),
    ("jobs", "github_actions", _is_gh_jobs, _gh_jobs),
    ("run", "github_actions", lambda d: _is_obj(d, "head_sha", "workflow_id", "run_number"),
     _gh_run),
    ("webhook", "gitlab_ci", lambda d: _is_obj(d, "object_kind", "object_attributes")
     and d["object_kind"] == "pipeline", _gl_webhook),
    ("pipelines", "gitlab_ci",
     lambda d: _list_of(d, "id", "iid", "project_id", "ref", "sha", "status"), _gl_pipelines),
    ("pipeline", "gitlab_ci", _is_gl_pipeline, _gl_pipeline),
    ("jobs", "gitlab_ci", lambda d: _list_of(d, "id", "pipeline", "stage", "status"), _gl_jobs),
    ("build", "jenkins", _is_jk_build, _jk_build),
    ("builds", "jenkins", lambda d: _list_of(d, "number", "timestamp"), _jk_build_list),
    ("job", "jenkins", _is_jk_job, _jk_job),
    ("wfapi_runs", "jenkins", lambda d: _list_of(d, "startTimeMillis", "_links"), _jk_wfapi),
    ("jobs", "jenkins", _is_jk_root, _jk_root),
)


def detect(doc: Any, provider: str | None = None) -> Format | None:
    """The format of one JSON document, optionally among one provider's formats only."""
    for fmt in FORMATS:
        if (provider is None or fmt[1] == provider) and fmt[2](doc):
            return fmt
    return None


def _unknown(doc: Any, provider: str | None) -> str:
    if _is_obj(doc, "pipeline", "number", "web_url") and "buildkite" in str(doc["web_url"]):
        return "a Buildkite build: Buildkite is not supported yet"
    if provider:
        return f"not a {provider} runs or jobs document"
    return "not a GitHub Actions, GitLab CI or Jenkins runs or jobs document"


def parse_document(doc: Any, provider: str | None = None) -> tuple[str, Parsed]:
    """``(provider/format, records)``; ``ValueError`` with the reason when unreadable."""
    fmt = detect(doc, provider)
    if fmt is None:
        raise ValueError(_unknown(doc, provider))
    name, prov, _test, parser = fmt
    try:
        return f"{prov}/{name}", parser(doc)
    except NotThisFormat:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ValueError(f"{prov} {name}: unexpected content ({type(exc).__name__}: {exc})"
                         ) from None


def _documents(text: str) -> list[tuple[int, Any | Exception]]:
    """The file's one JSON document, or one per line."""
    try:
        return [(1, json.loads(text))]
    except ValueError as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            return [(1, ValueError(f"not JSON: {whole}"))]
        docs: list[tuple[int, Any | Exception]] = []
        for n, line in lines:
            try:
                docs.append((n, json.loads(line)))
            except ValueError as exc:
                docs.append((n, ValueError(f"not JSON: {exc}")))
        return docs


def read_run_files(
    paths: Sequence[str | Path],
    *,
    provider: str | None = None,
    deploy_rules: Sequence[DeployRule] = (),
    source: str = "ingest",
) -> RunFileResult:
    """Read every file; records go to ``result.batch`` (runs, jobs, deploy changes)."""
    if provider is not None and provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})")
    result = RunFileResult()
    # Across files: a runs file and its jobs file together decide a job-based deploy rule.
    found = Parsed()
    for path in paths:
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            result.errors.append(LineError(name, 0, f"cannot read: {exc}"))
            continue
        formats: list[str] = []
        for line, doc in _documents(text):
            if isinstance(doc, Exception):
                result.errors.append(LineError(name, line, str(doc)))
                continue
            try:
                fmt, parsed = parse_document(doc, provider)
            except ValueError as exc:
                result.errors.append(LineError(name, line, str(exc)))
                continue
            formats.append(fmt)
            found.runs.extend(parsed.runs)
            found.jobs.extend(parsed.jobs)
            found.run_environments.update(parsed.run_environments)
            found.job_environments.update(parsed.job_environments)
        if formats:
            result.formats[name] = ",".join(dict.fromkeys(formats))
    result.batch.runs.extend(found.runs)
    result.batch.jobs.extend(found.jobs)
    result.batch.changes.extend(deploy_changes(
        found.runs, found.jobs, deploy_rules, run_environments=found.run_environments,
        job_environments=found.job_environments, source=source,
    ))
    return result
