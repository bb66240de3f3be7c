"""Which service a host runs, and which services depend on which.

Root-cause ranking reasons about services, while symptoms arrive per host or per series.
The heuristics, strongest first:

1. **Alert labels.** An alert carrying both ``host`` and ``service`` (the column or a
   ``service`` label) says which service runs there; the most frequent pairing wins.
   Alerts the cockpit raised itself (anomaly alerts) carry no service and are skipped.
2. **Host naming.** ``api-1``, ``api2``, ``api-1.prod.example.com`` and ``web-eu-3`` run
   ``api``/``api``/``api``/``web`` when that name is a known service (from alerts, changes or
   the configured dependencies): the host name without its domain is cut at ``-``/``_``/
   ``.`` and digits, and the longest leading part that names a service wins.
3. **Series naming.** A series without a host (a NAB-style file stem such as
   ``api_latency``) belongs to the known service its stem starts with.

Dependencies are ``service -> upstream services`` (``web -> api`` reads "web calls api").
They come from the configuration, from alert text (a web alert saying ``upstream api`` or
``calling api-1:8080`` names the service it calls; a bare service name does not count,
since names like ``queue`` or ``cache`` are ordinary words), and can be learned from which
service's symptoms repeatedly start shortly before which other's. Learned edges need
``min_support`` separate episodes and a clear direction, so one incident teaches nothing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping

import pandas as pd

Dependencies = dict[str, frozenset[str]]

_SPLIT = re.compile(r"[-_.]|(?<=[A-Za-z])(?=\d)")
_WORD = re.compile(r"[A-Za-z][\w-]*[A-Za-z0-9]|[A-Za-z]")


def service_of_name(name: str, services: Iterable[str]) -> str:
    """The known service a host or series name starts with, else ``""`` (heuristics 2, 3)."""
    known = {s.lower(): s for s in services if s}
    if not name or not known:
        return ""
    base = name.split("/")[0].lower()
    if base in known:
        return known[base]
    parts = [p for p in _SPLIT.split(base) if p and not p.isdigit()]
    for n in range(len(parts), 0, -1):
        for joiner in ("-", "_", ""):
            candidate = joiner.join(parts[:n])
            if candidate in known:
                return known[candidate]
    return ""


def _label_service(labels: object) -> str:
    if isinstance(labels, dict):
        return str(labels.get("service") or "")
    if isinstance(labels, str) and "service" in labels:
        try:
            parsed = json.loads(labels)
        except ValueError:
            return ""
        return str(parsed.get("service") or "") if isinstance(parsed, dict) else ""
    return ""


def host_services(alerts: pd.DataFrame | None, changes: pd.DataFrame | None = None,
                  hosts: Iterable[str] = (), dependencies: Mapping[str, Iterable[str]] | None
                  = None) -> dict[str, str]:
    """Host -> service for every host seen in ``alerts`` or ``hosts`` (module docstring)."""
    pairs: Counter[tuple[str, str]] = Counter()
    known: set[str] = set()
    if alerts is not None and not alerts.empty:
        own = alerts[alerts.get("source", pd.Series("", index=alerts.index)) != "anomaly"]
        services = own["service"].fillna("").astype(str)
        if "labels" in own:
            from_labels = own["labels"].map(_label_service)
            services = services.where(services != "", from_labels)
        for host, service in zip(own["host"].fillna("").astype(str), services, strict=True):
            if service:
                known.add(service)
                if host:
                    pairs[(host, service)] += 1
    if changes is not None and not changes.empty:
        known.update(s for s in changes["service"].fillna("").astype(str) if s)
    for service, upstream in (dependencies or {}).items():
        known.add(service)
        known.update(upstream)
    out: dict[str, str] = {}
    for (host, service), _ in sorted(pairs.items(), key=lambda kv: -kv[1]):
        out.setdefault(host, service)
    every = set(hosts)
    if alerts is not None and not alerts.empty:
        every.update(h for h in alerts["host"].fillna("").astype(str) if h)
    for host in sorted(every - set(out)):
        guess = service_of_name(host, known)
        if guess:
            out[host] = guess
    return out


# Words that introduce what a service calls: "upstream api", "calling payments",
# "connection refused to db". A bare service name ("queue backlog high") is not enough:
# service names are ordinary words.
_CALLS = frozenset({"upstream", "calling", "call", "calls", "to", "from", "via", "backend",
                    "dependency", "depends", "requesting", "querying", "contacting"})


def dependencies_from_text(alerts: pd.DataFrame | None, hosts: Mapping[str, str],
                           min_alerts: int = 2) -> Dependencies:
    """``service -> upstream`` from alerts of one service that name another service's host
    (``calling api-1:8080``), or the service itself after a calling word (``upstream api``)."""
    if alerts is None or alerts.empty:
        return {}
    services = {s.lower(): s for s in hosts.values()}
    by_host = {h.lower(): s for h, s in hosts.items()}
    counts: Counter[tuple[str, str]] = Counter()
    own = alerts[alerts.get("source", pd.Series("", index=alerts.index)) != "anomaly"]
    for host, service, title, message in zip(
            own["host"].fillna("").astype(str), own["service"].fillna("").astype(str),
            own["title"].fillna("").astype(str), own["message"].fillna("").astype(str),
            strict=True):
        caller = service or hosts.get(host, "")
        if not caller:
            continue
        named = set()
        words = [w.lower() for w in _WORD.findall(f"{title} {message}")]
        for i, word in enumerate(words):
            target = by_host.get(word)
            if target is None and i and words[i - 1] in _CALLS:
                target = services.get(word)
            if target and target != caller:
                named.add(target)
        for target in named:
            counts[(caller, target)] += 1
    out: dict[str, set[str]] = {}
    for (caller, target), n in counts.items():
        if n >= min_alerts and counts.get((target, caller), 0) < n:
            out.setdefault(caller, set()).add(target)
    return {k: frozenset(v) for k, v in out.items()}


def learn_dependencies(starts: pd.DataFrame, lag_s: float = 900.0, min_support: int = 3,
                       dominance: float = 2.0) -> Dependencies:
    """``service -> upstream`` learned from who goes first (``starts``: service, start).

    An episode of service ``u`` followed within ``lag_s`` by the start of ``d`` supports
    ``d -> u``; counted once per episode of ``u``. An edge needs ``min_support`` episodes
    and ``dominance`` times the support of the opposite direction.
    """
    if starts.empty:
        return {}
    frame = starts[starts["service"].astype(bool)].sort_values("start")
    times = frame["start"].map(pd.Timestamp.timestamp).to_numpy()
    services = frame["service"].astype(str).to_numpy()
    support: Counter[tuple[str, str]] = Counter()
    # One episode of a service is a run of its starts without a gap longer than lag_s.
    last_seen: dict[str, float] = {}
    for i, (t, up) in enumerate(zip(times, services, strict=True)):
        new_episode = t - last_seen.get(up, float("-inf")) > lag_s
        last_seen[up] = t
        if not new_episode:
            continue
        followers = {services[j] for j in range(i + 1, len(times))
                     if 0 < times[j] - t <= lag_s and services[j] != up}
        for down in followers:
            support[(down, up)] += 1
    out: dict[str, set[str]] = {}
    for (down, up), n in support.items():
        if n >= min_support and n >= dominance * support.get((up, down), 0):
            out.setdefault(down, set()).add(up)
    return {k: frozenset(v) for k, v in out.items()}


def merge_dependencies(*maps: Mapping[str, Iterable[str]] | None) -> Dependencies:
    out: dict[str, set[str]] = {}
    for mapping in maps:
        for service, upstream in (mapping or {}).items():
            out.setdefault(service, set()).update(u for u in upstream if u and u != service)
    return {k: frozenset(v) for k, v in out.items()}


def closure(edges: Mapping[str, Iterable[str]]) -> Dependencies:
    """Everything reachable from each node (``upstream`` of the configured map, or the
    ``downstream`` of its inverse): a db fault reaches web through an unmonitored api."""
    out: dict[str, frozenset[str]] = {}
    for start in edges:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node in seen or node == start:
                continue
            seen.add(node)
            todo.extend(edges.get(node, ()))
        out[start] = frozenset(seen)
    return out


def invert(edges: Mapping[str, Iterable[str]]) -> Dependencies:
    out: dict[str, set[str]] = {}
    for down, ups in edges.items():
        for up in ups:
            out.setdefault(up, set()).add(down)
    return {k: frozenset(v) for k, v in out.items()}


__all__ = [
    "Dependencies", "closure", "dependencies_from_text", "host_services", "invert",
    "learn_dependencies", "merge_dependencies", "service_of_name",
]
