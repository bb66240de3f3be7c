"""The Alerts pane's analyzer: clusters alerts as they arrive and keeps the noise figures.

Each batch's alerts go to one incremental :class:`AlertClusterer` (templates, dedup by
fingerprint, situations, flapping); exact repeats -- same ``(id, status, ts)``, as an
Alertmanager re-notification or a file ingested twice -- are dropped first, exactly as
:mod:`opscockpit.store.alert_queries` drops them for the report. At most once a minute of
data time (and whenever an operator gives feedback) a :class:`NoiseStat` is derived, so
the figures are kept in the store. Operator feedback is read back from the store's
annotations on restore, and the clusterer's state is saved, so a restart resumes; alerts
stored after the last save (a crash) are fed again from the store on restore.

pandas, which the clusterer needs, is imported only once there is an alert to cluster:
a cockpit without alert sources never pays its ~90 MB.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from opscockpit.analyzers.alerts_view import (
    SEVERITY_RANK,
    AlertMember,
    AlertsView,
    ClusterView,
    NoiseFigures,
)
from opscockpit.analyzers.base import Analyzer
from opscockpit.records import NoiseStat
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from opscockpit.store.alert_queries import (
    FEEDBACK_KINDS,
    alert_keys_since,
    alert_window,
    alerts_by_id,
    cluster_feedback,
    has_alerts,
)

if TYPE_CHECKING:
    import pandas as pd

    from opscockpit.analysis.alert_clusters import AlertClusterer, ClusterParams
    from opscockpit.analysis.noise import NoiseSummary

log = logging.getLogger(__name__)

STATE_VERSION = 1
NO_ALERTS_RECHECK = timedelta(minutes=1)
_ROW_TEXT = ("id", "title", "message", "fingerprint", "host", "service", "severity", "status")
Feedback = tuple[datetime, str, str, str]  # ts, kind, target cluster, note


class AlertsAnalyzer(Analyzer):
    name = "alerts"

    def __init__(
        self,
        params: ClusterParams | None = None,
        *,
        stat_every: timedelta = timedelta(minutes=1),
        bucket_s: int = 60,
        buckets: int = 60,
        max_clusters: int = 200,
        member_cap: int = 50,
        catch_up_slack: timedelta = timedelta(hours=1),
    ) -> None:
        self.params = params
        self.stat_every = stat_every
        self.bucket_s = bucket_s
        self.buckets = buckets
        self.max_clusters = max_clusters
        self.member_cap = member_cap
        self.catch_up_slack = catch_up_slack
        # observe() runs in the intake's thread, view() in the snapshot's: one lock.
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._clusterer: AlertClusterer | None = None
        self._seen: set[str] = set()
        self._arrivals: dict[str, dict[int, int]] = {}  # cluster -> bucket -> alerts
        self._feedback: list[Feedback] = []
        self._last_stat: datetime | None = None
        self._version = 0
        self._cache: tuple[tuple[Any, ...], AlertsView] | None = None
        # When the store was last found without alerts: alerts reach it through observe
        # (which starts the clusterer), so it is asked again only once a minute.
        self._none_at: datetime | None = None
        self._members: dict[str, tuple[int, tuple[AlertMember, ...]]] = {}

    # --- learning ----------------------------------------------------------------
    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        feedback = [(a.ts, a.kind, a.target, a.text or "") for a in batch.annotations
                    if a.kind in FEEDBACK_KINDS]
        has_alerts_in = bool(batch.alerts) or len(batch.frames.get("alerts", ())) > 0
        if not feedback and not has_alerts_in:
            return None
        with self._lock:
            if feedback:
                self._feedback.extend(feedback)
                self._version += 1
            if has_alerts_in:
                self._feed(incoming_alerts(batch))
            stat = self._noise_stat(now, force=bool(feedback))
        return Batch(noise_stats=[stat]) if stat is not None else None

    def _feed(self, frame: pd.DataFrame) -> int:
        """Cluster the alerts of ``frame`` not seen before; returns how many were new."""
        from opscockpit.analysis.alert_clusters import AlertClusterer
        from opscockpit.analysis.flapping import event_seconds

        keys = alert_keys(frame)
        fresh = ~keys.duplicated() & ~keys.isin(self._seen)
        if not fresh.any():
            return 0
        frame, keys = frame[fresh.to_numpy()], keys[fresh]
        # The clusterer walks the rows in Python: plain objects iterate a third faster
        # than pandas' Arrow-backed strings.
        frame = frame.astype({c: object for c in _ROW_TEXT if c in frame.columns})
        if self._clusterer is None:
            self._clusterer = AlertClusterer(self.params)
        update = self._clusterer.add(frame)
        self._seen.update(keys)
        for dropped, survivor in update.merged.items():
            for bucket, n in self._arrivals.pop(dropped, {}).items():
                hist = self._arrivals.setdefault(survivor, {})
                hist[bucket] = hist.get(bucket, 0) + n
        # The clusterer places alerts in (event time, id) order: the same sort lines
        # its assignments up with the times.
        order = frame.assign(_t=event_seconds(frame).to_numpy()).sort_values(
            ["_t", "id"], kind="stable")
        touched: set[str] = set()
        for t, cid in zip(order["_t"], update.assignments["cluster_id"], strict=True):
            hist = self._arrivals.setdefault(cid, {})
            bucket = int(t // self.bucket_s)
            hist[bucket] = hist.get(bucket, 0) + 1
            touched.add(cid)
        newest = int(self._clusterer.state.now // self.bucket_s)
        for cid in touched:  # only the last hour of buckets can ever be drawn
            hist = self._arrivals[cid]
            for bucket in [b for b in hist if b <= newest - self.buckets]:
                del hist[bucket]
        self._version += 1
        return int(fresh.sum())

    def _noise_stat(self, now: datetime, force: bool) -> NoiseStat | None:
        if self._clusterer is None:
            return None
        if not force and self._last_stat is not None and now - self._last_stat < self.stat_every:
            return None
        _, summary = summarize(self._clusterer, len(self._seen), self._feedback)
        self._last_stat = now
        return NoiseStat(ts=now, alerts=summary.alerts, clusters=summary.clusters,
                         reduction_ratio=summary.reduction_ratio, flapping=summary.flapping,
                         marked_noise_share=summary.marked_noise_share)

    # --- persistence -------------------------------------------------------------
    def save(self, store: Store) -> None:
        with self._lock:
            if self._clusterer is None:
                return
            state = {
                "version": STATE_VERSION,
                "clusterer": self._clusterer.to_state(),
                "seen": sorted(self._seen),
                "arrivals": {c: {str(b): n for b, n in h.items()}
                             for c, h in self._arrivals.items() if h},
                "last_stat": None if self._last_stat is None else self._last_stat.isoformat(),
            }
            newest = self._clusterer.state.now
            at = _from_seconds(newest if newest != float("-inf") else 0.0)
        store.save_state(self.name, state, at)

    def restore(self, store: Store) -> None:
        with self._lock:
            self._none_at = None
            state = store.load_state(self.name)
            since: datetime | None = None
            if state is not None:
                try:
                    self._load(state)
                    since = self._watermark()
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("alert clusters: saved state unusable (%s), rebuilding", exc)
                    self._reset()
                    since = None
            self._feedback = list(cluster_feedback(store))
            self._version += 1
            # Alerts stored but never clustered (a crash after the last save, or a store
            # filled before this analyzer existed) are fed now, oldest first.
            missing = [ts for i, s, ts in alert_keys_since(store, since)
                       if alert_key(i, s, ts) not in self._seen]
            if missing:
                self._feed(alert_window(store, min(missing)))

    def _watermark(self) -> datetime | None:
        """Where catching up from the store starts: a margin before the newest alert."""
        if self._clusterer is None or self._clusterer.state.now == float("-inf"):
            return None
        return _from_seconds(self._clusterer.state.now) - self.catch_up_slack

    def _load(self, state: dict[str, Any]) -> None:
        from opscockpit.analysis.alert_clusters import AlertClusterer

        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown state version {state.get('version')!r}")
        self._clusterer = AlertClusterer.from_state(state["clusterer"])
        self._seen = set(state["seen"])
        self._arrivals = {c: {int(b): int(n) for b, n in h.items()}
                          for c, h in state["arrivals"].items()}
        last = state.get("last_stat")
        self._last_stat = datetime.fromisoformat(last) if last else None

    # --- the view ----------------------------------------------------------------
    def view(self, store: Store, now: datetime) -> AlertsView | None:
        with self._lock:
            if self._clusterer is None:
                none_at = self._none_at
                if none_at is not None and timedelta(0) <= now - none_at < NO_ALERTS_RECHECK:
                    return None
                if not has_alerts(store):
                    self._none_at = now
                    return None
                return AlertsView(at=now, bucket_s=self.bucket_s, clusters=(),
                                  noise=NoiseFigures(0, 0, 0.0, 0, 0.0),
                                  member_cap=self.member_cap)
            at = self._sparkline_end(now)
            key = (self._version, len(self._feedback), int(at.timestamp() // self.bucket_s))
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            built = self._build(store, at)
            self._cache = (key, built)
            return built

    def _sparkline_end(self, now: datetime) -> datetime:
        """The clock while it is within the sparkline of the data; else the newest alert.

        Live, arrivals scroll left as time passes; on imported history the sparklines end
        at the last alert instead of showing an hour of nothing.
        """
        assert self._clusterer is not None
        newest = self._clusterer.state.now
        span = self.buckets * self.bucket_s
        return now if newest <= now.timestamp() <= newest + span else _from_seconds(newest)

    def _build(self, store: Store, at: datetime) -> AlertsView:
        assert self._clusterer is not None
        clusters, summary = summarize(self._clusterer, len(self._seen), self._feedback)
        verdicts = cluster_verdicts(self._feedback, self._clusterer.state.find)
        rows = clusters.assign(_rank=clusters["severity"].map(SEVERITY_RANK).fillna(0))
        rows = rows.sort_values(["_rank", "last_seen", "size", "id"],
                                ascending=[False, False, False, True], kind="stable")
        rows = rows.head(self.max_clusters)
        members = self._fetch_members(store, rows)
        end = int(at.timestamp() // self.bucket_s)
        shown = []
        for row in rows.itertuples(index=False):
            hist = self._arrivals.get(row.id, {})
            verdict = verdicts.get(row.id, Verdict())
            shown.append(ClusterView(
                id=row.id, severity=row.severity, template=row.template,
                templates=tuple(row.templates), size=int(row.size), hosts=tuple(row.hosts),
                services=tuple(row.services), first_seen=row.first_seen.to_pydatetime(),
                last_seen=row.last_seen.to_pydatetime(), status=row.status,
                growing=bool(row.growing), rate_per_min=float(row.arrival_rate_per_min),
                arrivals=tuple(hist.get(b, 0) for b in range(end - self.buckets + 1, end + 1)),
                members=members.get(row.id, ()), mark=verdict.mark,
                acknowledged=verdict.acknowledged, note=verdict.note,
            ))
        marked = summary.per_cluster["marked"]
        noise = NoiseFigures(
            alerts=summary.alerts, clusters=summary.clusters,
            reduction_ratio=summary.reduction_ratio, flapping=summary.flapping,
            marked_noise_alert_share=summary.marked_noise_alert_share,
            noise_clusters=int((marked == "noise").sum()), marked=int((marked != "").sum()),
        )
        return AlertsView(at=at, bucket_s=self.bucket_s, clusters=tuple(shown), noise=noise,
                          member_cap=self.member_cap)

    def _fetch_members(self, store: Store, rows: pd.DataFrame) -> dict[str, tuple[AlertMember,
                                                                                    ...]]:
        """The newest members of each shown cluster; only clusters that grew are re-read."""
        want: dict[str, str] = {}
        for cid, size, ids in zip(rows["id"], rows["size"], rows["alert_ids"], strict=True):
            cached = self._members.get(cid)
            if cached is None or cached[0] != size:
                want.update((a, cid) for a in ids[-self.member_cap:])
        fetched: dict[str, list[AlertMember]] = {}
        for row in alerts_by_id(store, list(want)):
            fetched.setdefault(want[row[1]], []).append(member(row))
        shown, stale = set(rows["id"]), set(want.values())
        for cid, size in zip(rows["id"], rows["size"], strict=True):
            if cid in stale:
                self._members[cid] = (int(size), tuple(fetched.get(cid, ()))[: self.member_cap])
        for cid in [c for c in self._members if c not in shown]:
            del self._members[cid]
        return {cid: m for cid, (_, m) in self._members.items()}


# --- shared with the report: one way to count ------------------------------------------
@dataclass(frozen=True, slots=True)
class Verdict:
    mark: str = ""  # latest of actionable / noise
    acknowledged: bool = False
    note: str = ""


def summarize(clusterer: AlertClusterer, alerts: int,
              feedback: Sequence[Feedback]) -> tuple[pd.DataFrame, NoiseSummary]:
    """The clusters and noise figures of a clusterer, feedback resolved through merges."""
    import pandas as pd

    from opscockpit.analysis.noise import summarize_noise

    clusters = clusterer.clusters()
    find = clusterer.state.find
    notes = pd.DataFrame(
        [(ts, kind, _resolve(find, target)) for ts, kind, target, _ in feedback],
        columns=["ts", "kind", "target"],
    )
    return clusters, summarize_noise(clusters, alerts, notes)


def cluster_verdicts(feedback: Iterable[Feedback],
                     find: Callable[[str], str]) -> dict[str, Verdict]:
    """Per cluster: the latest verdict, whether acknowledged, the latest note (by time)."""
    out: dict[str, Verdict] = {}
    for _ts, kind, target, text in sorted(feedback, key=lambda f: f[0]):
        cid = _resolve(find, target)
        v = out.get(cid, Verdict())
        out[cid] = Verdict(
            mark=kind if kind in ("actionable", "noise") else v.mark,
            acknowledged=v.acknowledged or kind == "acknowledged",
            note=text or v.note,
        )
    return out


def _resolve(find: Callable[[str], str], target: str) -> str:
    """A mark on a cluster that was later merged applies to the cluster it merged into."""
    try:
        return find(target)
    except KeyError:
        return target


def incoming_alerts(batch: Batch) -> pd.DataFrame:
    """The batch's alerts as one frame: records and ready frames alike."""
    import pandas as pd

    from opscockpit.sources.alert_formats import alerts_frame

    parts = [f for f in (batch.frames.get("alerts"),) if f is not None and len(f)]
    if batch.alerts:
        parts.append(alerts_frame(batch.alerts))
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return frame.reset_index(drop=True)


def alert_keys(frame: pd.DataFrame) -> pd.Series:
    """``id, status, ts`` as one string per row: what makes two rows the same alert."""
    import pandas as pd

    us = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[us, UTC]").astype("int64")
    status = frame["status"].fillna("firing").astype(str)
    return frame["id"].astype(str) + "\x1f" + status + "\x1f" + us.astype(str)


def alert_key(alert_id: str, status: str | None, ts: datetime) -> str:
    us = round((ts - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    return f"{alert_id}\x1f{status or 'firing'}\x1f{us}"


def member(row: Sequence[Any]) -> AlertMember:
    ts, aid, _source, sev, host, service, title, message, labels, _fp, status, _ends = row
    return AlertMember(ts=ts, id=str(aid), severity=str(sev or "info"), host=host or "",
                       service=service or "", status=status or "firing", title=title or "",
                       message=message or "", labels=labels or "{}")


def _from_seconds(seconds: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
