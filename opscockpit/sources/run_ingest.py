"""``opscockpit ingest runs FILE... [--provider P]``: one CI run file into a batch.

Options (from the command line or the config):

* ``provider``: ``github``, ``gitlab`` or ``jenkins`` (or the source kinds
  ``github_actions``, ``gitlab_ci``); unset, each document's shape says which it is.
* ``deploys``: deploy rules, as config tables (``[{workflow = "^Deploy"}]``, see
  :mod:`opscockpit.sources.deploy_rules`) or as command-line text, one rule per value,
  ``KEY=REGEX`` pairs joined by ``;`` (``workflow=^Deploy;branch=^main$;service=api``).

Each file is read on its own, so a job-based rule (``job = ...``) needs the runs and the
jobs in the same file (a webhook log, a GitLab pipeline hook); a run-based rule
(``workflow``, ``branch``) works on a runs file alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opscockpit.ingest import IngestError, ParsedFile
from opscockpit.sources.deploy_rules import DeployRule, parse_rules
from opscockpit.sources.run_files import PROVIDERS, read_run_files

# What people type -> the provider names the records carry.
PROVIDER_NAMES = {
    "github": "github_actions", "github_actions": "github_actions", "gha": "github_actions",
    "gitlab": "gitlab_ci", "gitlab_ci": "gitlab_ci",
    "jenkins": "jenkins",
}


def provider_of(text: str | None) -> str | None:
    """``github`` -> ``github_actions``; ``None`` or empty: detect per document."""
    if not text:
        return None
    key = text.strip().lower().replace("-", "_")
    if key not in PROVIDER_NAMES:
        raise IngestError(
            f"unknown provider {text!r}: choose github, gitlab or jenkins "
            f"(or {', '.join(PROVIDERS)})"
        )
    return PROVIDER_NAMES[key]


def rules_of(raw: Any) -> tuple[DeployRule, ...]:
    """Deploy rules from config tables or ``KEY=REGEX;KEY=REGEX`` strings."""
    if not raw:
        return ()
    if isinstance(raw, str | Mapping):
        raw = [raw]
    tables: list[Mapping[str, object]] = []
    for item in raw:
        tables.append(_rule_text(item) if isinstance(item, str) else item)
    try:
        return parse_rules(tables)
    except ValueError as exc:
        raise IngestError(str(exc)) from None


def _rule_text(text: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise IngestError(f"deploy rule {text!r}: {part.strip()!r} is not KEY=REGEX")
        table[key.strip()] = value.strip()
    return table


def parse_runs(path: Path, options: Mapping[str, Any]) -> ParsedFile:
    provider = provider_of(options.get("provider"))
    rules: Sequence[DeployRule] = rules_of(options.get("deploys"))
    result = read_run_files([path], provider=provider, deploy_rules=rules, source="ingest")
    return ParsedFile(
        path=path,
        format=result.formats.get(str(path), "?"),
        batch=result.batch,
        errors=list(result.errors),
    )
