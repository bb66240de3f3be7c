"""Incidents: which alert clusters and anomaly episodes are one situation.

**Symptoms.** Every anomaly episode and every alert cluster is a symptom with a weight:
an episode weighs its peak score (0..1); a cluster weighs its severity (info 0.2, warning
0.5, error 0.8, critical 1) times ``0.5 + 0.5·log10(1 + alerts)``, capped at 2, so a storm
of 300 alerts counts like a couple of strong anomalies, not like 300 of them. Alerts the
cockpit raised itself about an episode (source ``anomaly``) are that episode, not a second
symptom: they only *link* the episode to the cluster they were clustered into. A cluster
made only of such alerts is no symptom of its own.

**Where the signal lies in time.** Each symptom spreads its weight over *events*: a
cluster over its alerts' arrival times; an episode at its start, except that an episode
which starts quietly and peaks much later (a slow drift the detector caught early, or a
false start) puts only ``1 / (1 + (peak - start) / slow_onset_s)`` of its weight at its
start and the rest at its peak. Core events no more than ``burst_gap_s`` apart form
*bursts*; the incident's **onset** is the start of the first burst that weighs at least
``max(onset_share × total, min_burst_weight)`` (10% of the incident, and at least one
strong symptom), or of the heaviest burst if none does. One weak early episode therefore
does not drag the onset back by an hour, which is what keeps a decoy change that happened
to land before it from looking like the cause.

**Grouping.** *Core* symptoms (weight ≥ ``core_min_weight``, and not background: flapping,
steady repeats, info-only) are joined when their time spans overlap within ``slack_s``
**and** they are related: a shared host or service, a dependency between their services
(configured, named in alert text, or learned; transitively, since a db fault reaches web
through an api), or a cluster that holds the episode's own alert. Time alone never joins,
so two independent incidents at the same minute stay two. Connected core symptoms form an
incident. Weak and background symptoms then *attach* to the overlapping related incident
whose onset is nearest, but never bridge two incidents; those that attach nowhere are
incidents of their own (``core`` False), so every cluster and episode has an incident.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from opscockpit.analysis.service_topology import (
    Dependencies,
    closure,
    invert,
    service_of_name,
)

SEVERITY_WEIGHT = {"info": 0.2, "warning": 0.5, "error": 0.8, "critical": 1.0}
SYMPTOM_COLUMNS = ["key", "ref", "kind", "label", "hosts", "services", "start", "end", "peak_ts",
                   "weight", "sharp", "core", "links"]
EVENT_COLUMNS = ["ts", "key", "weight"]  # key: the symptom's (a series may recur)


@dataclass(frozen=True, slots=True)
class IncidentParams:
    slack_s: float = 600.0
    core_min_weight: float = 0.45
    slow_onset_s: float = 900.0
    onset_share: float = 0.1
    min_burst_weight: float = 1.0
    burst_gap_s: float = 300.0
    steady_gap_s: float = 300.0  # a cluster repeating slower than this for an hour is routine
    steady_span_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    symptoms: pd.DataFrame  # SYMPTOM_COLUMNS, earliest first
    events: pd.DataFrame  # EVENT_COLUMNS plus ``core``, by time
    first: pd.Timestamp  # the earliest core symptom's start (the earliest symptom if none)
    onset: pd.Timestamp  # the start of the burst holding the first share of the signal
    end: pd.Timestamp
    core: bool  # False: only weak or background symptoms

    @property
    def weight(self) -> float:
        return float(self.symptoms.loc[self.symptoms["core"], "weight"].sum())

    @property
    def services(self) -> list[str]:
        """Affected services, the most symptom weight first."""
        return _ranked(self.symptoms, "services")

    @property
    def hosts(self) -> list[str]:
        return _ranked(self.symptoms, "hosts")

    @property
    def clusters(self) -> list[str]:
        return [r for r, k in zip(self.symptoms["ref"], self.symptoms["kind"], strict=True)
                if k in ("cluster", "model")] + list(self.mirrors)

    @property
    def mirrors(self) -> tuple[str, ...]:
        """Clusters made only of this incident's episode alerts (no symptom of their own)."""
        return tuple(self.symptoms.attrs.get("mirrors", ()))

    @property
    def series(self) -> list[str]:
        return list(dict.fromkeys(
            r for r, k in zip(self.symptoms["ref"], self.symptoms["kind"], strict=True)
            if k == "anomaly"))


def _ranked(symptoms: pd.DataFrame, column: str) -> list[str]:
    mass: dict[str, float] = {}
    for values, w in zip(symptoms[column], symptoms["weight"], strict=True):
        for v in values:
            if v:
                mass[v] = mass.get(v, 0.0) + float(w) / len(values)
    return sorted(mass, key=lambda k: (-mass[k], k))


def _labels(value: object) -> dict[str, str]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def symptom_frames(anomalies: pd.DataFrame | None, clusters: pd.DataFrame | None,
                   alerts: pd.DataFrame | None, hosts: Mapping[str, str],
                   params: IncidentParams | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(symptoms, events)`` of the module docstring from the three report frames."""
    p = params or IncidentParams()
    known = set(hosts.values())
    rows: list[dict[str, object]] = []
    events: list[tuple[pd.Timestamp, str, float]] = []
    latest = _latest(anomalies, clusters, alerts)
    if anomalies is not None and not anomalies.empty:
        frame = anomalies.assign(start=_utc(anomalies["start"]), end=_utc(anomalies["end"]),
                                 peak_ts=_utc(anomalies["peak_ts"]))
        for a in frame.itertuples(index=False):
            host = str(a.host or "")
            service = hosts.get(host) or service_of_name(host or str(a.series), known)
            end = a.end if not pd.isna(a.end) else latest
            peak = a.peak_ts if not pd.isna(a.peak_ts) else a.start
            weight = float(a.peak_score)
            sharp = 1.0 / (1.0 + max(0.0, (peak - a.start).total_seconds()) / p.slow_onset_s)
            key = f"{a.series}@{a.start.isoformat()}"
            rows.append({"key": key, "ref": str(a.series), "kind": "anomaly",
                         "label": f"anomaly on {a.series}", "hosts": (host,) if host else (),
                         "services": (service,) if service else (), "start": a.start,
                         "end": max(end, a.start), "peak_ts": peak, "weight": weight,
                         "sharp": sharp, "core": weight >= p.core_min_weight, "links": ()})
            events.append((a.start, key, weight * sharp))
            if sharp < 1.0:
                events.append((peak, key, weight * (1.0 - sharp)))
    mirrors: dict[str, tuple[str, ...]] = {}
    if clusters is not None and not clusters.empty:
        per_alert = _alert_index(alerts)
        for c in clusters.to_dict("records"):
            row, own, linked = _cluster_symptom(c, per_alert, hosts, known, p)
            if row is None:
                mirrors[str(c["id"])] = linked
                continue
            rows.append(row)
            weight = float(row["weight"])  # type: ignore[arg-type]
            for ts in own:
                events.append((ts, str(c["id"]), weight / len(own)))
    symptoms = pd.DataFrame(rows, columns=SYMPTOM_COLUMNS)
    symptoms.attrs["mirrors"] = mirrors
    event_frame = pd.DataFrame(events, columns=EVENT_COLUMNS)
    return symptoms, event_frame.sort_values(["ts", "key"], kind="stable").reset_index(drop=True)


def _latest(*frames: pd.DataFrame | None) -> pd.Timestamp:
    stamps = []
    for frame in frames:
        if frame is None or frame.empty:
            continue
        for col in ("end", "peak_ts", "last_seen", "ts", "start"):
            if col in frame:
                value = _utc(frame[col]).max()
                if not pd.isna(value):
                    stamps.append(value)
    return max(stamps) if stamps else pd.Timestamp(0, tz="UTC")


def _alert_index(alerts: pd.DataFrame | None) -> dict[str, tuple[pd.Timestamp, str, str, str]]:
    """Alert id -> (ts, source, status, linked series): its first firing row, else its first."""
    if alerts is None or alerts.empty:
        return {}
    frame = alerts.assign(ts=_utc(alerts["ts"])).sort_values("ts", kind="stable")
    labels = frame["labels"] if "labels" in frame else pd.Series("", index=frame.index)
    out: dict[str, tuple[pd.Timestamp, str, str, str]] = {}
    blank = pd.Series("", index=frame.index)
    sources = frame.get("source", blank)
    statuses = frame.get("status", blank)
    for aid, ts, source, status, lab in zip(
            frame["id"].astype(str), frame["ts"], sources.fillna("").astype(str),
            statuses.fillna("").replace("", "firing").astype(str), labels, strict=True):
        if aid in out and not (out[aid][2] == "resolved" and status != "resolved"):
            continue
        series = str(_labels(lab).get("series", "")) if source == "anomaly" else ""
        out[aid] = (ts, source, status, series)
    return out


def _cluster_symptom(c: Mapping[str, Any], per_alert: Mapping[str, tuple[pd.Timestamp, str,
                                                                          str, str]],
                     hosts: Mapping[str, str], known: set[str], p: IncidentParams,
                     ) -> tuple[dict[str, object] | None, list[pd.Timestamp], tuple[str, ...]]:
    found = [per_alert[str(a)] for a in c["alert_ids"] if str(a) in per_alert]
    linked = tuple(sorted({s for _, src, _, s in found if src == "anomaly" and s}))
    own = sorted(ts for ts, src, status, _ in found if src != "anomaly" and status != "resolved")
    if found and not own:
        return None, [], linked
    first, last = pd.Timestamp(c["first_seen"]), pd.Timestamp(c["last_seen"])
    first = first.tz_localize("UTC") if first.tzinfo is None else first.tz_convert("UTC")
    last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
    if not found:
        own = [first]  # no alert rows given: the cluster's own first sighting
    severity = str(c["severity"])
    size = len(own) if found else int(c["size"])
    weight = min(2.0, SEVERITY_WEIGHT.get(severity, 0.5) * (0.5 + 0.5 * math.log10(1 + size)))
    span = (own[-1] - own[0]).total_seconds()
    steady = size >= 3 and span >= p.steady_span_s and span / (size - 1) >= p.steady_gap_s
    background = str(c["status"]) == "flapping" or steady or severity == "info"
    c_hosts = tuple(str(h) for h in c["hosts"] if h)
    services = [str(s) for s in c["services"] if s]
    services += [hosts.get(h) or service_of_name(h, known) for h in c_hosts]
    sources = {src for _, src, _, _ in found if src != "anomaly"}
    row = {"key": str(c["id"]), "ref": str(c["id"]),
           "kind": "model" if sources == {"model"} else "cluster",
           "label": f"cluster '{c['template']}' ({size} alerts)", "hosts": c_hosts,
           "services": tuple(dict.fromkeys(s for s in services if s)), "start": own[0],
           "end": max(last, own[-1]), "peak_ts": own[0], "weight": weight, "sharp": 1.0,
           "core": (not background) and weight >= p.core_min_weight, "links": linked}
    return row, own, linked


def group_incidents(symptoms: pd.DataFrame, events: pd.DataFrame,
                    dependencies: Dependencies | None = None,
                    params: IncidentParams | None = None) -> list[Incident]:
    """The incidents of the module docstring, the heaviest (core first) first."""
    p = params or IncidentParams()
    if symptoms.empty:
        return []
    sym = symptoms.sort_values(["start", "key"], kind="stable").reset_index(drop=True)
    sym.attrs = dict(symptoms.attrs)
    related = _Relation(sym, dependencies or {})
    starts = sym["start"].map(pd.Timestamp.timestamp).to_numpy()
    ends = sym["end"].map(pd.Timestamp.timestamp).to_numpy() + p.slack_s
    core = sym["core"].to_numpy(dtype=bool)
    parent = list(range(len(sym)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Sweep by start: only symptoms still active (end + slack) can overlap a later one.
    active: list[int] = []
    for i in map(int, np.flatnonzero(core)):
        active = [j for j in active if ends[j] >= starts[i]]
        for j in active:
            if find(i) != find(j) and related(i, j):
                parent[find(i)] = find(j)
        active.append(i)
    groups: dict[int, list[int]] = {}
    for i in map(int, np.flatnonzero(core)):
        groups.setdefault(find(i), []).append(i)
    by_key = {str(k): np.asarray(v) for k, v in events.groupby("key", sort=False)
              .indices.items()} if len(events) else {}
    onsets = {root: _onset(sym.iloc[members], events, p, by_key).timestamp()
              for root, members in groups.items()}
    spans = {root: (min(starts[m] for m in members), max(ends[m] for m in members))
             for root, members in groups.items()}
    lone: list[int] = []
    for i in map(int, np.flatnonzero(~core)):
        best, gap = None, math.inf
        for root, members in groups.items():
            lo, hi = spans[root]
            if starts[i] > hi or ends[i] < lo or not any(related(i, m) for m in members):
                continue
            if abs(starts[i] - onsets[root]) < gap:
                best, gap = root, abs(starts[i] - onsets[root])
        if best is None:
            lone.append(i)
        else:
            groups[best].append(i)
    incidents = [_incident(sym, events, members, True, p, by_key)
                 for members in groups.values()]
    incidents += [_incident(sym, events, [i], False, p, by_key) for i in lone]
    incidents = _with_mirrors(incidents, sym.attrs.get("mirrors", {}))
    return sorted(incidents, key=lambda x: (not x.core, -x.weight, x.onset, x.id))


class _Relation:
    """Whether two symptoms are related (module docstring), with the sets precomputed."""

    def __init__(self, sym: pd.DataFrame, dependencies: Dependencies) -> None:
        up = closure(dependencies)
        down = closure(invert(dependencies))
        self.near = {s: up.get(s, frozenset()) | down.get(s, frozenset())
                     for s in set(up) | set(down)}
        self.hosts = [set(h) for h in sym["hosts"]]
        self.services = [set(s) for s in sym["services"]]
        self.refs = list(sym["ref"])
        self.links = [set(x) for x in sym["links"]]

    def __call__(self, i: int, j: int) -> bool:
        if self.hosts[i] & self.hosts[j] or self.services[i] & self.services[j]:
            return True
        if self.refs[i] in self.links[j] or self.refs[j] in self.links[i]:
            return True
        return any(self.services[j] & self.near.get(s, frozenset()) for s in self.services[i])


def _with_mirrors(incidents: list[Incident], mirrors: Mapping[str, tuple[str, ...]],
                  ) -> list[Incident]:
    """Give each mirror-only cluster to the incident holding most of its episodes."""
    owned: dict[int, list[str]] = {}
    for cid, linked in mirrors.items():
        counts = [len(set(linked) & set(x.series)) for x in incidents]
        if counts and max(counts) > 0:
            owned.setdefault(int(np.argmax(counts)), []).append(cid)
    for k, cids in owned.items():
        incidents[k].symptoms.attrs["mirrors"] = tuple(sorted(cids))
    return incidents


def _events_of(events: pd.DataFrame, keys: set[str],
               by_key: Mapping[str, np.ndarray] | None) -> pd.DataFrame:
    """The events of these symptoms, by time (``by_key``: row positions per key)."""
    if by_key is None:
        return events[events["key"].isin(keys)]
    rows = [by_key[k] for k in keys if k in by_key]
    return events.iloc[np.sort(np.concatenate(rows))] if rows else events.iloc[:0]


def _onset(members: pd.DataFrame, events: pd.DataFrame, p: IncidentParams,
           by_key: Mapping[str, np.ndarray] | None = None) -> pd.Timestamp:
    """Start of the first burst heavy enough to be the incident (module docstring)."""
    keys = set(members.loc[members["core"], "key"]) or set(members["key"])
    own = _events_of(events, keys, by_key)
    if own.empty or float(own["weight"].sum()) <= 0:
        return pd.Timestamp(members["start"].min())
    times = own["ts"].map(pd.Timestamp.timestamp).to_numpy()
    burst = np.concatenate([[0], np.cumsum(np.diff(times) > p.burst_gap_s)])
    mass = np.bincount(burst, weights=own["weight"].to_numpy())
    need = min(max(p.onset_share * mass.sum(), p.min_burst_weight), mass.max())
    first = int(np.flatnonzero(mass >= need - 1e-9)[0])
    return pd.Timestamp(own["ts"].iloc[int(np.flatnonzero(burst == first)[0])])


def _incident(sym: pd.DataFrame, events: pd.DataFrame, members: list[int], core: bool,
              p: IncidentParams, by_key: Mapping[str, np.ndarray] | None = None) -> Incident:
    rows = sym.iloc[sorted(members)].reset_index(drop=True)
    own = _events_of(events, set(rows["key"]), by_key).copy()
    core_keys = set(rows.loc[rows["core"], "key"])
    own["core"] = own["key"].isin(core_keys) if core_keys else True
    rows.attrs = {"mirrors": ()}
    first_rows = rows[rows["core"]] if rows["core"].any() else rows
    first = pd.Timestamp(first_rows["start"].min())
    onset = _onset(rows, own, p)
    end = pd.Timestamp(rows["end"].max())
    lead = first_rows.sort_values(["start", "key"]).iloc[0]
    digest = hashlib.sha1(f"{lead['ref']}\x1f{lead['start'].isoformat()}".encode()).hexdigest()
    return Incident(id="I" + digest[:10], symptoms=rows, events=own.reset_index(drop=True),
                    first=first, onset=max(onset, first), end=end, core=core)


__all__ = ["EVENT_COLUMNS", "SYMPTOM_COLUMNS", "Incident", "IncidentParams", "group_incidents",
           "symptom_frames"]
