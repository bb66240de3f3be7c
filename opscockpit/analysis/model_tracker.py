"""Health of one model version as its rows arrive: each window is judged once, when it closes.

The batch functions of :mod:`opscockpit.analysis.model_health` recompute every window from all
rows. A tracker prepares the reference once (sorted values, counts, profiles, the band), keeps
the rows of the window still open, and judges a window when the next one begins (time windows)
or when it is full (row-count windows). The open window is judged provisionally, only when a
health is asked for, so the latest figures show before the window closes. Per closed window
it keeps its verdict and the few columns performance needs, so labels that arrive late can
be scored without the features. The result for the same rows is the batch one: the same
windows, the same tests, the same :func:`~opscockpit.analysis.model_health.assemble`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from opscockpit.analysis.drift import PreparedReference, Window, window_bounds
from opscockpit.analysis.model_health import (
    Baseline,
    HealthSettings,
    ModelHealth,
    WindowVerdict,
    assemble,
    judge_window,
    make_baseline,
)
from opscockpit.analysis.model_performance import detect_task, window_metrics

SLIM = ("ts", "record_id", "prediction", "score", "label")
MAX_WINDOWS = 500  # older windows are forgotten: memory and assembly stay bounded


@dataclass(frozen=True, slots=True)
class Distribution:
    """Reference and current shares over the same bins, for drawing one beside the other."""

    feature: str
    kind: str  # "num" or "cat"
    bins: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    current_rows: int


class ModelTracker:
    def __init__(
        self, model: str, version: str, reference: pd.DataFrame, settings: HealthSettings,
        sample: pd.DataFrame | None = None, max_windows: int = MAX_WINDOWS,
    ) -> None:
        self.model = model
        self.version = version
        self.settings = settings
        self.max_windows = max_windows
        reference = reference.sort_values("ts", kind="stable", ignore_index=True)
        # Columns and task come from the current rows when some exist (as in the batch
        # path); before any, the reference stands in for them.
        self.base: Baseline = make_baseline(
            reference, sample if sample is not None and len(sample) else reference, settings)
        self._task_from_labels = _has_labels(reference) or (
            sample is not None and _has_labels(sample))
        self.reference_range = (reference["ts"].iloc[0], reference["ts"].iloc[-1]) \
            if len(reference) else (None, None)
        self.verdicts: list[WindowVerdict] = []
        self.slim = pd.DataFrame({c: pd.Series(dtype=object) for c in (*SLIM, "window")})
        self.open = reference.iloc[:0]
        self.last_closed = reference.iloc[:0]
        self.next_index = 0
        self.total_rows = 0
        self.last_ts: pd.Timestamp | None = None
        self._health: ModelHealth | None = None

    # ------------------------------------------------------------------ feeding

    def add(self, rows: pd.DataFrame) -> bool:
        """Take new rows; ``False`` when some belong to a window already closed (the caller
        then starts over from all rows, as the batch path would)."""
        if rows.empty:
            return True
        rows = rows.sort_values("ts", kind="stable")
        if self.last_ts is not None and rows["ts"].iloc[0] < self._open_floor():
            return False
        self._settle_task(rows)
        self.open = pd.concat([self.open, rows], ignore_index=True) if len(self.open) else \
            rows.reset_index(drop=True)
        self.open = self.open.sort_values("ts", kind="stable", ignore_index=True)
        self.total_rows += len(rows)
        self.last_ts = self.open["ts"].iloc[-1]
        self._close_windows()
        self._health = None
        return True

    def add_labels(self, labels: pd.DataFrame) -> set[str]:
        """Late labels (``record_id``, ``label``) for rows already seen; returns the ids
        that matched. Closed windows they touch are scored again."""
        if labels.empty:
            return set()
        late = labels.drop_duplicates("record_id", keep="last").set_index("record_id")["label"]
        matched: set[str] = set()
        for frame_name in ("slim", "open", "last_closed"):
            frame = getattr(self, frame_name)
            if frame.empty or "record_id" not in frame:
                continue
            hit = frame["record_id"].isin(late.index)
            if not hit.any():
                continue
            frame = frame.copy()
            frame["label"] = frame["label"].astype(object)
            frame.loc[hit, "label"] = frame.loc[hit, "record_id"].map(late).to_numpy()
            setattr(self, frame_name, frame)
            matched |= set(frame.loc[hit, "record_id"])
            if frame_name == "slim":
                self._rescore(sorted(set(frame.loc[hit, "window"])))
        if matched:
            self._settle_task(pd.DataFrame({"label": late.to_numpy(), "prediction": np.nan}))
            self._health = None
        return matched

    # ------------------------------------------------------------------ reading

    def health(self) -> ModelHealth:
        """Closed windows plus the open one, judged now; cached until rows or labels come."""
        if self._health is None:
            verdicts = list(self.verdicts)
            if len(self.open):
                window = self._windows(self.open)[0]
                verdicts.append(judge_window(self.base, window, self.open))
            self._health = assemble(self.model, self.version, self.base, verdicts)
        return self._health

    def current_rows(self) -> pd.DataFrame:
        """The rows of the latest window with enough rows to compare (open, else last closed)."""
        minimum = max(1, self.settings.drift.min_window_rows)
        return self.open if len(self.open) >= minimum or self.last_closed.empty \
            else self.last_closed

    def distributions(self, bins: int = 12) -> tuple[Distribution, ...]:
        current = self.current_rows()
        return tuple(distribution(ref, current[ref.name] if ref.name in current else
                                  pd.Series(dtype=float), bins)
                     for ref in self.base.prepared)

    # ------------------------------------------------------------------ inside

    def _open_floor(self) -> pd.Timestamp:
        """The earliest time a new row may have: the open window's start."""
        if isinstance(self.settings.window, int) or self.open.empty:
            return self.last_ts  # type: ignore[return-value]
        return self._windows(self.open.iloc[:1])[0].start  # type: ignore[return-value]

    def _windows(self, rows: pd.DataFrame) -> list[Window]:
        found = window_bounds(rows["ts"], len(rows), self.settings.window)
        return [replace(w, index=w.index + self.next_index) for w in found]

    def _close_windows(self) -> None:
        windows = self._windows(self.open)
        size = self.settings.window
        closed = windows[:-1]
        if isinstance(size, int) and windows and windows[-1].hi - windows[-1].lo == size:
            closed = windows
        if not closed:
            return
        slim_parts = [self.slim] if len(self.slim) else []
        for w in closed:
            chunk = self.open.iloc[w.lo : w.hi]
            self.verdicts.append(judge_window(self.base, w, chunk))
            slim = chunk[[c for c in SLIM if c in chunk]].copy()
            slim["window"] = w.index
            slim_parts.append(slim)
        last = closed[-1]
        self.last_closed = self.open.iloc[last.lo : last.hi].reset_index(drop=True)
        self.open = self.open.iloc[last.hi :].reset_index(drop=True)
        self.next_index = last.index + 1
        self.slim = pd.concat(slim_parts, ignore_index=True)
        if len(self.verdicts) > self.max_windows:
            self.verdicts = self.verdicts[-self.max_windows :]
            self.slim = self.slim[self.slim["window"] >= self.verdicts[0].window.index]

    def _rescore(self, windows: list[int]) -> None:
        """Performance of closed windows again, from their kept columns and new labels."""
        by_index = {v.window.index: i for i, v in enumerate(self.verdicts)}
        for index in windows:
            at = by_index.get(int(index))
            if at is None:
                continue
            old = self.verdicts[at]
            rows = self.slim[self.slim["window"] == index]
            self.verdicts[at] = replace(old, labelled_rows=int(rows["label"].notna().sum()),
                                        performance=_performance(self.base, old.window, rows))

    def _settle_task(self, rows: pd.DataFrame) -> None:
        """Without labels in the reference the task is guessed; the first labels decide it,
        and every kept window is scored again under it."""
        if self._task_from_labels or not _has_labels(rows):
            return
        self._task_from_labels = True
        predictions = rows["prediction"] if rows["prediction"].notna().any() else \
            self.slim.get("prediction", rows["prediction"])
        task = detect_task(rows["label"], predictions)
        if task == self.base.task:
            return
        self.base = replace(self.base, task=task,
                            performance_settings=replace(self.base.performance_settings,
                                                         task=task))
        self._rescore([v.window.index for v in self.verdicts])


def _has_labels(rows: pd.DataFrame) -> bool:
    return "label" in rows and bool(rows["label"].notna().any())


def _performance(base: Baseline, window: Window, rows: pd.DataFrame) -> list[dict[str, object]]:
    labelled = rows["label"].notna() & rows["prediction"].notna()
    if not labelled.any():
        return []
    return [{"window": window.index, "window_start": window.start, "metric": metric,
             "value": value, "n": int(labelled.sum())}
            for metric, value in window_metrics(rows, base.task,
                                                base.performance_settings).items()]


def distribution(ref: PreparedReference, current: pd.Series, bins: int = 12) -> Distribution:
    """Shares of reference and current values over shared bins: equal-width bins over the
    reference's 1st-99th percentile for numbers (the tails go to the end bins), the most
    common categories of either side for the rest (the remainder as "other")."""
    from opscockpit.analysis.drift import clean

    cur = clean(current, ref.kind)
    if ref.kind == "num" and len(ref.ordered):
        low, high = np.quantile(ref.ordered, [0.01, 0.99])
        if high <= low:
            low, high = float(ref.ordered[0]), float(ref.ordered[-1]) + 1.0
        edges = np.linspace(low, high, bins + 1)
        inner = edges[1:-1]
        ref_counts = np.bincount(np.searchsorted(inner, ref.ordered, side="right"),
                                 minlength=bins)
        cur_counts = np.bincount(np.searchsorted(inner, cur.to_numpy(float), side="right"),
                                 minlength=bins) if len(cur) else np.zeros(bins)
        labels = tuple(_short(v) for v in edges[:-1])
        return Distribution(ref.name, "num", labels, _shares(ref_counts), _shares(cur_counts),
                            len(cur))
    ref_share = ref.counts / max(1, ref.counts.sum())
    cur_share = cur.value_counts() / max(1, len(cur))
    keys = ref_share.index.union(cur_share.index)
    both = pd.DataFrame({"ref": ref_share.reindex(keys, fill_value=0.0),
                         "cur": cur_share.reindex(keys, fill_value=0.0)})
    both = both.loc[both.max(axis=1).sort_values(ascending=False, kind="stable").index]
    if len(both) > bins:
        top, rest = both.iloc[: bins - 1], both.iloc[bins - 1 :]
        both = pd.concat([top, pd.DataFrame({"ref": [rest["ref"].sum()],
                                             "cur": [rest["cur"].sum()]}, index=["(other)"])])
    return Distribution(ref.name, "cat", tuple(str(k) for k in both.index),
                        tuple(float(v) for v in both["ref"]),
                        tuple(float(v) for v in both["cur"]), len(cur))


def _shares(counts: np.ndarray) -> tuple[float, ...]:
    total = counts.sum()
    return tuple(float(c / total) if total else 0.0 for c in counts)


def _short(value: float) -> str:
    """A bin's lower edge in at most six characters: 12.5k, 0.031, -3.2M."""
    size = abs(value)
    for limit, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if size >= limit:
            return f"{value / unit:.3g}{suffix}"
    if size >= 100 or value == 0:
        return f"{value:.0f}"
    return f"{value:.3g}"
