"""Score every metric series as it arrives; anomaly episodes become events and alerts.

One streaming detector per series (host, metric). An episode that opens raises an
alert (source ``anomaly``) into the alert stream; when it closes it is stored in the
``anomalies`` table and its alert resolves. Detector state is saved in the store, so
a restart, an ingest in several runs, or a replay continues where it left off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opscockpit.analysis.anomaly import DEFAULT_SENSITIVITY, Episode, SeriesDetector
from opscockpit.analyzers.base import Analyzer
from opscockpit.records import Alert, Anomaly, Severity
from opscockpit.sources.base import Batch
from opscockpit.store import Store
from opscockpit.store.anomaly_queries import recent_anomalies

# Per-core CPU duplicates the total; byte gauges duplicate their percentages.
SKIPPED_PREFIXES = ("cpu_pct{core=", "mem_total_bytes", "mem_used_bytes", "swap_used_bytes",
                    "disk_used_bytes")
STATE_KEY = "anomalies"
RECENT_REFRESH = timedelta(minutes=1)
log = logging.getLogger(__name__)


def series_name(host: str, metric: str) -> str:
    """File stem for a ``timestamp,value`` CSV (no host), else ``host/metric`` (DESIGN.md)."""
    return f"{host}/{metric}" if host else metric


@dataclass(frozen=True, slots=True)
class AnomalyMark:
    series: str
    host: str
    metric: str
    start: datetime
    end: datetime | None
    peak_score: float
    reason: str = ""

    @property
    def open(self) -> bool:
        return self.end is None


@dataclass(frozen=True, slots=True)
class AnomaliesView:
    open: tuple[AnomalyMark, ...]
    recent: tuple[AnomalyMark, ...]

    def for_host(self, host: str) -> dict[str, AnomalyMark]:
        """Each anomalous metric of ``host``: open episodes win over closed ones."""
        marks = {m.metric: m for m in self.recent if m.host == host}
        marks.update({m.metric: m for m in self.open if m.host == host})
        return marks


class AnomalyAnalyzer(Analyzer):
    name = "anomalies"

    def __init__(self, sensitivity: float = DEFAULT_SENSITIVITY,
                 recent: timedelta = timedelta(hours=1)) -> None:
        self.sensitivity = sensitivity
        self.recent = recent
        self.detectors: dict[tuple[str, str], SeriesDetector] = {}
        self.reasons: dict[tuple[str, str], str] = {}
        # The recent episodes as last read from the store, and when: re-read once episodes
        # change or the hour has moved on by a minute (not on every snapshot).
        self._recent: tuple[datetime, tuple[AnomalyMark, ...]] | None = None

    def observe(self, batch: Batch, now: datetime) -> Batch | None:
        # Each series is scored in one call (an ingest or a replay hands over thousands of
        # points at once); what the episodes raise is then put back in the batch's time
        # order, as if the points had come one by one.
        series: dict[tuple[str, str], tuple[list[int], list[float], list[float]]] = {}
        for position, (host, metric, seconds, value) in enumerate(_points(batch)):
            if metric.startswith(SKIPPED_PREFIXES):
                continue
            key = (host, metric)
            points = series.get(key)
            if points is None:
                points = series[key] = ([], [], [])
            points[0].append(position)
            points[1].append(seconds)
            points[2].append(value)
        # (position in the batch, 0 closes / 1 opens, key, episode, value, reason)
        events: list[tuple[int, int, tuple[str, str], Episode, float, str]] = []
        for key, (positions, seconds, values) in series.items():
            detector = self.detectors.get(key)
            if detector is None:
                detector = self.detectors[key] = SeriesDetector(self.sensitivity)
            scored = detector.update_many(seconds, values)
            # A stronger onset can close the open episode and open a new one at the same
            # point: the old one resolves first, so its alert does not outlive the new one's.
            events.extend((positions[i], 0, key, episode, values[i], "")
                          for i, episode in scored.closed)
            events.extend((positions[i], 1, key, Episode(seconds[i], seconds[i],
                                                         scored.scores[i], seconds[i]),
                           values[i], reason)
                          for i, reason in scored.opened)
        events.sort(key=lambda e: (e[0], e[1]))
        derived = Batch()
        for _, opens, key, episode, value, reason in events:
            if opens:
                self.reasons[key] = reason
                derived.alerts.append(_alert(key, episode, value, reason))
            else:
                derived.anomalies.append(_anomaly(key, episode, closed=True))
                derived.alerts.append(_alert(key, episode, value, self.reasons.get(key, ""),
                                             resolved=True))
        if derived.anomalies:
            self._recent = None
        return derived if len(derived) else None

    def open_episodes(self) -> list[AnomalyMark]:
        marks = []
        for (host, metric), detector in self.detectors.items():
            episode = detector.open_episode
            if episode is not None:
                marks.append(AnomalyMark(series_name(host, metric), host, metric,
                                         _dt(episode.start), None, episode.peak_score,
                                         self.reasons.get((host, metric), "")))
        return sorted(marks, key=lambda m: (-m.peak_score, m.series))

    def view(self, store: Store, now: datetime) -> AnomaliesView:
        cached = self._recent
        if cached is None or not timedelta(0) <= now - cached[0] < RECENT_REFRESH:
            cached = self._recent = (now, tuple(
                AnomalyMark(series, host, metric, start, end, peak)
                for series, host, metric, start, end, peak in recent_anomalies(
                    store, now - self.recent, now)
            ))
        return AnomaliesView(open=tuple(self.open_episodes()), recent=cached[1])

    def save(self, store: Store) -> None:
        states = {f"{host}\t{metric}": d.to_state() for (host, metric), d in self.detectors.items()}
        store.save_state(STATE_KEY, {"sensitivity": self.sensitivity, "series": states,
                                     "reasons": {f"{h}\t{m}": r
                                                 for (h, m), r in self.reasons.items()}},
                         datetime.now(UTC))
        # Episodes still open are stored without an end, so a report made now lists them.
        open_now = [
            _anomaly(key, d.open_episode, closed=False)
            for key, d in self.detectors.items() if d.open_episode is not None
        ]
        if open_now:
            store.append(Batch(anomalies=open_now), origin="derived")
            self._recent = None

    def restore(self, store: Store) -> None:
        self._recent = None
        state = store.load_state(STATE_KEY)
        if not state or state.get("sensitivity") != self.sensitivity:
            return  # another sensitivity learned other episodes: start afresh
        detectors: dict[tuple[str, str], SeriesDetector] = {}
        try:
            for joined, detector_state in state.get("series", {}).items():
                host, _, metric = joined.partition("\t")
                detectors[(host, metric)] = SeriesDetector.from_state(detector_state)
        except (ValueError, KeyError, TypeError) as exc:
            # State from another detector version: relearning beats refusing to start.
            log.warning("anomaly state not restored (%s); detectors start afresh", exc)
            return
        self.detectors.update(detectors)
        for joined, reason in state.get("reasons", {}).items():
            host, _, metric = joined.partition("\t")
            self.reasons[(host, metric)] = reason


def _points(batch: Batch) -> Iterator[tuple[str, str, float, float]]:
    """Every sample of the batch as (host, metric, epoch seconds, value), in time order."""
    points = [(m.host, m.metric, m.ts.timestamp(), m.value) for m in batch.metrics]
    frame = batch.frames.get("metrics")
    if frame is not None and len(frame):
        seconds = frame["ts"].astype("datetime64[ns, UTC]").astype("int64") / 1e9
        points.extend(zip(frame["host"].astype(str), frame["metric"].astype(str),
                          seconds.tolist(), frame["value"].astype(float).tolist(), strict=True))
    points.sort(key=lambda p: p[2])
    yield from points


def _dt(stamp: Any) -> datetime:
    return stamp if isinstance(stamp, datetime) else datetime.fromtimestamp(float(stamp), UTC)


def _anomaly(key: tuple[str, str], episode: Episode, *, closed: bool) -> Anomaly:
    host, metric = key
    start = _dt(episode.start)
    return Anomaly(ts=start, series=series_name(host, metric), host=host, metric=metric,
                   start=start, end=_dt(episode.end) if closed else None,
                   peak_score=round(float(episode.peak_score), 4), peak_ts=_dt(episode.peak_ts))


def _alert(key: tuple[str, str], episode: Episode, value: float, reason: str, *,
           resolved: bool = False) -> Alert:
    host, metric = key
    series = series_name(host, metric)
    start = _dt(episode.start)
    ts = _dt(episode.end) if resolved else start
    why = f" ({reason})" if reason else ""
    return Alert(
        ts=ts,
        id=f"anomaly:{series}:{start.isoformat()}" + (":resolved" if resolved else ""),
        source="anomaly",
        severity=Severity.ERROR if episode.peak_score >= 0.9 else Severity.WARNING,
        host=host,
        service="",
        title=f"{metric} anomaly",
        message=(f"on {host or series} ended{why}; peak score {episode.peak_score:.2f}"
                 if resolved else f"on {host or series}: {value:g} is unusual{why}"),
        labels={"alertname": "MetricAnomaly", "series": series, "metric": metric},
        fingerprint=f"anomaly:{series}",
        status="resolved" if resolved else "firing",
        ends_at=_dt(episode.end) if resolved else None,
    )
