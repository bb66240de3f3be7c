"""The factors a root-cause candidate is scored on (see :mod:`opscockpit.analysis.root_cause`).

Each factor is a number in [0, 1] that a human can recompute from the evidence sentence
printed beside it; none is learned from labels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from opscockpit.analysis.incidents import Incident
from opscockpit.analysis.service_topology import Dependencies

FAILED_STATUSES = frozenset({"failure", "failed", "error", "errored", "rolled_back",
                             "rollback", "reverted", "aborted", "cancelled", "canceled"})


@dataclass(frozen=True, slots=True)
class RankParams:
    tau_s: float = 1800.0  # proximity halves when the lag reaches tau
    lookback_s: float = 6 * 3600.0  # changes older than this before the onset are not listed
    tolerance_s: float = 60.0  # clocks and minute-bucketed detectors: "at the same minute"
    unrelated: float = 0.05  # relation floor of a change no dependency links to the incident
    global_change: float = 0.3  # relation of a change naming no service (a shared config)
    healthy_upstream: float = 0.4  # monitored upstream service without a symptom of its own
    unmonitored_upstream: float = 0.8  # upstream service we have no data about
    symptom_depth: float = 0.6  # a symptom is the proximate cause at best, a change the root
    own_service_only: float = 0.5  # a symptom explaining no other service but its own
    chance_window_s: float = 600.0  # the shortest lag a coincidence is judged over
    rate_span_min_s: float = 86400.0  # change rates are per day at the least
    status_base: float = 0.8  # no failed status and no redeploy during the incident
    max_candidates: int = 5


def proximity(lag_s: float, p: RankParams) -> float:
    """1 at the onset, 1/2 at ``tau_s`` before it: closer is more likely, late is possible."""
    return 1.0 / (1.0 + max(0.0, lag_s) / p.tau_s)


def precedence(incident: Incident, at: pd.Timestamp, p: RankParams,
               exclude: str = "") -> tuple[float, list[str]]:
    """Share of the incident's core signal from ``at`` on, and the symptoms before it.

    A candidate that precedes all of it scores 1; one after the onset would score little,
    but those are not candidates at all. ``exclude`` leaves a symptom's own weight out.
    """
    ev = incident.events
    ev = ev[ev["core"] & (ev["ref"] != exclude)]
    total = float(ev["weight"].sum())
    if total <= 0:
        return 1.0, []
    cut = at - pd.Timedelta(seconds=p.tolerance_s)
    before = ev[ev["ts"] < cut]
    share = 1.0 - float(before["weight"].sum()) / total
    sym = incident.symptoms.set_index("ref")
    names = [str(sym.at[r, "label"]) for r in dict.fromkeys(before["ref"])]
    return max(0.0, share), names


@dataclass(frozen=True, slots=True)
class Reach:
    """How much of the incident a service (and what depends on it) explains."""

    score: float  # relation factor, before the unrelated floor
    mass_share: float
    hosts_explained: int
    hosts_own: int  # of those, hosts running the service itself
    hosts_affected: int
    dependants_share: float  # share of the signal on services depending on it, not on it
    covered: tuple[str, ...]  # affected services explained: the service and its dependants
    dependants: tuple[str, ...]  # affected services that depend on it
    own_symptoms: bool


def reach(incident: Incident, services: Iterable[str], downstream: Dependencies,
          hosts: dict[str, str], monitored: set[str], p: RankParams) -> Reach:
    """Share of the core signal and of the affected hosts on ``services`` or downstream."""
    own = {s for s in services if s}
    explained = set(own)
    for s in own:
        explained |= downstream.get(s, frozenset())
    core = incident.symptoms[incident.symptoms["core"]]
    if core.empty:
        core = incident.symptoms
    total = mass = others = 0.0
    for values, w in zip(core["services"], core["weight"], strict=True):
        total += float(w)
        if values:
            mass += float(w) * sum(v in explained for v in values) / len(values)
            others += float(w) * sum(v in explained and v not in own
                                     for v in values) / len(values)
    affected_hosts = {h for values in core["hosts"] for h in values if h}
    host_hits = {h for h in affected_hosts if hosts.get(h, "") in explained}
    mass_share = mass / total if total else 0.0
    if affected_hosts:
        score = 0.5 * mass_share + 0.5 * len(host_hits) / len(affected_hosts)
    else:
        score = mass_share
    affected = set(incident.services)
    own_symptoms = bool(own & affected)
    if not own:
        score = p.global_change
    elif not own_symptoms and score > 0:
        # An upstream service with no symptom of its own: plausible when we cannot see it,
        # much less so when it is monitored and looked healthy.
        score *= p.healthy_upstream if own & monitored else p.unmonitored_upstream
    covered = tuple(s for s in incident.services if s in explained)
    hosts_own = sum(hosts.get(h, "") in own for h in host_hits)
    return Reach(score=score, mass_share=mass_share,
                 dependants_share=others / total if total else 0.0, hosts_explained=len(host_hits),
                 hosts_own=hosts_own, hosts_affected=len(affected_hosts), covered=covered,
                 dependants=tuple(s for s in covered if s not in own), own_symptoms=own_symptoms)


@dataclass(frozen=True, slots=True)
class Rarity:
    """How often the service changes: a deploy on a quiet day weighs more."""

    factor: float  # 0.5 .. 1
    others: int  # other changes of the service in the history
    span_s: float
    chance: float  # chance of a change of this service landing this close by coincidence


def rarity(change_ts: pd.Timestamp, change_id: str, service: str, changes: pd.DataFrame,
           lag_s: float, p: RankParams) -> Rarity:
    """A Poisson model of the service's change stream.

    With ``λ`` the service's changes per second over the history (at least a day), the
    chance that one lands within the lag before any given onset is ``1 - exp(-λ·lag)``;
    the factor is ``0.5 + 0.5·(1 - chance)`` so a busy stream halves a change's weight at
    most: in a busy stream the bad deploy is still one of them.
    """
    if changes.empty:
        return Rarity(1.0, 0, p.rate_span_min_s, 0.0)
    same = changes[changes["service"].fillna("").astype(str) == service]
    others = int((same["id"].astype(str) != change_id).sum())
    times = pd.to_datetime(changes["ts"], utc=True)
    span = max(p.rate_span_min_s, (times.max() - times.min()).total_seconds())
    rate = others / span
    chance = 1.0 - math.exp(-rate * max(lag_s, p.chance_window_s))
    return Rarity(0.5 + 0.5 * (1.0 - chance), others, span, chance)


@dataclass(frozen=True, slots=True)
class Status:
    factor: float
    failed: str  # the failed status, if any
    redeploy_id: str  # a later change of the service while the incident was open
    redeploy_lag_s: float
    recovered_after_s: float  # from that redeploy to the end of the symptoms (nan: none)


def status(change: pd.Series, changes: pd.DataFrame, incident: Incident,
           p: RankParams) -> Status:
    """A failed change, or one its team replaced while the incident was open, weighs more."""
    failed = str(change.get("status") or "").lower()
    failed = failed if failed in FAILED_STATUSES else ""
    service = str(change.get("service") or "")
    redeploy, lag, recovered = "", math.nan, math.nan
    if service and not changes.empty:
        times = pd.to_datetime(changes["ts"], utc=True)
        later = changes[(changes["service"].fillna("") == service)
                        & (times > change["ts"]) & (times >= incident.onset)
                        & (times <= incident.end)]
        if not later.empty:
            first = later.sort_values("ts").iloc[0]
            redeploy = str(first["id"])
            at = pd.Timestamp(first["ts"])
            lag = (at - change["ts"]).total_seconds()
            recovered = (incident.end - at).total_seconds()
    boosted = bool(failed or redeploy)
    return Status(1.0 if boosted else p.status_base, failed, redeploy, lag, recovered)


def duration(seconds: float) -> str:
    """``45 s``, ``3 min``, ``2 h 5 min``: how the evidence reads a lag."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def clock(ts: pd.Timestamp) -> str:
    return f"{ts:%H:%M}" if ts.second == 0 else f"{ts:%H:%M:%S}"
