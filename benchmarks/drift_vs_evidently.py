"""Drift and classification performance, ours against Evidently, timed on the same data.

    python -m benchmarks.drift_vs_evidently [--rows N] [--repeats R] [--data DIR]

Data (100,000 rows x 20 features by default, seed 7): NannyML's synthetic car loan set,
reference file (50,000 rows) as the reference and analysis file (50,000 rows, labels joined
from the delayed target file) cut into 10 windows of 5,000 rows. Its 7 features are kept and
13 are derived from them, row by row, identically in reference and analysis:

* transforms: ``car_value_log`` = log(car_value), ``debt_sq`` = debt_to_income_ratio²,
  ``tenure_sqrt`` = sqrt(driver_tenure), ``value_per_month`` = car_value / loan_length;
* noisy copies: ``car_value_noisy`` = car_value x (1 + N(0, 0.05)), ``debt_noisy`` =
  debt_to_income_ratio + N(0, 0.05), ``tenure_noisy`` = driver_tenure + N(0, 0.5);
* categories: ``loan_band`` (short <= 10 < medium <= 16 < long months), ``value_decile``
  (deciles of the reference car_value, "d0".."d9"), ``salary_x_downpayment`` (the two
  categories joined);
* pure noise, which should never drift: ``noise_gauss`` N(0, 1), ``noise_uniform`` U(0, 1),
  ``noise_letter`` one of a-d.

So 13 numeric and 7 categorical columns (repaid_loan_on_prev_car is boolean). ``--rows N``
keeps the first N/2 rows of each file (a tiny run for CI); windows are a tenth of them.

Each side reads the same CSV files, then times only the computation - per window, the drift
of all 20 features against the reference with the default settings, and accuracy, precision,
recall, F1 and ROC AUC from the labels - over ``--repeats`` runs; process start, imports and
reading are not timed. Ours: ``drift_by_window`` + ``performance_by_window``. Evidently 0.4
(its own venv, ``benchmarks/.env-evidently``): per window one Report with ``DataDriftTable``
over the 20 features, one with ``ClassificationQualityMetric`` (the metric behind
``ClassificationPreset``'s figures; the whole preset adds plots we do not draw). Reported:
both medians, their ratio (target <= 0.2) and the share of (window, feature) verdicts on
which both agree (target >= 95%).

Evidently takes the probability as its prediction and labels rows at 0.5; the file's
``y_pred`` disagrees with that on ~3% of rows, so label metrics may differ slightly while
ROC AUC is the same computation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from opscockpit.analysis.drift import DriftSettings, column_kind, drift_by_window
from opscockpit.analysis.model_performance import performance_by_window

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "drift"
EVIDENTLY_PYTHON = Path(__file__).resolve().parent / ".env-evidently" / "bin" / "python"
SEED = 7
CAR_FEATURES = ["car_value", "salary_range", "debt_to_income_ratio", "loan_length",
                "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure"]
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")

# Runs inside the Evidently venv: argv = manifest.json. Prints one JSON line.
_EVIDENTLY_SCRIPT = """
import json, sys, time
import pandas as pd
from evidently import ColumnMapping
from evidently.metrics import ClassificationQualityMetric, DataDriftTable
from evidently.report import Report
case = json.load(open(sys.argv[1]))
features = case["num"] + case["cat"]
ref = pd.read_csv(case["reference"])[features]
cur = pd.read_csv(case["current"])
size = case["window"]
windows = [cur.iloc[lo:lo + size] for lo in range(0, len(cur), size)]
drift_map = ColumnMapping(numerical_features=case["num"], categorical_features=case["cat"],
                          target=None, prediction=None)
perf_map = ColumnMapping(target="label", prediction="score", pos_label=1,
                         numerical_features=[], categorical_features=[])
times = []
for _ in range(case["repeats"]):
    verdicts, perf = [], []
    started = time.perf_counter()
    for rows in windows:
        drift = DataDriftTable(columns=features)
        Report(metrics=[drift]).run(reference_data=ref, current_data=rows[features],
                                    column_mapping=drift_map)
        quality = ClassificationQualityMetric()
        Report(metrics=[quality]).run(reference_data=None,
                                      current_data=rows[["label", "score"]],
                                      column_mapping=perf_map)
        cols = drift.get_result().drift_by_columns
        verdicts.append({c: [bool(v.drift_detected), v.stattest_name, float(v.drift_score)]
                         for c, v in cols.items()})
        q = quality.get_result().current
        perf.append({"accuracy": q.accuracy, "precision": q.precision, "recall": q.recall,
                     "f1": q.f1, "roc_auc": q.roc_auc})
    times.append(time.perf_counter() - started)
print(json.dumps({"times": times, "verdicts": verdicts, "performance": perf}))
"""

_EVIDENTLY_NAMES = {
    "ks": "K-S p_value", "chisquare": "chi-square p_value", "z": "Z-test p_value",
    "wasserstein": "Wasserstein distance (normed)", "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
}


def derive_features(frame: pd.DataFrame, deciles: np.ndarray,
                    rng: np.random.Generator) -> pd.DataFrame:
    """The 7 car-loan features plus 13 derived ones (see the module docstring)."""
    out = frame[CAR_FEATURES].copy()
    n = len(frame)
    value, debt = frame["car_value"], frame["debt_to_income_ratio"]
    tenure, months = frame["driver_tenure"], frame["loan_length"]
    out["car_value_log"] = np.log(value)
    out["debt_sq"] = debt ** 2
    out["tenure_sqrt"] = np.sqrt(tenure.clip(lower=0))
    out["value_per_month"] = value / months
    out["car_value_noisy"] = value * (1 + rng.normal(0, 0.05, n))
    out["debt_noisy"] = debt + rng.normal(0, 0.05, n)
    out["tenure_noisy"] = tenure + rng.normal(0, 0.5, n)
    out["loan_band"] = np.where(months <= 10, "short", np.where(months <= 16, "medium", "long"))
    out["value_decile"] = ["d" + str(k) for k in np.searchsorted(deciles, value, side="right")]
    out["salary_x_downpayment"] = frame["salary_range"] + " | " + frame["size_of_downpayment"]
    out["noise_gauss"] = rng.normal(0, 1, n)
    out["noise_uniform"] = rng.uniform(0, 1, n)
    out["noise_letter"] = rng.choice(np.array(list("abcd")), n)
    return out


def build(root: Path, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference features, current features + label/prediction/score), rows/2 each."""
    folder = root / "nannyml_synthetic_car_loan"
    half = rows // 2
    reference = pd.read_csv(folder / "synthetic_car_loan_reference.csv.gz").iloc[:half]
    analysis = pd.read_csv(folder / "synthetic_car_loan_analysis.csv.gz").iloc[:half]
    target = pd.read_csv(folder / "synthetic_car_loan_analysis_target.csv.gz")
    analysis = analysis.merge(target, on="id", how="left", validate="one_to_one")
    rng = np.random.default_rng(SEED)
    deciles = np.quantile(reference["car_value"], np.linspace(0.1, 0.9, 9))
    ref = derive_features(reference, deciles, rng)
    cur = derive_features(analysis, deciles, rng)
    cur["label"] = analysis["repaid"].astype(int)
    cur["prediction"] = analysis["y_pred"].astype(int)
    cur["score"] = analysis["y_pred_proba"]
    return ref, cur


def run_ours(ref: pd.DataFrame, cur: pd.DataFrame, window: int,
             repeats: int) -> tuple[list[float], pd.DataFrame, pd.DataFrame]:
    features = list(ref.columns)
    settings = DriftSettings(window=window)
    times = []
    drift = perf = pd.DataFrame()
    for _ in range(repeats):
        started = time.perf_counter()
        drift = drift_by_window(cur[features], ref, features, settings)
        perf = performance_by_window(cur[["label", "prediction", "score"]], window)
        times.append(time.perf_counter() - started)
    return times, drift, perf


def run_evidently(python: Path, ref_path: Path, cur_path: Path, ref: pd.DataFrame,
                  window: int, repeats: int, workdir: Path) -> dict[str, object]:
    manifest = {
        "reference": str(ref_path), "current": str(cur_path), "window": window,
        "repeats": repeats,
        "num": [c for c in ref if column_kind(ref[c]) == "num"],
        "cat": [c for c in ref if column_kind(ref[c]) == "cat"],
    }
    path = workdir / "case.json"
    path.write_text(json.dumps(manifest))
    done = subprocess.run([str(python), "-c", _EVIDENTLY_SCRIPT, str(path)],
                          capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode:
        raise RuntimeError(done.stderr.strip()[-2000:])
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(drift: pd.DataFrame, perf: pd.DataFrame,
            theirs: dict[str, object]) -> dict[str, object]:
    verdicts: list[dict[str, list[object]]] = theirs["verdicts"]  # type: ignore[assignment]
    performance: list[dict[str, float]] = theirs["performance"]  # type: ignore[assignment]
    mine = drift.set_index(["window", "feature"])
    agree = total = same_test = 0
    disagreements: list[str] = []
    for window, columns in enumerate(verdicts):
        for column, (drifted, method, _score) in columns.items():
            row = mine.loc[(window, column)]
            total += 1
            if bool(row["drifted"]) == drifted:
                agree += 1
            else:
                disagreements.append(f"w{window}:{column}")
            same_test += _EVIDENTLY_NAMES.get(str(row["method"]), "") == method
    ours = perf.pivot(index="window", columns="metric", values="value")
    worst = {m: max(abs(float(ours.loc[w, m]) - float(p[m])) for w, p in enumerate(performance)
                    if p.get(m) is not None and m in ours.columns) for m in METRICS}
    return {"agreement": agree / total, "verdicts": total, "same_test": same_test / total,
            "disagreements": disagreements, "metric_diff": worst}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=100_000,
                        help="total rows, half reference and half current (tiny for CI)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--evidently", type=Path, default=EVIDENTLY_PYTHON,
                        help="python of a venv with evidently 0.4 (skipped when missing)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    if args.rows < 20:
        parser.error("--rows needs at least 20 (10 windows of at least one row)")
    ref, cur = build(args.data, args.rows)
    window = len(cur) // 10
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ref_path, cur_path = workdir / "reference.csv", workdir / "current.csv"
        ref.to_csv(ref_path, index=False)
        cur.to_csv(cur_path, index=False)
        # Both sides compute on what they read back from the same files.
        ref, cur = pd.read_csv(ref_path), pd.read_csv(cur_path)
        n_num = sum(column_kind(ref[c]) == "num" for c in ref)
        print(f"data: reference {len(ref):,} rows, current {len(cur):,} rows in windows of "
              f"{window:,}; {ref.shape[1]} features ({n_num} numeric, "
              f"{ref.shape[1] - n_num} categorical); seed {SEED}; {args.repeats} repeats")
        our_times, drift, perf = run_ours(ref, cur, window, args.repeats)
        ours = statistics.median(our_times)
        print(f"ours:      drift + performance in {ours:.3f} s (median; runs "
              f"{', '.join(f'{t:.3f}' for t in our_times)}); "
              f"{int(drift['drifted'].sum())} of {len(drift)} (window, feature) drifted")
        if not args.evidently.exists():
            print(f"Evidently comparison skipped: no {args.evidently} (normal in CI; "
                  "the benchmark environment has it)")
            return 0
        try:
            theirs = run_evidently(args.evidently, ref_path, cur_path, ref, window,
                                   args.repeats, workdir)
        except RuntimeError as error:
            print(f"Evidently comparison failed: {error}")
            return 1
    their_times: list[float] = theirs["times"]  # type: ignore[assignment]
    evidently = statistics.median(their_times)
    result = compare(drift, perf, theirs)
    print(f"evidently: drift + performance in {evidently:.3f} s (median; runs "
          f"{', '.join(f'{t:.3f}' for t in their_times)})")
    diffs = ", ".join(f"{m} {d:.4f}" for m, d in result["metric_diff"].items())  # type: ignore[attr-defined]
    print(f"ratio ours/evidently {ours / evidently:.3f} (target <= 0.2); agreement "
          f"{result['agreement']:.1%} of {result['verdicts']} verdicts (target >= 95%), "
          f"same test {result['same_test']:.0%}")
    print(f"disagreements: {', '.join(result['disagreements']) or 'none'}")  # type: ignore[arg-type]
    print(f"largest metric difference per window: {diffs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
