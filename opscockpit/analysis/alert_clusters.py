"""Alert clusters: an alert storm of hundreds of alerts reads as a handful of situations.

Two levels of grouping, both online:

1. *Shape*: repeats of one alert share a fingerprint, and alerts of the same shape share a
   mined template (:mod:`opscockpit.analysis.templates`). An alert whose fingerprint, or
   whose template on the same service, already has a cluster within ``horizon_s`` goes
   there: that is what keeps a steady background (a disk warning every ten minutes, a
   nightly job) one item instead of a new one per burst.
2. *Situation*: a new shape joins, and bridges, the clusters that were active within
   ``link_gap_s`` **and** are related to it: same service or host, one names the other's
   service or host in its text, an operator-declared dependency, or templates that have
   burst together in at least ``min_cooccur`` earlier episodes (learned online). Time
   alone never links: two independent storms at the same minute stay two.

A cluster that is a slow repeat of one shape (``steady``) or is flapping never absorbs
other shapes, so a storm on the same service does not swallow the background.

Every alert costs O(its tokens + the clusters active at its time); nothing is recomputed
over history. Data time only: "now" is the newest alert seen.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from opscockpit.analysis.alert_cluster_state import ClusterState, cluster_frame
from opscockpit.analysis.flapping import FlapParams, FlapTracker, event_seconds
from opscockpit.analysis.templates import MinerParams, TemplateMiner

_WORD = re.compile(r"[A-Za-z][\w.-]*[A-Za-z0-9]|[A-Za-z]")
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class ClusterParams:
    link_gap_s: float = 300.0
    horizon_s: float = 6 * 3600.0
    min_cooccur: int = 3
    rate_window_s: float = 300.0
    steady_min_alerts: int = 3
    related_services: tuple[tuple[str, str], ...] = ()  # operator topology, both directions
    max_active_templates: int = 256
    flap: FlapParams = field(default_factory=FlapParams)
    miner: MinerParams = field(default_factory=MinerParams)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["related_services"] = [list(p) for p in self.related_services]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClusterParams:
        d = dict(d)
        d["related_services"] = tuple(tuple(p) for p in d.get("related_services", ()))
        d["flap"] = FlapParams(**d["flap"])
        d["miner"] = MinerParams(**d["miner"])
        return cls(**d)


@dataclass(frozen=True, slots=True)
class ClusterUpdate:
    """What one :meth:`AlertClusterer.add` did."""

    assignments: pd.DataFrame  # id, cluster_id (final after this add), template_id
    new: list[str]
    changed: list[str]
    merged: dict[str, str]  # absorbed cluster id -> surviving id


def alert_text(title: str, message: str) -> str:
    """The text a template is mined from: the title, and the message when it adds to it."""
    title, message = title or "", message or ""
    if not message or message == title:
        return title
    if message.startswith(title):
        return message
    return f"{title} {message}"


class AlertClusterer:
    """Online clustering of alerts into situations; see the module docstring."""

    def __init__(self, params: ClusterParams | None = None) -> None:
        self.params = params or ClusterParams()
        self.miner = TemplateMiner(self.params.miner)
        self.flaps = FlapTracker(self.params.flap)
        self.state = ClusterState()
        rel: dict[str, set[str]] = {}
        for a, b in self.params.related_services:
            rel.setdefault(a, set()).add(b)
            rel.setdefault(b, set()).add(a)
        self._related_services = rel

    # -- relations ------------------------------------------------------------------------
    def _related(self, cid: str, tid: str, host: str, service: str, words: set[str]) -> bool:
        c = self.state.clusters[cid]
        if (service and service in c.services) or (host and host in c.hosts):
            return True
        if (service and service in c.words) or (host and host in c.words):
            return True
        if words & (c.services.keys() | c.hosts.keys()):
            return True
        if service and self._related_services.get(service, set()) & c.services.keys():
            return True
        cooc = self.state.cooc
        need = self.params.min_cooccur
        return any(cooc.get(_pair(tid, u), 0) >= need for u in c.templates if u != tid)

    def _learn_cooccurrence(self, tid: str, t: float) -> None:
        st, gap = self.state, self.params.link_gap_s
        for u, last in list(st.active_templates.items()):
            if t - last > gap:
                del st.active_templates[u]
                continue
            if u == tid:
                continue
            key = _pair(tid, u)
            # One count per episode: a pair bursting together for an hour is one episode.
            if t - st.pair_last.get(key, float("-inf")) > gap:
                st.cooc[key] = st.cooc.get(key, 0) + 1
            st.pair_last[key] = t
        st.active_templates.pop(tid, None)
        st.active_templates[tid] = t
        while len(st.active_templates) > self.params.max_active_templates:
            del st.active_templates[next(iter(st.active_templates))]

    # -- one alert ------------------------------------------------------------------------
    def _place(self, row: dict[str, Any], t: float, tid: str) -> str:
        st, p = self.state, self.params
        fp, host, service = row["fingerprint"], row["host"], row["service"]
        text = alert_text(row["title"], row["message"])
        words = {w.lower() for w in _WORD.findall(text)}
        home: str | None = None
        hit = st.fp_home.get(fp)
        if hit and t - hit[1] <= p.horizon_s:
            home = st.find(hit[0])
        else:
            hit = st.tpl_home.get(_tpl_key(tid, service or host))
            if hit and t - hit[1] <= p.horizon_s:
                home = st.find(hit[0])
        st.prune_open(t - p.link_gap_s)
        candidates = [
            cid for cid in st.open_ids()
            if cid != home and not self._closed_to_others(cid)
            and self._related(cid, tid, host, service, words)
        ]
        if home is not None and self._closed_to_others(home):
            candidates = []
        if home is None and candidates:
            home, candidates = candidates[0], candidates[1:]
        if home is None:
            home = st.new_cluster(_cluster_id(str(row["id"]), tid), t)
        for other in candidates:
            home = st.merge(home, other)
        st.clusters[home].add(row, t, tid, words, self.flaps.is_flapping(fp))
        st.fp_home[fp] = (home, t)
        st.tpl_home[_tpl_key(tid, service or host)] = (home, t)
        st.touch_open(home, t)
        return home

    def _closed_to_others(self, cid: str) -> bool:
        c = self.state.clusters[cid]
        if c.flapping_fps:
            return True
        if len(c.templates) != 1 or c.size < self.params.steady_min_alerts:
            return False
        mean_gap = (c.last_seen - c.first_seen) / (c.size - 1)
        return mean_gap >= self.params.link_gap_s / 2

    # -- public API -----------------------------------------------------------------------
    def add(self, alerts: pd.DataFrame) -> ClusterUpdate:
        """Cluster new alerts (any order within the frame; frames should arrive in time order)."""
        st = self.state
        if alerts.empty:
            empty = pd.DataFrame(columns=["id", "cluster_id", "template_id"])
            return ClusterUpdate(empty, [], [], {})
        frame = alerts.assign(_t=event_seconds(alerts).to_numpy())
        frame = frame.sort_values(["_t", "id"], kind="stable")
        before = set(st.clusters)
        st.merged_log = {}
        ids: list[str] = []
        placed: list[str] = []
        tids: list[str] = []
        touched: set[str] = set()
        cols = ["id", "title", "message", "fingerprint", "host", "service", "severity", "status"]
        for values in zip(*(frame[c] for c in cols), frame["_t"], strict=True):
            row = dict(zip(cols, values[:-1], strict=True))
            row = {k: ("" if v is None or (isinstance(v, float) and v != v) else v)
                   for k, v in row.items()}
            t = float(values[-1])
            tid = self.miner.add(alert_text(row["title"], row["message"])).template_id
            self.flaps.observe(row["fingerprint"], t, str(row["status"] or "firing"))
            self._learn_cooccurrence(tid, t)
            cid = self._place(row, t, tid)
            st.now = max(st.now, t)
            ids.append(str(row["id"]))
            placed.append(cid)
            tids.append(tid)
            touched.add(cid)
        final = [st.find(c) for c in placed]
        merged = {k: st.find(v) for k, v in st.merged_log.items()}
        survivors = {st.find(c) for c in touched}
        new = sorted(c for c in survivors if c not in before)
        changed = sorted(c for c in survivors if c in before)
        assignments = pd.DataFrame({"id": ids, "cluster_id": final, "template_id": tids})
        return ClusterUpdate(assignments, new, changed, merged)

    def clusters(self) -> pd.DataFrame:
        """One row per cluster, most important first (see :func:`cluster_frame`)."""
        return cluster_frame(self.state, self.miner, self.flaps, self.params.rate_window_s)

    def assignments(self) -> pd.DataFrame:
        """``id, cluster_id`` for every alert seen."""
        rows = [(a, cid) for cid, c in self.state.clusters.items() for a in c.alert_ids]
        return pd.DataFrame(rows, columns=["id", "cluster_id"])

    def to_state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "params": self.params.to_dict(),
            "miner": self.miner.to_state(),
            "flaps": self.flaps.to_state(),
            "clusters": self.state.to_dict(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AlertClusterer:
        if state.get("version") != 1:
            raise ValueError(f"unknown clusterer state version {state.get('version')!r}")
        obj = cls(ClusterParams.from_dict(state["params"]))
        obj.miner = TemplateMiner.from_state(state["miner"])
        obj.flaps = FlapTracker.from_state(state["flaps"])
        obj.state = ClusterState.from_dict(state["clusters"])
        return obj


def cluster_alerts(frame: pd.DataFrame, params: ClusterParams | None = None) -> pd.DataFrame:
    """The clusters of ``frame`` in one call; the same as feeding it to an AlertClusterer."""
    clusterer = AlertClusterer(params)
    clusterer.add(frame)
    return clusterer.clusters()


def _pair(a: str, b: str) -> str:
    return f"{a}|{b}" if a < b else f"{b}|{a}"


def _tpl_key(tid: str, where: str) -> str:
    return f"{tid}|{where}"


def _cluster_id(first_alert_id: str, tid: str) -> str:
    return "C" + hashlib.sha1(f"{first_alert_id}\x1f{tid}".encode()).hexdigest()[:10]


def severity_rank(severity: str) -> int:
    return _SEVERITY_RANK.get(severity, 0)


__all__ = [
    "AlertClusterer", "ClusterParams", "ClusterUpdate", "alert_text", "cluster_alerts",
    "severity_rank",
]
