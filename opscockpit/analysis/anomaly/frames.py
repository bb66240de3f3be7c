"""DataFrame entry points: a whole series in, scores or episodes out.

Both feed :class:`SeriesDetector` the whole series in one call, which scores it point by
point exactly as the engine scores live points, so a report built from stored history and
the live cockpit agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from opscockpit.analysis.anomaly.detector import DEFAULT_SENSITIVITY, SeriesDetector
from opscockpit.analysis.anomaly.episodes import Stamp, stamp_seconds

EPISODE_COLUMNS = ["start", "end", "peak_score", "peak_ts"]


def _points(frame: pd.DataFrame) -> tuple[Any, Any, Sequence[Stamp] | None]:
    """(epoch seconds, values, stamps episodes carry or None for the seconds themselves)."""
    stamps = frame["ts"]
    values = frame["value"].to_numpy(dtype=float)
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        return stamps.to_numpy(dtype=float), values, None
    nanos = stamps.to_numpy(dtype="datetime64[ns]").astype("int64")
    if (nanos % 1_000_000_000 == 0).all():
        # Whole seconds (nearly every metric): exact, whatever way they are computed.
        seconds = (nanos // 1_000_000_000).astype(float)
    else:
        seconds = np.array([stamp_seconds(ts) for ts in stamps], dtype=float)
    return seconds, values, stamps.array


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
    scored = detector.update_many(*_points(frame))
    return pd.Series(np.frombuffer(scored.scores), index=frame.index, name="score", dtype=float)


def detect_episodes(
    frame: pd.DataFrame,
    sensitivity: float = DEFAULT_SENSITIVITY,
    detector: SeriesDetector | None = None,
) -> pd.DataFrame:
    """Anomaly episodes of a series: ``start``, ``end``, ``peak_score``, ``peak_ts``.

    An episode still open at the last row is included, ending there.
    """
    detector = detector or SeriesDetector(sensitivity)
    found = detector.pop_closed()  # any left by earlier point-by-point updates
    found += [episode for _, episode in detector.update_many(*_points(frame)).closed]
    if detector.open_episode is not None:
        found.append(detector.open_episode)
    rows = [(ep.start, ep.end, ep.peak_score, ep.peak_ts) for ep in found]
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS)
