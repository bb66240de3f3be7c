"""Per window and column: is the data still the kind of data the model was built on?

Four checks against the reference: missing share (and how it compares), categories never
seen in the reference, numbers outside the reference's min/max, and values of another type
than the reference's (text in a numeric column, numbers among categories).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opscockpit.analysis.drift import column_kind, split_windows

QUALITY_COLUMNS = [
    "window", "window_start", "column", "kind", "n", "missing_share",
    "reference_missing_share", "new_categories", "new_category_examples",
    "out_of_range_share", "type_mismatch_share",
]
_EXAMPLES = 5


@dataclass(frozen=True)
class QualitySettings:
    window: str | int = "1D"
    categorical: tuple[str, ...] = ()
    # A window is flagged when a share goes above these (missing: above the reference's).
    missing_increase: float = 0.05
    out_of_range_share: float = 0.01
    type_mismatch_share: float = 0.0


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """One reference column's shape: its kind, missing share, range, categories, types."""

    kind: str
    missing_share: float
    low: float
    high: float
    categories: frozenset[str]
    types: frozenset[str]


def _type_of(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.number):
        return "number"
    return "text"


def _types(values: pd.Series) -> pd.Series:
    """:func:`_type_of` of each value; typed columns answer at once, only object columns
    (where text and numbers can mix) are walked value by value."""
    if pd.api.types.is_bool_dtype(values):
        return pd.Series("bool", index=values.index, dtype=object)
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series("number", index=values.index, dtype=object)
    if values.dtype != object and pd.api.types.is_string_dtype(values):
        return pd.Series("text", index=values.index, dtype=object)
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in _ONE_TYPE:
        return pd.Series(_ONE_TYPE[inferred], index=values.index, dtype=object)
    return pd.Series([_type_of(v) for v in values.to_numpy()], index=values.index, dtype=object)


# Object columns pandas finds to hold one kind of value (``infer_dtype``), none missing.
_ONE_TYPE = {"floating": "number", "integer": "number", "mixed-integer-float": "number",
             "string": "text", "boolean": "bool"}


def _profile(values: pd.Series, categorical: Sequence[str]) -> ColumnProfile:
    kind = column_kind(values, categorical)
    present = values.dropna()
    low = high = np.nan
    if kind == "num":
        numbers = pd.to_numeric(present, errors="coerce").dropna()
        if len(numbers):
            low, high = float(numbers.min()), float(numbers.max())
    types = frozenset(_types(present).unique()) if len(present) else frozenset()
    return ColumnProfile(
        kind=kind,
        missing_share=float(values.isna().mean()) if len(values) else 0.0,
        low=low, high=high,
        categories=frozenset(present.astype(str).unique()) if kind == "cat" else frozenset(),
        types=types,
    )


def _check(values: pd.Series, profile: ColumnProfile) -> dict[str, object]:
    n = len(values)
    present = values.dropna()
    out: dict[str, object] = {
        "n": n,
        "missing_share": float(values.isna().mean()) if n else 0.0,
        "reference_missing_share": profile.missing_share,
        "new_categories": 0, "new_category_examples": "",
        "out_of_range_share": 0.0, "type_mismatch_share": 0.0,
    }
    if present.empty:
        return out
    types = _types(present)
    if profile.kind == "num":
        numbers = pd.to_numeric(present.where(types != "bool"), errors="coerce")
        out["type_mismatch_share"] = float(numbers.isna().sum() / len(present))
        finite = numbers.dropna().to_numpy(float)
        if len(finite) and np.isfinite(profile.low):
            outside = (finite < profile.low) | (finite > profile.high)
            out["out_of_range_share"] = float(outside.sum() / len(present))
    else:
        out["type_mismatch_share"] = float((~types.isin(profile.types)).mean()
                                           if profile.types else 0.0)
        seen = present.astype(str).unique()
        new = sorted(v for v in seen if v not in profile.categories)
        out["new_categories"] = len(new)
        out["new_category_examples"] = ", ".join(new[:_EXAMPLES])
    return out


def reference_profiles(
    reference: pd.DataFrame, columns: Sequence[str], settings: QualitySettings | None = None
) -> dict[str, ColumnProfile]:
    """What each column looked like in the reference: computed once, used by every window."""
    categorical = (settings or QualitySettings()).categorical
    return {c: _profile(reference[c], categorical) for c in columns}


def window_quality(
    chunk: pd.DataFrame, profiles: dict[str, ColumnProfile], index: int, start: object
) -> list[dict[str, object]]:
    """The ``QUALITY_COLUMNS`` rows of one window (a column absent from it is all missing)."""
    rows: list[dict[str, object]] = []
    for column, profile in profiles.items():
        values = chunk[column] if column in chunk else pd.Series(np.nan, index=chunk.index)
        rows.append({"window": index, "window_start": start, "column": column,
                     "kind": profile.kind, **_check(values, profile)})
    return rows


def data_quality_by_window(
    current: pd.DataFrame, reference: pd.DataFrame, columns: Sequence[str],
    settings: QualitySettings | None = None, ts: str = "ts",
) -> pd.DataFrame:
    """One row per (window, column) with the four checks."""
    settings = settings or QualitySettings()
    profiles = reference_profiles(reference, columns, settings)
    rows: list[dict[str, object]] = []
    for index, start, _, chunk in split_windows(current, settings.window, ts):
        rows += window_quality(chunk, profiles, index, start)
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def quality_issues(quality: pd.DataFrame, settings: QualitySettings | None = None) -> pd.DataFrame:
    """The (window, column, check) cells that cross a threshold, worst first."""
    settings = settings or QualitySettings()
    found: list[dict[str, object]] = []
    for row in quality.itertuples(index=False):
        excess = row.missing_share - row.reference_missing_share
        if excess > settings.missing_increase:
            found.append(_issue(row, "missing", row.missing_share,
                                f"{row.missing_share:.0%} missing (reference "
                                f"{row.reference_missing_share:.0%})"))
        if row.new_categories:
            found.append(_issue(row, "new_categories", float(row.new_categories),
                                f"new categories ({row.new_categories}): "
                                f"{row.new_category_examples}"))
        if row.out_of_range_share > settings.out_of_range_share:
            found.append(_issue(row, "out_of_range", row.out_of_range_share,
                                f"{row.out_of_range_share:.1%} outside the reference range"))
        if row.type_mismatch_share > settings.type_mismatch_share:
            found.append(_issue(row, "type_mismatch", row.type_mismatch_share,
                                f"{row.type_mismatch_share:.1%} of another type"))
    columns = ["window", "window_start", "column", "check", "value", "summary"]
    issues = pd.DataFrame(found, columns=columns)
    return issues.sort_values(["window", "value"], ascending=[False, False], ignore_index=True)


def _issue(row: object, check: str, value: float, summary: str) -> dict[str, object]:
    return {"window": row.window, "window_start": row.window_start,  # type: ignore[attr-defined]
            "column": row.column, "check": check, "value": value,  # type: ignore[attr-defined]
            "summary": summary}
