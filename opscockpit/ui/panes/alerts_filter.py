"""The Alerts pane's filter line: ``sev>=warn host=web* service=api disk "upstream api"``.

Terms (all must hold; several values of one field are alternatives):
``sev``/``severity`` with ``>=``, ``>``, ``<=``, ``<`` or ``=`` and any spelling
:meth:`Severity.parse` knows; ``host=``, ``service=``/``svc=`` with shell globs;
``status=`` open/resolved/flapping; ``mark=`` noise/actionable/acknowledged/none;
anything else is text that must appear (case-insensitive) in the templates, hosts,
services or the cluster id. Pure functions: tested without a terminal.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from fnmatch import fnmatchcase

from opscockpit.analyzers.alerts_view import SEVERITY_RANK, ClusterView
from opscockpit.records import Severity

_TERM = re.compile(r"^(?P<key>[a-z_]+)\s*(?P<op>>=|<=|!=|=|>|<|:)\s*(?P<value>.*)$", re.I)
_KEYS = {"sev": "sev", "severity": "sev", "level": "sev", "host": "host", "service": "service",
         "svc": "service", "status": "status", "mark": "mark"}
_STATUSES = ("open", "resolved", "flapping")
_MARKS = ("noise", "actionable", "acknowledged", "none")


class FilterError(ValueError):
    """The filter text cannot be read; the message says which term and why."""


@dataclass(frozen=True, slots=True)
class AlertFilter:
    min_rank: int = 0
    max_rank: int = 3
    hosts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    text: str = ""

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    def matches(self, cluster: ClusterView) -> bool:
        if not self.min_rank <= cluster.rank <= self.max_rank:
            return False
        if self.hosts and not _any_glob(self.hosts, cluster.hosts):
            return False
        if self.services and not _any_glob(self.services, cluster.services):
            return False
        if self.statuses and cluster.status not in self.statuses:
            return False
        if self.marks and not any(_has_mark(cluster, m) for m in self.marks):
            return False
        if self.words:
            haystack = " ".join((cluster.id, *cluster.templates, *cluster.hosts,
                                 *cluster.services)).lower()
            return all(w in haystack for w in self.words)
        return True


def parse_filter(text: str) -> AlertFilter:
    """Read a filter line; raises :class:`FilterError` naming the bad term."""
    try:
        terms = shlex.split(text)
    except ValueError as exc:
        raise FilterError(f"cannot read the filter: {exc}") from None
    low, high = 0, 3
    fields: dict[str, list[str]] = {"host": [], "service": [], "status": [], "mark": []}
    words: list[str] = []
    for term in terms:
        m = _TERM.match(term)
        key = _KEYS.get(m.group("key").lower()) if m else None
        if m is None or key is None:
            words.append(term.lower())
            continue
        op, value = m.group("op"), m.group("value").strip()
        if not value:
            raise FilterError(f"{term!r}: no value after {op}")
        if key == "sev":
            rank = _rank(value, term)
            low, high = _bound(op, rank, low, high, term)
            continue
        if op not in ("=", ":"):
            raise FilterError(f"{term!r}: {key} takes '=', not {op!r}")
        value = value.lower()
        if key == "status" and value not in _STATUSES:
            raise FilterError(f"{term!r}: status is one of {', '.join(_STATUSES)}")
        if key == "mark" and value not in _MARKS:
            raise FilterError(f"{term!r}: mark is one of {', '.join(_MARKS)}")
        fields[key].append(value)
    if low > high:
        raise FilterError("no severity satisfies both bounds")
    return AlertFilter(low, high, tuple(fields["host"]), tuple(fields["service"]),
                       tuple(fields["status"]), tuple(fields["mark"]), tuple(words), text)


def _rank(value: str, term: str) -> int:
    """``crit``, ``err``, ``warn``, ``info`` (any prefix), ``0``-``3`` or a known alias."""
    key = value.lower()
    if key.isdigit() and int(key) <= 3:
        return int(key)
    for severity in Severity:
        if severity.value.startswith(key):
            return SEVERITY_RANK[severity.value]
    severity = Severity.parse(key)
    if severity is Severity.WARNING:  # what parse answers for words it does not know
        raise FilterError(f"{term!r}: unknown severity {value!r} (info, warn, error, crit)")
    return SEVERITY_RANK[severity.value]


def _bound(op: str, rank: int, low: int, high: int, term: str) -> tuple[int, int]:
    if op == ">=":
        return max(low, rank), high
    if op == ">":
        return max(low, rank + 1), high
    if op == "<=":
        return low, min(high, rank)
    if op == "<":
        return low, min(high, rank - 1)
    if op in ("=", ":"):
        return max(low, rank), min(high, rank)
    raise FilterError(f"{term!r}: severity takes >=, >, <=, < or =")


def _any_glob(patterns: tuple[str, ...], values: tuple[str, ...]) -> bool:
    return any(fnmatchcase(v.lower(), p) for p in patterns for v in values)


def _has_mark(cluster: ClusterView, mark: str) -> bool:
    if mark == "acknowledged":
        return cluster.acknowledged
    if mark == "none":
        return not cluster.mark and not cluster.acknowledged
    return cluster.mark == mark
