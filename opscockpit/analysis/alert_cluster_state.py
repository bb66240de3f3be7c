"""The bookkeeping behind :class:`~opscockpit.analysis.alert_clusters.AlertClusterer`.

Kept apart from the clustering rules so the rules read on one screen. Everything here is
plain data that round-trips through JSON.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from opscockpit.analysis.flapping import FlapTracker
    from opscockpit.analysis.templates import TemplateMiner

_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}
_MAX_WORDS = 512  # per cluster: enough to catch a service named in the text, bounded
CLUSTER_COLUMNS = [
    "id", "template", "templates", "template_ids", "size", "alert_ids", "fingerprints",
    "hosts", "services", "first_seen", "last_seen", "severity", "status",
    "arrival_rate_per_min", "growing",
]


@dataclass(slots=True)
class Cluster:
    id: str
    first_seen: float
    last_seen: float
    alert_ids: list[str] = field(default_factory=list)
    templates: Counter[str] = field(default_factory=Counter)
    hosts: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    fp_status: dict[str, str] = field(default_factory=dict)
    flapping_fps: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    severity: str = "info"
    recent: deque[float] = field(default_factory=deque)

    @property
    def size(self) -> int:
        return len(self.alert_ids)

    def add(self, row: dict[str, Any], t: float, tid: str, words: set[str],
            flapping: bool) -> None:
        self.alert_ids.append(str(row["id"]))
        self.templates[tid] += 1
        if row["host"]:
            self.hosts[row["host"]] += 1
        if row["service"]:
            self.services[row["service"]] += 1
        fp = row["fingerprint"]
        self.fp_status[fp] = str(row["status"] or "firing")
        if flapping:
            self.flapping_fps.add(fp)
        if len(self.words) < _MAX_WORDS:
            self.words |= words
        sev = str(row["severity"] or "info")
        if _RANK.get(sev, 0) > _RANK.get(self.severity, 0):
            self.severity = sev
        self.first_seen = min(self.first_seen, t)
        self.last_seen = max(self.last_seen, t)
        self.recent.append(t)

    def absorb(self, other: Cluster) -> None:
        self.alert_ids.extend(other.alert_ids)
        self.templates.update(other.templates)
        self.hosts.update(other.hosts)
        self.services.update(other.services)
        self.fp_status.update(other.fp_status)
        self.flapping_fps |= other.flapping_fps
        self.words |= other.words
        if _RANK.get(other.severity, 0) > _RANK.get(self.severity, 0):
            self.severity = other.severity
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)
        self.recent = deque(sorted([*self.recent, *other.recent]))

    def trim_recent(self, since: float) -> None:
        while self.recent and self.recent[0] < since:
            self.recent.popleft()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "first_seen": self.first_seen, "last_seen": self.last_seen,
            "alert_ids": self.alert_ids, "templates": dict(self.templates),
            "hosts": dict(self.hosts), "services": dict(self.services),
            "fp_status": self.fp_status, "flapping_fps": sorted(self.flapping_fps),
            "words": sorted(self.words), "severity": self.severity,
            "recent": list(self.recent),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cluster:
        return cls(
            id=d["id"], first_seen=float(d["first_seen"]), last_seen=float(d["last_seen"]),
            alert_ids=list(d["alert_ids"]), templates=Counter(d["templates"]),
            hosts=Counter(d["hosts"]), services=Counter(d["services"]),
            fp_status=dict(d["fp_status"]), flapping_fps=set(d["flapping_fps"]),
            words=set(d["words"]), severity=d["severity"], recent=deque(d["recent"]),
        )


@dataclass(slots=True)
class ClusterState:
    clusters: dict[str, Cluster] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)  # merged id -> surviving id
    open: dict[str, float] = field(default_factory=dict)  # active cluster -> last seen
    fp_home: dict[str, tuple[str, float]] = field(default_factory=dict)
    tpl_home: dict[str, tuple[str, float]] = field(default_factory=dict)
    cooc: dict[str, int] = field(default_factory=dict)
    pair_last: dict[str, float] = field(default_factory=dict)
    active_templates: dict[str, float] = field(default_factory=dict)
    now: float = float("-inf")
    merged_log: dict[str, str] = field(default_factory=dict)

    def find(self, cid: str) -> str:
        root = cid
        while root in self.alias:
            root = self.alias[root]
        while cid != root:  # path compression keeps lookups O(1) amortised
            nxt = self.alias[cid]
            self.alias[cid] = root
            cid = nxt
        return root

    def new_cluster(self, cid: str, t: float) -> str:
        base, n = cid, 1
        while cid in self.clusters or cid in self.alias:
            n += 1
            cid = f"{base}~{n}"
        self.clusters[cid] = Cluster(cid, t, t)
        return cid

    def merge(self, a: str, b: str) -> str:
        """Merge two clusters; the older one (then the smaller id) keeps its id."""
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        ca, cb = self.clusters[a], self.clusters[b]
        keep, drop = (ca, cb) if (ca.first_seen, ca.id) <= (cb.first_seen, cb.id) else (cb, ca)
        keep.absorb(drop)
        del self.clusters[drop.id]
        self.alias[drop.id] = keep.id
        self.merged_log[drop.id] = keep.id
        last = max(self.open.pop(drop.id, float("-inf")), self.open.get(keep.id, float("-inf")))
        self.open[keep.id] = last
        return keep.id

    def prune_open(self, since: float) -> None:
        for cid in [c for c, last in self.open.items() if last < since]:
            del self.open[cid]

    def open_ids(self) -> list[str]:
        # Oldest first, so a bridging alert joins the situation that started earliest.
        return sorted(self.open, key=lambda c: (self.clusters[c].first_seen, c))

    def touch_open(self, cid: str, t: float) -> None:
        self.open[cid] = max(t, self.open.get(cid, float("-inf")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "clusters": [c.to_dict() for c in self.clusters.values()],
            "alias": self.alias, "open": self.open,
            "fp_home": {k: list(v) for k, v in self.fp_home.items()},
            "tpl_home": {k: list(v) for k, v in self.tpl_home.items()},
            "cooc": self.cooc, "pair_last": self.pair_last,
            "active_templates": self.active_templates,
            "now": None if self.now == float("-inf") else self.now,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClusterState:
        clusters = [Cluster.from_dict(c) for c in d["clusters"]]
        return cls(
            clusters={c.id: c for c in clusters}, alias=dict(d["alias"]), open=dict(d["open"]),
            fp_home={k: (v[0], float(v[1])) for k, v in d["fp_home"].items()},
            tpl_home={k: (v[0], float(v[1])) for k, v in d["tpl_home"].items()},
            cooc=dict(d["cooc"]), pair_last=dict(d["pair_last"]),
            active_templates=dict(d["active_templates"]),
            now=float("-inf") if d["now"] is None else float(d["now"]),
        )


def _status(c: Cluster) -> str:
    if c.flapping_fps:
        return "flapping"
    if c.fp_status and all(s == "resolved" for s in c.fp_status.values()):
        return "resolved"
    return "open"


def _growing(last: int, prev: int, covered: float, window: float) -> bool:
    """Arrivals in the last window beat the window before by 20%, rate for rate.

    The earlier window may be only partly covered by the cluster's life; a cluster too
    young to have a meaningful earlier window counts as growing while it is active.
    """
    covered = min(max(covered, 0.0), window)
    if last < 2:
        return False
    if covered < window / 4:
        return True
    return last / window > 1.2 * prev / covered


def _ts(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(round(seconds * 1e6), unit="us", tz="UTC")


def cluster_frame(state: ClusterState, miner: TemplateMiner, flaps: FlapTracker,
                  rate_window_s: float) -> pd.DataFrame:
    """The clusters as the report and the UI show them, most important first.

    ``arrival_rate_per_min`` counts the alerts of the last ``rate_window_s`` before the
    newest alert seen; ``growing`` compares that window's rate with the one before it.
    """
    now = state.now
    rows = []
    for c in state.clusters.values():
        c.trim_recent(now - 2 * rate_window_s)
        last = sum(1 for t in c.recent if t > now - rate_window_s)
        prev = len(c.recent) - last
        flapping = {fp for fp in c.fp_status if flaps.is_flapping(fp)} | c.flapping_fps
        c.flapping_fps = flapping
        ranked = [tid for tid, _ in c.templates.most_common()]
        texts = [miner.template(tid) for tid in ranked]
        rows.append({
            "id": c.id,
            "template": texts[0] if texts else "",
            "templates": texts,
            "template_ids": ranked,
            "size": c.size,
            "alert_ids": list(c.alert_ids),
            "fingerprints": len(c.fp_status),
            "hosts": [h for h, _ in c.hosts.most_common()],
            "services": [s for s, _ in c.services.most_common()],
            "first_seen": _ts(c.first_seen),
            "last_seen": _ts(c.last_seen),
            "severity": c.severity,
            "status": _status(c),
            "arrival_rate_per_min": last / (rate_window_s / 60.0),
            "growing": _growing(last, prev, now - rate_window_s - c.first_seen, rate_window_s),
            "_rank": _RANK.get(c.severity, 0),
        })
    frame = pd.DataFrame(rows, columns=[*CLUSTER_COLUMNS, "_rank"])
    frame = frame.sort_values(["_rank", "size", "last_seen", "id"],
                              ascending=[False, False, False, True], kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)
