"""Ranked root-cause candidates per incident, each with evidence a human can check.

**Candidates.** For an :class:`~opscockpit.analysis.incidents.Incident`:

- every change (deploy, config, model version) that finished no later than the onset
  (within ``tolerance_s``) and at most ``lookback_s`` (6 h) before it. A change after the
  symptoms began is not a cause and is never listed;
- for each affected service, its best core symptom (an anomaly episode, an alert
  cluster, or a drifting model's alerts): the upstream anomaly that the rest follows.

**Score** — a transparent product of factors in [0, 1], each shown in ``factors`` and
told in the evidence:

``change = proximity × precedence × relation × rarity × status``

- *proximity* ``1 / (1 + lag / 15 min)``, lag from the change to the incident's onset
  (the start of its first heavy burst of symptoms; see incidents.py);
- *precedence*: the share of the incident's core signal that comes after the change. A
  change after one weak early symptom keeps most of its score, one after the bulk loses it;
- *relation*: how much of the incident the change's service explains — half the share of
  the signal, half the share of affected hosts on that service or on services depending
  on it (transitively; configured, named in alert text, or learned). Dependants count as
  far as the service visibly suffers itself (``sqrt`` of its signal per affected host over
  the most intensely affected service's), so a weak blip upstream does not claim a storm
  below. An
  upstream service with no symptom of its own counts 0.3 if monitored, 0.8 if we cannot
  see it; a change naming no service 0.3; a change nothing links to it floors at 0.05;
- *rarity* ``0.5 + 0.5·exp(-λ·lag)``, ``λ`` the service's changes per second over the
  history (at least a day): a deploy on a quiet day weighs more than one in a busy stream;
- *status* 1 for a failed or rolled-back change, or one its team replaced while the
  incident was open (a rollback or fix-forward), else 0.8.

``symptom = 0.7 × proximity × precedence × relation × explains × strength × unexplained``:
precedence over the *other* symptoms' signal; ``explains`` 0.5 plus half the share of the
signal on its dependants (a symptom causes others, not itself); strength its weight capped
at 1; ``unexplained = 1 - sqrt(s)``, ``s`` the best score of a related change before it
that covers its service (explaining away: the change is the deeper cause).

**Lead.** Candidates are ranked by score. A change no dependency links to the incident
never leads; when no related change precedes the onset, the result says so honestly: the
lead is the best symptom among the first minutes of the onset, ``kind`` ``symptom``, "no
candidate change". :func:`causes_by_symptom` gives each cluster the best candidate that
covers it, so two faults meeting in one incident keep their own causes.

**Feedback.** Operators confirm or reject a candidate (annotations ``confirm``/``reject``
targeting its ``ref``; the latest wins). Verdicts are shown, never fed back into the
score, so the share of judged incidents whose top candidate was confirmed measures the
ranking itself: the cockpit's own accuracy. An incident is judged when its top candidate
has a verdict or another of its candidates was confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from opscockpit.analysis.incidents import Incident
from opscockpit.analysis.root_cause_features import (
    ChangeStream,
    Facts,
    RankParams,
    Reach,
    clock,
    duration,
    proximity,
)
from opscockpit.analysis.service_topology import Dependencies, closure, invert

CHANGE_COLUMNS = ["ts", "id", "kind", "service", "version", "status", "url"]
_SYMPTOM_KINDS = frozenset({"anomaly", "cluster", "drift", "symptom"})


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
    source: int | str = ""  # the change's row, or the symptom's key (for the evidence)

    @property
    def is_change(self) -> bool:
        return self.kind not in _SYMPTOM_KINDS


@dataclass(frozen=True, slots=True)
class Accuracy:
    judged: int  # incidents an operator judged (see :func:`accuracy`)
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
    seen, host_map = set(monitored), dict(hosts or {})
    stream = ChangeStream(frame, p)
    return {x.id: rank_causes(Facts(x, stream, downstream, host_map, seen, p))
            for x in incidents}


def _changes(changes: pd.DataFrame | None) -> pd.DataFrame:
    if changes is None or changes.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns, UTC]" if c == "ts" else str)
                             for c in CHANGE_COLUMNS})
    frame = changes.copy()
    for col in CHANGE_COLUMNS:
        if col not in frame:
            frame[col] = ""
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    for col in ("id", "kind", "service", "version", "status", "url"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame.sort_values(["ts", "id"], kind="stable").reset_index(drop=True)


def rank_causes(f: Facts) -> list[Candidate]:
    """Score every candidate, order them, then write evidence for those shown."""
    p = f.p
    lo, hi = f.onset - p.lookback_s, f.onset + p.tolerance_s
    rows = range(int(np.searchsorted(f.ch_t, lo, side="left")),
                 int(np.searchsorted(f.ch_t, hi, side="right")))
    found = [_score_change(f, i) for i in rows]
    found += _score_symptoms(f, found)
    found.sort(key=lambda c: (-c.score, -c.ts.timestamp(), c.ref))
    related = [c for c in found if c.is_change and c.factors["relation"] > p.unrelated]
    if not related:
        lead = _lead(f, found)
        found = [lead, *(c for c in found if c.ref != lead.ref)]
    elif found[0].is_change and found[0].factors["relation"] <= p.unrelated:
        # A change nothing links to the incident never leads, whatever its timing.
        found.remove(related[0])
        found.insert(0, related[0])
    shown = found[:p.max_candidates]
    return [replace(_explain(f, c, found), rank=i + 1, score=round(c.score, 4))
            for i, c in enumerate(shown)]


def _score_change(f: Facts, i: int) -> Candidate:
    p, row = f.p, f.changes.iloc[i]
    at, service = float(f.ch_t[i]), str(row["service"])
    lag = f.onset - at
    prox = proximity(lag, p)
    prec = f.precedence(at)
    rel = f.reach([service])
    relation = max(rel.score, p.unrelated)
    rarity = f.rarity(service, lag).factor
    status = f.status(at, service, str(row["status"])).factor
    factors = {"proximity": prox, "precedence": prec, "relation": relation,
               "rarity": rarity, "status": status}
    return Candidate(0, str(row["kind"]) or "change", str(row["id"]), "",
                     prox * prec * relation * rarity * status, (), f.incident.id,
                     pd.Timestamp(row["ts"]), service, str(row["url"]),
                     {k: round(v, 4) for k, v in factors.items()}, rel.covered, i)


def _score_symptoms(f: Facts, changes: list[Candidate]) -> list[Candidate]:
    """Per affected service, its best symptom (the upstream anomaly the rest follows) as a
    candidate: among the symptoms of that service alone if it has any (an api anomaly says
    more about api than a storm across web and api), else among those it shares."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for service in f.incident.services or [""]:
        alone = [j for j, s in enumerate(f.core_services) if s == ({service} - {""})]
        shared = [j for j, s in enumerate(f.core_services) if service in s]
        scored = [_score_symptom(f, j, changes) for j in (alone or shared)]
        scored = [c for c in scored if c.source not in seen]
        if scored:
            best = max(scored, key=lambda c: (c.score, -c.ts.timestamp()))
            seen.add(str(best.source))
            out.append(best)
    return out


def _score_symptom(f: Facts, j: int, changes: list[Candidate]) -> Candidate:
    p, row = f.p, f.core.iloc[j]
    start = pd.Timestamp(row["start"])
    prox = proximity(f.onset - start.timestamp(), p)
    prec = f.precedence(start.timestamp(), exclude=str(row["key"]))
    rel = f.reach(row["services"])
    relation = max(rel.score, p.unrelated)
    # A symptom is a cause only of others: of its dependants fully, of its own service's
    # other symptoms by half (the first api anomaly does not say why api broke).
    explains = p.own_service_only + (1.0 - p.own_service_only) * rel.dependants_share
    strength = min(1.0, float(row["weight"]))
    # Explaining away: a related change before it, on its service or upstream, is the
    # deeper cause; the symptom keeps 1 - sqrt(its score): a plausible change (0.3) takes
    # most of the blame, a routine deploy hours before (0.05) leaves most of it.
    mine = set(row["services"])
    explained = max((c.score * len(mine & set(c.covers)) / max(len(mine), 1)
                     for c in changes if c.factors["relation"] > p.unrelated
                     and c.ts <= start + pd.Timedelta(seconds=p.tolerance_s)), default=0.0)
    factors = {"proximity": prox, "precedence": prec, "relation": relation,
               "explains_others": explains, "strength": strength, "depth": p.symptom_depth,
               "unexplained": 1.0 - explained ** 0.5}
    score = (p.symptom_depth * prox * prec * relation * explains * strength
             * (1.0 - explained ** 0.5))
    return Candidate(0, {"model": "drift"}.get(row["kind"], row["kind"]), str(row["ref"]), "",
                     score, (), f.incident.id, start, ", ".join(row["services"]), "",
                     {k: round(v, 4) for k, v in factors.items()}, rel.covered,
                     str(row["key"]))


def _lead(f: Facts, found: list[Candidate]) -> Candidate:
    """No related change: the incident's first symptom leads, saying so. "First" is read
    in the onset burst's first minutes, where the best-scoring symptom (the strongest,
    the most upstream) wins; a weak precursor before the onset does not lead."""
    symptoms = [c for c in found if not c.is_change]
    early = [c for c in symptoms if c.ts.timestamp() <= f.onset + f.p.burst_window_s
             and c.ts.timestamp() >= f.onset - f.p.tolerance_s]
    best = max(early or symptoms, key=lambda c: (c.score, -c.ts.timestamp()), default=None)
    if best is None:  # every symptom shares a candidate's key: take the earliest
        row = f.core.iloc[0]
        return Candidate(0, "symptom", str(row["ref"]), "", 0.0, (), f.incident.id,
                         pd.Timestamp(row["start"]), ", ".join(row["services"]),
                         source=str(row["key"]))
    return replace(best, kind="symptom")


# -- evidence: only for the candidates shown ------------------------------------------------
def _explain(f: Facts, c: Candidate, found: list[Candidate]) -> Candidate:
    if c.is_change:
        return _explain_change(f, c)
    row = f.core[f.core["key"] == c.source].iloc[0]
    start = pd.Timestamp(row["start"])
    rel = f.reach(row["services"])
    evidence = [f"{row['label']} started at {clock(start)}, before "
                f"{c.factors.get('precedence', 1.0):.0%} of the rest of the incident's signal."]
    if c.service:
        evidence.append(_spread(c.service, rel))
    evidence.append(f"strength {min(1.0, float(row['weight'])):.2f} "
                    "(peak score or alert weight).")
    covering = [x for x in found if x.is_change and x.factors["relation"] > f.p.unrelated
                and x.ts <= start + pd.Timedelta(seconds=f.p.tolerance_s)
                and set(row["services"]) & set(x.covers)]
    if covering:
        best = max(covering, key=lambda x: x.score)
        evidence.append(f"{best.kind} {best.ref} came before it and explains it "
                        f"(score {best.score:.2f}).")
    summary = f"{row['label']} from {clock(start)}" + (f" ({c.service})" if c.service else "")
    if c.kind == "symptom":
        services = _names(f.incident.services) or "the affected services"
        evidence.insert(0, f"no deploy, config or model change to {services} or what they "
                        f"depend on in the {duration(f.p.lookback_s)} before "
                        f"{clock(f.incident.onset)}.")
        summary = (f"no candidate change; the incident starts with {row['label']} at "
                   f"{clock(start)}")
    return replace(c, summary=summary, evidence=tuple(evidence))


def _explain_change(f: Facts, c: Candidate) -> Candidate:
    row = f.changes.iloc[int(c.source)]
    at, service, kind = c.ts.timestamp(), c.service, c.kind
    lag = f.onset - at
    rel = f.reach([service])
    evidence = [_timing(f, row, rel)]
    if rel.score <= f.p.unrelated and service:
        evidence.append(f"{service} shows no symptom and no known dependency links it to "
                        f"{_names(f.incident.services)}.")
    elif service:
        evidence.append(_spread(service, rel))
    else:
        evidence.append("it names no service: a shared change could touch any of them.")
    before = f.before(at)
    if before:
        evidence.append(f"{len(before)} symptom(s) began before it ({_names(before, 2)}): "
                        f"{1 - c.factors['precedence']:.0%} of the incident's signal.")
    r = f.rarity(service, lag)
    evidence.append(f"{service or 'this'} changed {r.others} other time(s) in the "
                    f"{duration(r.span_s)} of changes on record "
                    f"({r.others / r.span_s * 86400:.1f}/day): one landing within "
                    f"{duration(max(lag, 0))} of the onset by coincidence is "
                    f"{r.chance:.0%} likely.")
    s = f.status(at, service, str(row["status"]))
    if s.failed:
        evidence.append(f"its status is {s.failed}.")
    if s.redeploy_id:
        evidence.append(f"{service} was changed again {duration(s.redeploy_lag_s)} later "
                        f"({s.redeploy_id}) while the incident was open; the symptoms ended "
                        f"{duration(s.recovered_after_s)} after that.")
    what = " ".join(x for x in (kind, "of", service or "everything", str(row["version"])) if x)
    when = (f"{duration(lag)} before the incident began" if lag > 0
            else "as the incident began")
    return replace(c, summary=f"{what} at {clock(c.ts)}, {when}", evidence=tuple(evidence))


def _timing(f: Facts, row: pd.Series, rel: Reach) -> str:
    service = str(row["service"])
    head = f"{row['kind'] or 'change'} {row['id']} of {service or 'no named service'}"
    at = pd.Timestamp(row["ts"])
    first = f.first_after(at.timestamp(), {service}, set(rel.covered))
    gap = (first["start"] - at).total_seconds()
    text = (f"{head} finished {duration(gap)} {'before' if gap >= 0 else 'after'} the first "
            f"{first['label']} ({clock(first['start'])})")
    if first["start"] > f.incident.onset + pd.Timedelta(seconds=60):
        text += f"; the incident began at {clock(f.incident.onset)}"
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


def _names(values: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" (+{len(values) - limit})" if len(values) > limit else "")


def causes_by_symptom(incident: Incident, candidates: Sequence[Candidate],
                      ) -> dict[str, Candidate]:
    """Per cluster (and series) of the incident, the best-ranked candidate that explains it.

    "Explains" is covering one of the symptom's services: the change's or symptom's own
    service, or one depending on it. When two faults share an incident (their effects
    meet in a common dependant), each cluster gets its own cause instead of the lead of
    the other; a symptom no candidate covers gets the lead.
    """
    out: dict[str, Candidate] = {}
    if not candidates:
        return out
    for ref, services in zip(incident.symptoms["ref"], incident.symptoms["services"],
                             strict=True):
        wanted = set(services)
        pick = next((c for c in candidates if wanted & set(c.covers)), candidates[0])
        if ref not in out or pick.rank < out[ref].rank:
            out[str(ref)] = pick
    for cid in incident.mirrors:
        out.setdefault(cid, candidates[0])
    return out


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


__all__ = ["Accuracy", "Candidate", "RankParams", "accuracy", "causes_by_symptom",
           "latest_verdicts", "rank_causes", "rank_incidents"]
