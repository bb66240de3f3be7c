"""Ranked root-cause candidates per incident, each with evidence a human can check.

**Candidates.** For an :class:`~opscockpit.analysis.incidents.Incident`:

- every change (deploy, config, model version) that finished no later than the onset
  (within ``tolerance_s``) and at most ``lookback_s`` before it. A change after the
  symptoms began is not a cause and is never listed;
- for each affected service, its earliest core symptom (an anomaly episode, an alert
  cluster, or a drifting model's alerts): the upstream anomaly that the rest follows.

**Score** — a transparent product of factors in [0, 1], each printed as evidence:

``change = proximity × precedence × relation × rarity × status``

- *proximity* ``1 / (1 + lag / 15 min)``, lag from the change to the incident's onset
  (the start of the burst holding the first 10% of its signal; see incidents.py);
- *precedence*: the share of the incident's core signal that comes after the change. A
  change after one weak early symptom keeps most of its score, one after the bulk loses it;
- *relation*: how much of the incident the change's service explains — half the share of
  the signal, half the share of affected hosts on that service or on services that depend
  on it (transitively; configured, named in alert text, or learned). An upstream service
  with no symptom of its own counts 0.4 if it is monitored, 0.8 if we cannot see it; a
  change naming no service 0.3; a change nothing links to the incident floors at 0.05;
- *rarity* ``0.5 + 0.5·exp(-λ·lag)``, ``λ`` the service's changes per second over the
  history (at least a day): a deploy on a quiet day weighs more than one in a busy stream;
- *status* 1 for a failed or rolled-back change, or one its team replaced while the
  incident was open (a rollback or fix-forward), else 0.8.

``symptom = 0.6 × proximity × precedence × relation × strength``, precedence over the
*other* symptoms' signal, strength the symptom's weight capped at 1; 0.6 because a
symptom explains its dependants but is itself an effect: a related change before it wins.

**Lead.** Candidates are ranked by score. A change no dependency links to the incident
never leads; when no related change precedes the onset, the result says so honestly: the
lead is the incident's earliest core symptom, ``kind`` ``symptom``, "no candidate change".

**Feedback.** Operators confirm or reject a candidate (annotations ``confirm``/``reject``
targeting its ``ref``; the latest wins). Verdicts are shown, never fed back into the
score, so the share of judged incidents whose top candidate was confirmed measures the
ranking itself: the cockpit's own accuracy. An incident is judged when its top candidate
has a verdict or another of its candidates was confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from opscockpit.analysis.incidents import Incident
from opscockpit.analysis.root_cause_features import (
    RankParams,
    Rarity,
    Reach,
    clock,
    duration,
    precedence,
    proximity,
    rarity,
    reach,
    status,
)
from opscockpit.analysis.service_topology import Dependencies, closure, invert

CHANGE_COLUMNS = ["ts", "id", "kind", "service", "version", "status", "url"]


@dataclass(frozen=True, slots=True)
class Candidate:
    rank: int
    kind: str  # deploy, config, model (changes); anomaly, cluster, drift; symptom (the lead)
    ref: str  # change id, cluster id or series
    summary: str
    score: float
    evidence: tuple[str, ...]
    incident: str
    ts: pd.Timestamp
    service: str = ""
    url: str = ""
    factors: dict[str, float] = field(default_factory=dict)
    covers: tuple[str, ...] = ()  # affected services it explains: its own and dependants


@dataclass(frozen=True, slots=True)
class Accuracy:
    judged: int  # incidents with a verdict on any of their candidates
    top1_confirmed: int

    @property
    def share(self) -> float | None:
        return self.top1_confirmed / self.judged if self.judged else None


def rank_incidents(incidents: Sequence[Incident], changes: pd.DataFrame | None,
                   dependencies: Dependencies | None = None,
                   hosts: Mapping[str, str] | None = None, monitored: Iterable[str] = (),
                   params: RankParams | None = None) -> dict[str, list[Candidate]]:
    """Incident id -> its candidates, best first (see the module docstring)."""
    p = params or RankParams()
    frame = _changes(changes)
    downstream = closure(invert(dependencies or {}))
    seen = set(monitored)
    return {x.id: rank_causes(x, frame, downstream, dict(hosts or {}), seen, p)
            for x in incidents}


def _changes(changes: pd.DataFrame | None) -> pd.DataFrame:
    if changes is None or changes.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    frame = changes.copy()
    for col in CHANGE_COLUMNS:
        if col not in frame:
            frame[col] = ""
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    for col in ("id", "kind", "service", "version", "status", "url"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame.sort_values(["ts", "id"], kind="stable").reset_index(drop=True)


def rank_causes(incident: Incident, changes: pd.DataFrame, downstream: Dependencies,
                hosts: dict[str, str], monitored: set[str], p: RankParams) -> list[Candidate]:
    onset = incident.onset
    lo = onset - pd.Timedelta(seconds=p.lookback_s)
    hi = onset + pd.Timedelta(seconds=p.tolerance_s)
    window = changes[(changes["ts"] >= lo) & (changes["ts"] <= hi)]
    found = [_change(incident, row, changes, downstream, hosts, monitored, p)
             for _, row in window.iterrows()]
    found += _symptoms(incident, downstream, hosts, monitored, found, p)
    found.sort(key=lambda c: (-c.score, -c.ts.timestamp(), c.ref))
    related = [c for c in found if c.kind not in _SYMPTOM_KINDS
               and c.factors["relation"] > p.unrelated]
    if not related:
        lead = _lead(incident, found, p)
        found = [lead, *(c for c in found if c.ref != lead.ref)]
    elif _unrelated_change(found[0], p):
        # A change nothing links to the incident never leads, whatever its timing.
        best = next(c for c in found if not _unrelated_change(c, p))
        found.remove(best)
        found.insert(0, best)
    return [_ranked(c, i + 1) for i, c in enumerate(found[:p.max_candidates])]


def _unrelated_change(c: Candidate, p: RankParams) -> bool:
    return c.kind not in _SYMPTOM_KINDS and c.factors["relation"] <= p.unrelated


_SYMPTOM_KINDS = frozenset({"anomaly", "cluster", "drift", "symptom"})


def _ranked(c: Candidate, rank: int) -> Candidate:
    return Candidate(rank, c.kind, c.ref, c.summary, round(c.score, 4), c.evidence,
                     c.incident, c.ts, c.service, c.url, c.factors, c.covers)


def _change(incident: Incident, row: pd.Series, changes: pd.DataFrame,
            downstream: Dependencies, hosts: dict[str, str], monitored: set[str],
            p: RankParams) -> Candidate:
    ts, service, kind = pd.Timestamp(row["ts"]), row["service"], row["kind"] or "change"
    lag = (incident.onset - ts).total_seconds()
    prox = proximity(lag, p)
    prec, before = precedence(incident, ts, p)
    rel = reach(incident, [service], downstream, hosts, monitored, p)
    relation = max(rel.score, p.unrelated)
    rare = rarity(ts, row["id"], service, changes, lag, p)
    stat = status(row, changes, incident, p)
    score = prox * prec * relation * rare.factor * stat.factor
    what = " ".join(x for x in (kind, "of", service or "everything", row["version"]) if x)
    evidence = [_timing(incident, row, ts, service, rel.covered, lag)]
    if rel.score <= p.unrelated and service:
        evidence.append(f"{service} shows no symptom and no known dependency links it to "
                        f"{_names(incident.services)}.")
    elif service:
        evidence.append(_spread(service, rel))
    else:
        evidence.append("it names no service: a shared change could touch any of them.")
    if before:
        evidence.append(f"{len(before)} symptom(s) began before it ({_names(before, 2)}): "
                        f"{1 - prec:.0%} of the incident's signal.")
    evidence.append(_rarity_text(service, rare, lag))
    if stat.failed:
        evidence.append(f"its status is {stat.failed}.")
    if stat.redeploy_id:
        text = (f"{service} was changed again {duration(stat.redeploy_lag_s)} later "
                f"({stat.redeploy_id}) while the incident was open")
        if stat.recovered_after_s == stat.recovered_after_s:
            text += f"; the symptoms ended {duration(stat.recovered_after_s)} after that"
        evidence.append(text + ".")
    factors = {"proximity": prox, "precedence": prec, "relation": relation,
               "rarity": rare.factor, "status": stat.factor}
    return Candidate(0, kind, row["id"], f"{what} at {clock(ts)}, {duration(lag)} before "
                     f"the incident began" if lag > 0 else f"{what} at {clock(ts)}, as the "
                     "incident began", score, tuple(evidence), incident.id, ts, service,
                     row["url"], {k: round(v, 4) for k, v in factors.items()}, rel.covered)


def _timing(incident: Incident, row: pd.Series, ts: pd.Timestamp, service: str,
            covered: Sequence[str], lag: float) -> str:
    head = f"{row['kind'] or 'change'} {row['id']} of {service or 'no named service'}"
    sym = incident.symptoms
    core = sym[sym["core"]] if sym["core"].any() else sym
    after = core[core["start"] >= ts - pd.Timedelta(seconds=60)]
    own = after[after["services"].map(lambda v: service in v)]
    mine = after[after["services"].map(lambda v: bool(set(v) & set(covered)))]
    pick = next((f for f in (own, mine, after) if not f.empty), core)
    first = _earliest(pick)
    gap = (first["start"] - ts).total_seconds()
    when = "before" if gap >= 0 else "after"
    text = (f"{head} finished {duration(gap)} {when} the first "
            f"{first['label']} ({clock(first['start'])})")
    if first["start"] > incident.onset + pd.Timedelta(seconds=60):
        text += f"; the incident began at {clock(incident.onset)}"
    return text + "."


def _spread(service: str, r: Reach) -> str:
    if not r.hosts_affected:
        text = f"{r.mass_share:.0%} of the incident's signal is on {service}"
    else:
        text = f"{r.hosts_own} of {r.hosts_affected} affected hosts run {service}"
    if r.dependants:
        more = r.hosts_explained - r.hosts_own
        verb = "depends" if len(r.dependants) == 1 else "depend"
        text += (f"; {more} more run {_names(r.dependants)}, which {verb} on it"
                 if r.hosts_affected else f" or on {_names(r.dependants)}, which {verb} on it")
    if not r.own_symptoms:
        text += f"; {service} itself shows no symptom"
    return text + "."


def _rarity_text(service: str, r: Rarity, lag: float) -> str:
    hours = r.span_s / 3600
    return (f"{service or 'this'} changed {r.others} other time(s) in the "
            f"{duration(r.span_s)} of changes on record ({r.others / hours * 24:.1f}/day): "
            f"one landing within {duration(max(lag, 0))} of the onset by coincidence is "
            f"{r.chance:.0%} likely.")


def _names(values: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" (+{len(values) - limit})" if len(values) > limit else "")


def _symptoms(incident: Incident, downstream: Dependencies, hosts: dict[str, str],
              monitored: set[str], changes: list[Candidate], p: RankParams,
              ) -> list[Candidate]:
    """Per affected service, its earliest core symptom as a candidate."""
    sym = incident.symptoms
    core = sym[sym["core"]] if sym["core"].any() else sym
    out: list[Candidate] = []
    seen: set[str] = set()
    for service in incident.services or [""]:
        mine = core[core["services"].map(lambda v, s=service: s in v or (not s and not v))]
        if mine.empty:
            continue
        first = _earliest(mine)
        if first["ref"] in seen:
            continue
        seen.add(first["ref"])
        out.append(_symptom(incident, first, downstream, hosts, monitored, changes, p))
    return out


def _symptom(incident: Incident, row: pd.Series, downstream: Dependencies,
             hosts: dict[str, str], monitored: set[str], changes: list[Candidate],
             p: RankParams) -> Candidate:
    start = pd.Timestamp(row["start"])
    lag = (incident.onset - start).total_seconds()
    prox = proximity(lag, p)
    prec, _ = precedence(incident, start, p, exclude=row["ref"])
    rel = reach(incident, row["services"], downstream, hosts, monitored, p)
    relation = max(rel.score, p.unrelated)
    # A symptom is a cause only of others: of its dependants fully, of its own service's
    # other symptoms by half (the first api anomaly does not explain why api broke).
    explains = p.own_service_only + (1.0 - p.own_service_only) * rel.dependants_share
    strength = min(1.0, float(row["weight"]))
    # Explaining away: a related change before the symptom, on its service or upstream,
    # is the deeper cause; the symptom keeps only what that change leaves unexplained.
    mine = set(row["services"])
    covering = [c for c in changes if c.factors["relation"] > p.unrelated
                and c.ts <= start + pd.Timedelta(seconds=p.tolerance_s)
                and mine & set(c.covers)]
    explained = max((c.score for c in covering), default=0.0)
    score = (p.symptom_depth * prox * prec * relation * explains * strength
             * (1.0 - explained))
    kind = {"model": "drift"}.get(row["kind"], row["kind"])
    service = ", ".join(row["services"])
    evidence = [f"{row['label']} started at {clock(start)}, before {prec:.0%} of the rest "
                "of the incident's signal."]
    if service:
        evidence.append(_spread(service, rel))
    evidence.append(f"strength {strength:.2f} (peak score or alert weight).")
    if covering:
        best = max(covering, key=lambda c: c.score)
        evidence.append(f"{best.kind} {best.ref} came before it and explains it "
                        f"(score {best.score:.2f}).")
    factors = {"proximity": prox, "precedence": prec, "relation": relation,
               "explains_others": explains, "strength": strength, "depth": p.symptom_depth,
               "unexplained": 1.0 - explained}
    return Candidate(0, kind, str(row["ref"]), f"{row['label']} from {clock(start)}"
                     + (f" ({service})" if service else ""), score, tuple(evidence),
                     incident.id, start, service, "",
                     {k: round(v, 4) for k, v in factors.items()}, rel.covered)


def _earliest(symptoms: pd.DataFrame) -> pd.Series:
    """The earliest symptom; at the same minute the most specific (fewest services), then
    the strongest: an api anomaly says more about api than a storm across web and api."""
    order = symptoms.assign(_n=symptoms["services"].map(len))
    order = order.sort_values(["start", "_n", "weight", "ref"],
                              ascending=[True, True, False, True], kind="stable")
    return order.iloc[0].drop("_n")


def _earliest_ref(incident: Incident) -> str:
    sym = incident.symptoms
    core = sym[sym["core"]] if sym["core"].any() else sym
    return str(_earliest(core)["ref"])


def _lead(incident: Incident, found: list[Candidate], p: RankParams) -> Candidate:
    """No related change: the earliest symptom leads, saying so."""
    ref = _earliest_ref(incident)
    row = incident.symptoms.set_index("ref").loc[ref]
    same = next((c for c in found if c.ref == ref), None)
    services = _names(incident.services) or "the affected services"
    evidence = [f"no deploy, config or model change to {services} or what they depend on "
                f"in the {duration(p.lookback_s)} before {clock(incident.onset)}.",
                *(same.evidence if same else ())]
    score = max([c.score for c in found if c.kind in _SYMPTOM_KINDS] or [0.0])
    return Candidate(0, "symptom", ref, f"no candidate change; earliest symptom: "
                     f"{row['label']} at {clock(pd.Timestamp(row['start']))}", score,
                     tuple(evidence), incident.id, pd.Timestamp(row["start"]),
                     same.service if same else "", "", same.factors if same else {},
                     same.covers if same else ())


def latest_verdicts(annotations: pd.DataFrame | None) -> dict[str, str]:
    """Candidate ref -> ``confirm``/``reject``, the latest annotation winning."""
    if annotations is None or annotations.empty:
        return {}
    marks = annotations[annotations["kind"].isin(["confirm", "reject"])]
    marks = marks.assign(_ts=pd.to_datetime(marks["ts"], utc=True)).sort_values(
        "_ts", kind="stable")
    return dict(zip(marks["target"].astype(str), marks["kind"].astype(str), strict=True))


def accuracy(rankings: Mapping[str, Sequence[Candidate]],
             verdicts: Mapping[str, str]) -> Accuracy:
    """How often the top candidate was right, over the incidents an operator judged.

    An incident is judged when its top candidate has a verdict (right if confirmed) or
    another of its candidates was confirmed (then the top one was wrong). Rejecting a
    lower candidate says nothing about the top one.
    """
    judged = confirmed = 0
    for candidates in rankings.values():
        if not candidates:
            continue
        top = verdicts.get(candidates[0].ref)
        if top is None and not any(verdicts.get(c.ref) == "confirm" for c in candidates[1:]):
            continue
        judged += 1
        confirmed += top == "confirm"
    return Accuracy(judged, confirmed)


__all__ = ["Accuracy", "Candidate", "RankParams", "accuracy", "latest_verdicts",
           "rank_causes", "rank_incidents"]
