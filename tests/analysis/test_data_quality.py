"""Data quality checks on a constructed frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opscockpit.analysis.data_quality import QualitySettings, data_quality_by_window, quality_issues


def test_four_checks() -> None:
    reference = pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC"),
        "amount": [1.0, 5.0, 10.0, np.nan],
        "colour": ["red", "blue", "red", "blue"],
    })
    current = pd.DataFrame({
        "ts": pd.date_range("2024-02-01", periods=5, freq="h", tz="UTC"),
        "amount": pd.Series([0.5, 7.0, "n/a", np.nan, 11.0], dtype=object),
        "colour": ["red", "green", 3, None, "purple"],
    })
    quality = data_quality_by_window(current, reference, ["amount", "colour"],
                                     QualitySettings(window="1D")).set_index("column")
    amount, colour = quality.loc["amount"], quality.loc["colour"]
    assert amount["n"] == 5
    assert amount["missing_share"] == 0.2 and amount["reference_missing_share"] == 0.25
    assert amount["out_of_range_share"] == 0.5  # 0.5 and 11.0 of 4 present values
    assert amount["type_mismatch_share"] == 0.25  # "n/a"
    assert colour["new_categories"] == 3
    assert colour["new_category_examples"] == "3, green, purple"
    assert colour["type_mismatch_share"] == 0.25  # the number 3 among words

    issues = quality_issues(data_quality_by_window(current, reference, ["amount", "colour"],
                                                   QualitySettings(window="1D")))
    checks = set(zip(issues["column"], issues["check"], strict=True))
    assert checks == {("amount", "out_of_range"), ("amount", "type_mismatch"),
                      ("colour", "new_categories"), ("colour", "type_mismatch"),
                      ("colour", "missing")}


def test_clean_window_has_no_issues() -> None:
    reference = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC"),
                              "x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    current = reference.assign(ts=reference["ts"] + pd.Timedelta(days=3))
    quality = data_quality_by_window(current, reference, ["x", "c"], QualitySettings(window=2))
    assert len(quality) == 4  # two chunks of rows, two columns
    assert quality_issues(quality).empty
