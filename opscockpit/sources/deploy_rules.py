"""Which CI runs are deploys: configurable rules that turn runs into ``Change`` records.

A rule is a table in a CI source's config, for example::

    deploys = [{ workflow = "^Deploy", branch = "^main$", service = "checkout" },
               { job = "production", environment = "^prod" }]

Every key is optional; the keys given must all match. Regexes are searched (``re.search``)
case-insensitively. The first matching rule wins. A run that matches becomes a
``Change(kind=deploy)`` once it is completed with a verdict (success or failure): a
failed deploy is a change too (it may have half-applied), and DORA needs it to count
change failures and time to restore, so the verdict goes into ``Change.status``
(``success``, ``failure``, ``timed_out``, ``unstable``). Cancelled and skipped runs
deployed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from opscockpit.records import Change, ChangeKind, PipelineJob, PipelineRun

_RULE_KEYS = ("workflow", "job", "environment", "branch", "service")
# Conclusions after which something may have reached the target.
DEPLOYED_CONCLUSIONS = frozenset({"success", "failure", "timed_out", "unstable"})
_VERSION_TAG = re.compile(r"^v?\d+(\.\d+)+\S*$")


@dataclass(frozen=True, slots=True)
class DeployRule:
    workflow: str = ""
    job: str = ""
    environment: str = ""
    branch: str = ""
    service: str = ""
    _compiled: dict[str, re.Pattern[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled: dict[str, re.Pattern[str]] = {}
        for key in ("workflow", "job", "environment", "branch"):
            text = getattr(self, key)
            if text:
                try:
                    compiled[key] = re.compile(text, re.IGNORECASE)
                except re.error as exc:
                    raise ValueError(f"deploy rule {key} = {text!r} is not a regex: {exc}") from exc
        object.__setattr__(self, "_compiled", compiled)

    def search(self, key: str, value: str) -> bool:
        pattern = self._compiled.get(key)
        return pattern is None or bool(pattern.search(value))

    def _environment_ok(self, names: Iterable[str]) -> bool:
        return any(self.search("environment", n) for n in names)

    def select(
        self,
        run: PipelineRun,
        jobs: Sequence[PipelineJob],
        run_environments: Iterable[str],
        job_environments: Mapping[str, str],
    ) -> list[PipelineJob] | None:
        """``None``: not a deploy; ``[]``: the run itself deploys; else the deploying jobs."""
        if not (self.search("workflow", run.workflow) and self.search("branch", run.branch)):
            return None
        env_of_run = bool(self.environment) and self._environment_ok(run_environments)
        if not self.job and (not self.environment or env_of_run):
            return []
        picked = [
            j for j in jobs
            if self.search("job", j.name)
            and (
                not self.environment
                or env_of_run
                or (j.job_id in job_environments
                    and self._environment_ok((job_environments[j.job_id],)))
            )
        ]
        return picked or None


def parse_rules(raw: Sequence[Mapping[str, object]] | None) -> tuple[DeployRule, ...]:
    """Build rules from config tables; an unknown key or a bad regex raises ``ValueError``."""
    rules: list[DeployRule] = []
    for i, table in enumerate(raw or ()):
        if not isinstance(table, Mapping):
            raise ValueError(f"deploy rule #{i + 1} should be a table, got {type(table).__name__}")
        unknown = sorted(set(table) - set(_RULE_KEYS))
        if unknown:
            raise ValueError(
                f"deploy rule #{i + 1} has no key {unknown[0]!r} (keys: {', '.join(_RULE_KEYS)})"
            )
        if not table:
            raise ValueError(f"deploy rule #{i + 1} is empty: it would call every run a deploy")
        rules.append(DeployRule(**{k: str(v) for k, v in table.items()}))
    return tuple(rules)


def service_of(repo: str) -> str:
    """A repo's last path segment: ``acme/checkout`` deploys the ``checkout`` service."""
    return repo.rstrip("/").rsplit("/", 1)[-1]


def deploy_changes(
    runs: Sequence[PipelineRun],
    jobs: Sequence[PipelineJob],
    rules: Sequence[DeployRule],
    *,
    run_environments: Mapping[str, Iterable[str]] | None = None,
    job_environments: Mapping[str, str] | None = None,
    source: str = "",
) -> list[Change]:
    """The deploys among ``runs``.

    Environments are known per job (GitLab's ``environment``, keyed by job id) or per
    run (Jenkins build parameters, keyed by run id); GitHub's REST runs and jobs name
    none, so an ``environment`` rule never matches them. When a rule picks jobs (by
    name or environment) those jobs are the deploy: its time is their last end, it
    failed if one of them failed, and jobs that were skipped deployed nothing.
    """
    if not rules:
        return []
    by_run: dict[tuple[str, str, int], list[PipelineJob]] = {}
    for job in jobs:
        by_run.setdefault((job.repo, job.run_id, job.attempt), []).append(job)
    changes: list[Change] = []
    for run in runs:
        if run.status != "completed":
            continue
        run_jobs = by_run.get((run.repo, run.run_id, run.attempt), [])
        envs = tuple((run_environments or {}).get(run.run_id, ()))
        for rule in rules:
            picked = rule.select(run, run_jobs, envs, job_environments or {})
            if picked is not None:
                break
        else:
            continue
        ts, conclusion, url = run.finished_at, run.conclusion, run.url
        if picked:
            done = [j for j in picked if j.conclusion in DEPLOYED_CONCLUSIONS and j.finished_at]
            if not done:
                continue
            last = max(done, key=lambda j: j.finished_at or j.ts)
            failed = [j for j in done if j.conclusion != "success"]
            ts, url = last.finished_at, last.url or run.url
            conclusion = failed[0].conclusion if failed else "success"
        if conclusion not in DEPLOYED_CONCLUSIONS or ts is None:
            continue
        version = run.branch if _VERSION_TAG.match(run.branch) else run.sha[:12]
        changes.append(
            Change(
                ts=ts,
                id=f"{run.provider}:{run.repo}:{run.run_id}:{run.attempt}",
                kind=ChangeKind.DEPLOY,
                service=rule.service or service_of(run.repo),
                version=version,
                sha=run.sha,
                author=run.actor,
                url=url,
                source=source,
                status=conclusion,  # the deploy's verdict: DORA counts failures by it
            )
        )
    return changes
