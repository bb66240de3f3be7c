"""Streaming anomaly detection for metric series, and the episodes it raises."""

from typing import Any

from opscockpit.analysis.anomaly.detector import DEFAULT_SENSITIVITY, SeriesDetector
from opscockpit.analysis.anomaly.episodes import Episode, EpisodeTracker

__all__ = [
    "DEFAULT_SENSITIVITY",
    "Episode",
    "EpisodeTracker",
    "SeriesDetector",
    "detect_episodes",
    "score_series",
]


def __getattr__(name: str) -> Any:
    # The frame helpers need pandas; the live cockpit scores point by point without it.
    if name in {"detect_episodes", "score_series"}:
        from opscockpit.analysis.anomaly import frames

        return getattr(frames, name)
    raise AttributeError(name)
