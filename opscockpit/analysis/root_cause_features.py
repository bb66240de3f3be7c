"""The factors a root-cause candidate is scored on (see :mod:`opscockpit.analysis.root_cause`).

Each factor is a number in [0, 1] that a human can recompute from the evidence sentence
printed beside it; none is learned from labels. :class:`Facts` computes what every
candidate of one incident is measured against once (signal over time as a cumulative
sum, each service's change stream), so scoring a candidate is a few binary searches:
a busy day of hundreds of deploys ranks in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opscockpit.analysis.incidents import Incident
from opscockpit.analysis.service_topology import Dependencies

FAILED_STATUSES = frozenset({"failure", "failed", "error", "errored", "rolled_back",
                             "rollback", "reverted", "aborted", "cancelled", "canceled"})


@dataclass(frozen=True, slots=True)
class RankParams:
    tau_s: float = 900.0  # proximity halves when the lag reaches tau
    lookback_s: float = 6 * 3600.0  # changes older than this before the onset are not listed
    tolerance_s: float = 60.0  # clocks and minute-bucketed detectors: "at the same minute"
    unrelated: float = 0.05  # relation floor of a change no dependency links to the incident
    global_change: float = 0.3  # relation of a change naming no service (a shared config)
    healthy_upstream: float = 0.3  # monitored upstream service without a symptom of its own
    unmonitored_upstream: float = 0.8  # upstream service we have no data about
    symptom_depth: float = 0.7  # a symptom is the proximate cause at best, a change the root
    own_service_only: float = 0.5  # a symptom explaining no other service but its own
    chance_window_s: float = 600.0  # the shortest lag a coincidence is judged over
    rate_span_min_s: float = 86400.0  # change rates are per day at the least
    status_base: float = 0.8  # no failed status and no redeploy during the incident
    burst_window_s: float = 300.0  # "the first symptoms": this long after the onset
    max_candidates: int = 5


def proximity(lag_s: float, p: RankParams) -> float:
    """1 at the onset, 1/2 at ``tau_s`` before it: closer is more likely, late is possible."""
    return 1.0 / (1.0 + max(0.0, lag_s) / p.tau_s)


@dataclass(frozen=True, slots=True)
class Reach:
    """How much of the incident a service (and what depends on it) explains."""

    score: float  # relation factor, before the unrelated floor
    mass_share: float
    dependants_share: float  # share of the signal on services depending on it, not on it
    hosts_explained: int
    hosts_own: int  # of those, hosts running the service itself
    hosts_affected: int
    covered: tuple[str, ...]  # affected services explained: the service and its dependants
    dependants: tuple[str, ...]  # affected services that depend on it
    own_symptoms: bool
    support: float = 1.0  # how far its own symptoms bear out explaining its dependants


@dataclass(frozen=True, slots=True)
class Rarity:
    """How often the service changes: a deploy on a quiet day weighs more."""

    factor: float  # 0.5 .. 1
    others: int  # other changes of the service in the history
    span_s: float
    chance: float  # chance of a change of this service landing this close by coincidence


@dataclass(frozen=True, slots=True)
class Status:
    factor: float
    failed: str  # the failed status, if any
    redeploy_id: str  # a later change of the service while the incident was open
    redeploy_lag_s: float
    recovered_after_s: float  # from that redeploy to the end of the symptoms (nan: none)


_EPOCH = pd.Timestamp(0, tz="UTC")


def _seconds(values: pd.Series) -> np.ndarray:
    """Epoch seconds, whatever the frame's datetime resolution (ns, us, s)."""
    stamps = pd.Series(pd.to_datetime(values, utc=True))
    return (stamps - _EPOCH).dt.total_seconds().to_numpy(dtype=float)


class ChangeStream:
    """Every change, by time and by service, prepared once for all incidents."""

    def __init__(self, changes: pd.DataFrame, p: RankParams) -> None:
        self.frame = changes  # sorted by time, index 0..n-1
        self.t = _seconds(changes["ts"]) if len(changes) else np.array([])
        self.span = max(p.rate_span_min_s,
                        float(self.t.max() - self.t.min()) if len(self.t) else 0.0)
        self.by_service: dict[str, np.ndarray] = {
            str(s): np.asarray(idx) for s, idx in changes.groupby(
                "service", sort=False).indices.items()} if len(changes) else {}


class Facts:
    """One incident's signal, symptoms and change streams, prepared for fast scoring."""

    def __init__(self, incident: Incident, stream: ChangeStream, downstream: Dependencies,
                 hosts: dict[str, str], monitored: set[str], p: RankParams) -> None:
        self.incident, self.downstream, self.hosts = incident, downstream, hosts
        self.monitored, self.p = monitored, p
        self.onset = incident.onset.timestamp()
        self.end = incident.end.timestamp()
        ev = incident.events[incident.events["core"]]
        self.ev_t = _seconds(ev["ts"])
        self.ev_w = ev["weight"].to_numpy(dtype=float)
        self.ev_key = ev["key"].to_numpy(dtype=object)
        self.cum = np.concatenate([[0.0], np.cumsum(self.ev_w)])
        self.labels = dict(zip(incident.symptoms["key"], incident.symptoms["label"],
                               strict=True))
        sym = incident.symptoms
        core = sym[sym["core"]] if sym["core"].any() else sym
        # Earliest first; at the same minute the most specific (fewest services), then the
        # strongest: an api anomaly says more about api than a storm across web and api.
        order = core.assign(_n=core["services"].map(len)).sort_values(
            ["start", "_n", "weight", "key"], ascending=[True, True, False, True],
            kind="stable")
        self.core = order.drop(columns="_n").reset_index(drop=True)
        self.core_start = _seconds(self.core["start"])
        self.core_services = [set(v) for v in self.core["services"]]
        self.affected = set(incident.services)
        self.affected_hosts = {h for v in self.core["hosts"] for h in v if h}
        self.changes, self.ch_t = stream.frame, stream.t
        self.span, self.by_service = stream.span, stream.by_service
        self._reach: dict[tuple[str, ...], Reach] = {}

    # -- timing ----------------------------------------------------------------------------
    def precedence(self, at: float, exclude: str = "") -> float:
        """Share of the core signal from ``at`` (less tolerance) on; ``exclude`` a symptom
        key whose own weight is left out. 1 when the candidate precedes all of it."""
        i = int(np.searchsorted(self.ev_t, at - self.p.tolerance_s, side="left"))
        before, total = float(self.cum[i]), float(self.cum[-1])
        if exclude:
            mine = self.ev_key == exclude
            before -= float(self.ev_w[:i][mine[:i]].sum())
            total -= float(self.ev_w[mine].sum())
        return 1.0 if total <= 0 else max(0.0, 1.0 - before / total)

    def before(self, at: float) -> list[str]:
        """Labels of the symptoms with signal before ``at`` (for the evidence)."""
        i = int(np.searchsorted(self.ev_t, at - self.p.tolerance_s, side="left"))
        return list(dict.fromkeys(str(self.labels[k]) for k in self.ev_key[:i]))

    def first_after(self, at: float, *preferences: set[str]) -> pd.Series:
        """The earliest core symptom from ``at`` on, on the first preferred services that
        have one (then any), else the earliest of all."""
        i = int(np.searchsorted(self.core_start, at - self.p.tolerance_s, side="left"))
        for wanted in (*preferences, None):
            for j in range(i, len(self.core)):
                if wanted is None or self.core_services[j] & wanted:
                    return self.core.iloc[j]
        return self.core.iloc[0]

    # -- relation --------------------------------------------------------------------------
    def reach(self, services: Iterable[str]) -> Reach:
        """Share of the core signal and of the affected hosts on ``services`` or downstream
        (cached: many changes share a service)."""
        key = tuple(sorted(s for s in services if s))
        if key not in self._reach:
            self._reach[key] = self._compute_reach(set(key))
        return self._reach[key]

    def _compute_reach(self, own: set[str]) -> Reach:
        p = self.p
        explained = set(own)
        for s in own:
            explained |= self.downstream.get(s, frozenset())
        total = mine = others = 0.0
        per_service: dict[str, float] = {}
        for values, w in zip(self.core["services"], self.core["weight"], strict=True):
            total += float(w)
            for v in values:
                part = float(w) / len(values)
                per_service[v] = per_service.get(v, 0.0) + part
                mine += part if v in own else 0.0
                others += part if v in explained and v not in own else 0.0
        hits = {h for h in self.affected_hosts if self.hosts.get(h, "") in explained}
        own_hosts = sum(self.hosts.get(h, "") in own for h in hits)
        own_symptoms = bool(own & self.affected)
        # A service explains its dependants' symptoms as far as it visibly suffers itself:
        # one weak blip upstream does not account for a storm below (a monitored upstream
        # fault shows on the upstream too). Intensity is signal per affected host (a db
        # of one host is not "less affected" than a web tier of ten), compared with the
        # most intensely affected service.
        support = 1.0
        if own_symptoms and per_service:
            hosts_of: dict[str, int] = {}
            for h in self.affected_hosts:
                s = self.hosts.get(h, "")
                hosts_of[s] = hosts_of.get(s, 0) + 1
            intensity = {s: m / max(1, hosts_of.get(s, 0)) for s, m in per_service.items()}
            mine_per_host = mine / max(1, sum(hosts_of.get(s, 0) for s in own))
            support = min(1.0, mine_per_host / max(intensity.values())) ** 0.5
        share = (mine + support * others) / total if total else 0.0
        if self.affected_hosts:
            host_share = (own_hosts + support * (len(hits) - own_hosts)) / len(
                self.affected_hosts)
            score = 0.5 * share + 0.5 * host_share
        else:
            score = share
        if not own:
            score = p.global_change
        elif not own_symptoms and score > 0:
            # An upstream service with no symptom of its own: plausible when we cannot see
            # it, much less so when it is monitored and looked healthy.
            score *= p.healthy_upstream if own & self.monitored else p.unmonitored_upstream
        covered = tuple(s for s in self.incident.services if s in explained)
        return Reach(score=score, mass_share=(mine + others) / total if total else 0.0,
                     dependants_share=support * others / total if total else 0.0,
                     hosts_explained=len(hits), hosts_own=own_hosts,
                     hosts_affected=len(self.affected_hosts), covered=covered,
                     dependants=tuple(s for s in covered if s not in own),
                     own_symptoms=own_symptoms, support=support)

    # -- the change stream -----------------------------------------------------------------
    def rarity(self, service: str, lag_s: float) -> Rarity:
        """A Poisson model of the service's change stream.

        With ``λ`` the service's other changes per second over the history (at least a
        day), the chance that one lands within the lag before any given onset is
        ``1 - exp(-λ·lag)``; the factor is ``0.5 + 0.5·(1 - chance)``, so a busy stream
        halves a change's weight at most: in a busy stream the bad deploy is one of them.
        """
        others = max(0, len(self.by_service.get(service, ())) - 1)
        chance = 1.0 - math.exp(-others / self.span * max(lag_s, self.p.chance_window_s))
        return Rarity(0.5 + 0.5 * (1.0 - chance), others, self.span, chance)

    def status(self, at: float, service: str, status: str) -> Status:
        """A failed change, or one its team replaced while the incident was open (a
        rollback or a fix), weighs more."""
        failed = status.lower() if status.lower() in FAILED_STATUSES else ""
        redeploy, lag, recovered = "", math.nan, math.nan
        for i in self.by_service.get(service, ()) if service else ():
            t = self.ch_t[i]
            if t > at and self.onset <= t <= self.end:
                redeploy = str(self.changes["id"].iat[i])
                lag, recovered = t - at, self.end - t
                break
        factor = 1.0 if failed or redeploy else self.p.status_base
        return Status(factor, failed, redeploy, lag, recovered)


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
