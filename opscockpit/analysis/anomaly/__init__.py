"""Streaming anomaly detection for metric series, and the episodes it raises."""

from opscockpit.analysis.anomaly.detector import DEFAULT_SENSITIVITY, SeriesDetector
from opscockpit.analysis.anomaly.episodes import Episode, EpisodeTracker
from opscockpit.analysis.anomaly.frames import detect_episodes, score_series

__all__ = [
    "DEFAULT_SENSITIVITY",
    "Episode",
    "EpisodeTracker",
    "SeriesDetector",
    "detect_episodes",
    "score_series",
]
