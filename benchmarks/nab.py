"""Run opscockpit's streaming anomaly detector over the Numenta Anomaly Benchmark.

The detector runs with its shipped default sensitivity, the same for every file; a row counts
as a detection when an anomaly episode opens on it (the events the cockpit would raise).
Scores follow NAB's rules (see :mod:`benchmarks.nab_scoring`).

    python -m benchmarks.nab [--data DIR] [--labels FILE] [--limit-rows N] [--files K]

NAB data: Copyright 2014-2024 Numenta Inc., MIT licence (LICENSE-NAB.txt next to the data).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.nab_scoring import PROFILES, FileScore, Profile, normalised, score_file
from benchmarks.nab_scoring import window_indices as _window_indices
from opscockpit.analysis.anomaly import DEFAULT_SENSITIVITY, SeriesDetector

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab" / "data"
CATEGORIES = ("realKnownCause", "realAWSCloudwatch")


@dataclass(frozen=True)
class NabFile:
    category: str
    name: str
    frame: pd.DataFrame
    windows: list[tuple[int, int]]


def load_corpus(
    data: Path,
    labels: Path,
    categories: Sequence[str] = CATEGORIES,
    limit_rows: int | None = None,
    files: int | None = None,
) -> list[NabFile]:
    """The CSVs of each category (the first ``files`` of each, cut at ``limit_rows``)."""
    all_windows = json.loads(labels.read_text())
    out: list[NabFile] = []
    for category in categories:
        paths = sorted((data / category).glob("*.csv"))[:files]
        for path in paths:
            frame = pd.read_csv(path, nrows=limit_rows)
            frame["timestamp"] = pd.to_datetime(frame["timestamp"])
            key = f"{category}/{path.name}"
            windows = _window_indices(frame["timestamp"], all_windows.get(key, []))
            out.append(NabFile(category, path.name, frame, windows))
    return out


def detect(frame: pd.DataFrame, sensitivity: float = DEFAULT_SENSITIVITY) -> np.ndarray:
    """Rows on which the detector opens an episode."""
    detector = SeriesDetector(sensitivity)
    seconds = frame["timestamp"].to_numpy().astype("datetime64[ns]").astype("int64") / 1e9
    values = frame["value"].to_numpy(dtype=float)
    opened = np.zeros(len(frame), dtype=bool)
    for i in range(len(values)):
        detector.update(float(seconds[i]), float(values[i]))
        opened[i] = detector.opened
    return opened


def rolling_zscore(values: np.ndarray, window: int = 100) -> np.ndarray:
    """The trivial baseline for throughput: |z| of each value against the previous window."""
    padded = np.concatenate([np.full(window, values[0]), values])
    views = np.lib.stride_tricks.sliding_window_view(padded[:-1], window)
    mean = views.mean(axis=1)
    std = views.std(axis=1)
    return np.abs(values - mean) / np.where(std > 0, std, 1.0)


def run(corpus: Sequence[NabFile], sensitivity: float = DEFAULT_SENSITIVITY) -> dict[str, object]:
    scores: dict[tuple[str, str], list[FileScore]] = {}
    points = 0
    detector_s = baseline_s = 0.0
    per_file: list[tuple[str, str, int, int, int]] = []
    for item in corpus:
        started = time.perf_counter()
        detections = detect(item.frame, sensitivity)
        detector_s += time.perf_counter() - started
        started = time.perf_counter()
        rolling_zscore(item.frame["value"].to_numpy(dtype=float))
        baseline_s += time.perf_counter() - started
        points += len(item.frame)
        for profile in PROFILES:
            result = score_file(detections, item.windows, profile)
            scores.setdefault((item.category, profile.name), []).append(result)
            if profile.name == "standard":
                per_file.append((item.category, item.name, result.tp, result.fp, result.fn))
    return {
        "scores": scores,
        "points": points,
        "detector_s": detector_s,
        "baseline_s": baseline_s,
        "per_file": per_file,
    }


def table(result: dict[str, object], profiles: Sequence[Profile] = PROFILES) -> str:
    scores: dict[tuple[str, str], list[FileScore]] = result["scores"]  # type: ignore[assignment]
    categories = sorted({c for c, _ in scores}, key=lambda c: (c not in CATEGORIES, c))
    header = f"{'category':<20}" + "".join(f"{p.name:>16}" for p in profiles)
    lines = [header, "-" * len(header)]
    for category in [*categories, "all"]:
        cells = []
        for profile in profiles:
            items = [
                s
                for (c, name), group in scores.items()
                if name == profile.name and category in (c, "all")
                for s in group
            ]
            cells.append(f"{normalised(items):>16.1f}")
        lines.append(f"{category:<20}" + "".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--labels", type=Path, default=None)
    parser.add_argument("--limit-rows", type=int, default=None)
    parser.add_argument("--files", type=int, default=None, help="first K files per category")
    parser.add_argument("--per-file", action="store_true", help="also list TP/FP/FN per file")
    args = parser.parse_args(argv)
    labels = args.labels or args.data.parent / "labels" / "combined_windows.json"
    corpus = load_corpus(args.data, labels, limit_rows=args.limit_rows, files=args.files)
    if not corpus:
        print(f"no NAB files under {args.data}", file=sys.stderr)
        return 1
    result = run(corpus)
    print(f"NAB normalised scores, sensitivity {DEFAULT_SENSITIVITY} (shipped default)")
    print(table(result))
    if args.per_file:
        for category, name, tp, fp, fn in result["per_file"]:  # type: ignore[attr-defined]
            print(f"  {category}/{name}: tp={tp} fp={fp} fn={fn}")
    points = int(result["points"])  # type: ignore[call-overload]
    det_rate = points / max(float(result["detector_s"]), 1e-9)  # type: ignore[arg-type]
    base_rate = points / max(float(result["baseline_s"]), 1e-9)  # type: ignore[arg-type]
    print(
        f"throughput: detector {det_rate:,.0f} points/s, numpy rolling z-score "
        f"{base_rate:,.0f} points/s, ratio {det_rate / base_rate:.4f} over {points:,} points"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
