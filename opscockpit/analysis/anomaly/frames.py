"""DataFrame entry points: a whole series in, scores or episodes out.

Both feed :class:`SeriesDetector` point by point, so a report built from stored history and
the engine scoring live points agree exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from opscockpit.analysis.anomaly.detector import DEFAULT_SENSITIVITY, SeriesDetector
from opscockpit.analysis.anomaly.episodes import Stamp

EPISODE_COLUMNS = ["start", "end", "peak_score", "peak_ts"]


def _points(frame: pd.DataFrame) -> Iterator[tuple[Stamp, float]]:
    stamps = frame["ts"]
    if pd.api.types.is_datetime64_any_dtype(stamps):
        ts_values: list[Stamp] = list(stamps)
    else:
        ts_values = [float(v) for v in stamps]
    yield from zip(ts_values, frame["value"].astype(float).tolist(), strict=True)


def score_series(
    frame: pd.DataFrame,
    sensitivity: float = DEFAULT_SENSITIVITY,
    detector: SeriesDetector | None = None,
) -> pd.Series:
    """Anomaly score in [0, 1] of each row of ``frame`` (columns ``ts``, ``value``, sorted).

    Pass ``detector`` (e.g. restored with :meth:`SeriesDetector.from_state`) to continue a
    stream instead of starting from zero; it is updated in place.
    """
    detector = detector or SeriesDetector(sensitivity)
    scores = [detector.update(ts, value) for ts, value in _points(frame)]
    return pd.Series(scores, index=frame.index, name="score", dtype=float)


def detect_episodes(
    frame: pd.DataFrame,
    sensitivity: float = DEFAULT_SENSITIVITY,
    detector: SeriesDetector | None = None,
) -> pd.DataFrame:
    """Anomaly episodes of a series: ``start``, ``end``, ``peak_score``, ``peak_ts``.

    An episode still open at the last row is included, ending there.
    """
    detector = detector or SeriesDetector(sensitivity)
    found = detector.pop_closed()
    for ts, value in _points(frame):
        detector.update(ts, value)
        found.extend(detector.pop_closed())
    if detector.open_episode is not None:
        found.append(detector.open_episode)
    rows = [(ep.start, ep.end, ep.peak_score, ep.peak_ts) for ep in found]
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS)
