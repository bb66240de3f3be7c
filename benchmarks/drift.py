"""Drift and model health on NannyML's public datasets, and how fast drift is computed.

    python -m benchmarks.drift [--data DIR] [--limit N] [--throughput-rows N]

(a) synthetic car loan: NannyML documents a shift from analysis row 25,000 (2019-03-31) in
    car_value and repaid_loan_on_prev_car. Reported: onset found vs documented, false drift
    alarms in chunks 0-4 (which look like the reference), accuracy and ROC AUC per chunk of
    5,000 rows with the delayed labels file.
(b) California housing: drifted columns and ROC AUC per calendar month.
(c) throughput: rows/s of ``drift_by_window`` against the same scipy calls on arrays that
    are already extracted (what the statistics alone cost), and against reading the same
    columns from Parquet, measured in the same run. Ratios above 1 mean we are slower.

Data: NannyML (Apache 2.0), see ../shared/datasets/drift/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import stats
from scipy.spatial import distance

from opscockpit.analysis.drift import DriftSettings, column_kind, drift_by_window
from opscockpit.analysis.model_health import HealthSettings, model_health
from opscockpit.sources.prediction_files import (
    ColumnMap,
    join_labels,
    read_labels,
    read_predictions,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "drift"
EVIDENTLY_PYTHON = Path(__file__).resolve().parent / ".env-evidently" / "bin" / "python"
# Runs inside the separate Evidently venv: reads the cases, prints Evidently's verdicts.
_EVIDENTLY_SCRIPT = """
import json, sys
import pandas as pd
from evidently import ColumnMapping
from evidently.metrics import DataDriftTable
from evidently.report import Report
out = {}
for case in json.load(open(sys.argv[1])):
    ref = pd.read_csv(case["reference"])
    mapping = ColumnMapping(numerical_features=case["num"], categorical_features=case["cat"],
                            target=None, prediction=None)
    verdicts = []
    for path in case["chunks"]:
        report = Report(metrics=[DataDriftTable()])
        report.run(reference_data=ref, current_data=pd.read_csv(path), column_mapping=mapping)
        cols = report.as_dict()["metrics"][0]["result"]["drift_by_columns"]
        verdicts.append({c: [bool(v["drift_detected"]), v["stattest_name"],
                             float(v["drift_score"])] for c, v in cols.items()})
    out[case["name"]] = verdicts
print(json.dumps(out))
"""
CAR_FEATURES = ("car_value", "salary_range", "debt_to_income_ratio", "loan_length",
                "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure")
SHIFTED = ("car_value", "repaid_loan_on_prev_car")
SHIFT_ROW = 25_000


def _table(rows: Sequence[dict[str, object]]) -> str:
    if not rows:
        return "(nothing)"
    heads = list(rows[0])
    cells = [[_fmt(r[h]) for h in heads] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "-" if np.isnan(value) else f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return "-" if value is None or value is pd.NaT else str(value)


def car_loan(root: Path, limit: int | None) -> dict[str, object]:
    folder = root / "nannyml_synthetic_car_loan"
    names = ColumnMap(default_model="car_loan", default_version="1")
    reference = read_predictions(folder / "synthetic_car_loan_reference.csv.gz",
                                 ColumnMap(default_model="car_loan", default_version="1",
                                           label="repaid")).frame
    analysis = read_predictions(folder / "synthetic_car_loan_analysis.csv.gz", names).frame
    labels = read_labels(folder / "synthetic_car_loan_analysis_target.csv.gz")
    chunk = 5000
    if limit:
        # keep the shift inside the cut: the same share of rows before and after it
        half = min(limit // 2, SHIFT_ROW)
        analysis = pd.concat([analysis.iloc[SHIFT_ROW - half:SHIFT_ROW],
                              analysis.iloc[SHIFT_ROW:SHIFT_ROW + half]], ignore_index=True)
        reference = reference.iloc[:limit]
        chunk = max(half // 5, 50)
    documented = analysis["ts"].iloc[len(analysis) // 2 if limit else SHIFT_ROW]
    current = join_labels(analysis, labels)
    started = time.perf_counter()
    health = model_health(current, reference, HealthSettings(window=chunk))[0]
    seconds = time.perf_counter() - started
    onsets = health.onsets.set_index("feature")
    drift = health.drift
    calm_chunks = drift["window_start"] < documented
    print(f"\n(a) synthetic car loan: {len(analysis):,} analysis rows in chunks of {chunk:,}, "
          f"reference {len(reference):,} rows; model health in {seconds:.2f} s")
    print(f"status {health.status}, degraded since {_fmt(health.degraded_since)}")
    rows = []
    for feature in (*CAR_FEATURES, "prediction", "score"):
        if feature not in onsets.index:
            continue
        sub = drift[drift["feature"] == feature]
        rows.append({
            "feature": feature, "method": sub["method"].iloc[0],
            "documented": _fmt(documented) if feature in SHIFTED else "-",
            "onset found": _fmt(onsets.loc[feature, "onset"]),
            "alarms before shift": int(sub.loc[calm_chunks[sub.index], "drifted"].sum()),
            "max stat before": float(sub.loc[calm_chunks[sub.index], "statistic"].max()),
            "min stat after": float(sub.loc[~calm_chunks[sub.index], "statistic"].min()),
        })
    print(_table(rows))
    perf = health.performance.pivot(index="window_start", columns="metric", values="value")
    print(_table([{"chunk start": ts, "accuracy": float(r["accuracy"]),
                   "roc_auc": float(r.get("roc_auc", np.nan))} for ts, r in perf.iterrows()]))
    found = {f: onsets.loc[f, "onset"] for f in SHIFTED}
    return {
        "onset_ok": all(v == documented for v in found.values()),
        "false_alarms": int(drift.loc[calm_chunks, "drifted"].sum()),
    }


def california(root: Path, limit: int | None) -> None:
    folder = root / "nannyml_california_housing"
    columns = ColumnMap(default_model="california", default_version="1")  # clf_target found
    reference = read_predictions(folder / "california_housing_reference.csv", columns).frame
    analysis = read_predictions(folder / "california_housing_analysis.csv", columns).frame
    if limit:
        analysis = analysis.iloc[:limit]
    current = join_labels(analysis, read_labels(folder / "california_housing_analysis_gt.csv"))
    health = model_health(current, reference, HealthSettings(window="MS"))[0]
    drifted = health.drift.groupby("window_start").agg(
        drifted=("drifted", "sum"), columns=("feature", "size"),
        top=("statistic", lambda s: health.drift.loc[s.idxmax(), "feature"]))
    auc = health.performance[health.performance["metric"] == "roc_auc"].set_index(
        "window_start")["value"]
    print(f"\n(b) California housing: {len(current):,} rows by calendar month, reference "
          f"{len(reference):,} rows; status {health.status}")
    print(_table([{"month": ts.strftime("%Y-%m"), "drifted": f"{r.drifted}/{r.columns}",
                   "strongest": r.top, "roc_auc": float(auc.get(ts, np.nan))}
                  for ts, r in drifted.iterrows()]))


def _throughput_frames(root: Path, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = root / "nannyml_synthetic_car_loan"
    reference = pd.read_csv(folder / "synthetic_car_loan_reference.csv.gz")
    analysis = pd.read_csv(folder / "synthetic_car_loan_analysis.csv.gz")
    repeats = -(-rows // len(analysis))
    current = pd.concat([analysis] * repeats, ignore_index=True).iloc[:rows]
    current["ts"] = pd.date_range("2024-01-01", periods=len(current), freq="17s", tz="UTC")
    return reference[list(CAR_FEATURES)], current[["ts", *CAR_FEATURES]]


def throughput(root: Path, rows: int) -> dict[str, float]:
    reference, current = _throughput_frames(root, rows)
    chunk = 5000
    settings = DriftSettings(window=chunk)
    features = list(CAR_FEATURES)

    started = time.perf_counter()
    drift = drift_by_window(current, reference, features, settings)
    ours = time.perf_counter() - started

    # The floor: the same statistics by hand on arrays prepared beforehand (not timed):
    # numbers as floats, categories already coded as integers.
    kinds = {c: column_kind(reference[c]) for c in features}
    coded: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for c in features:
        if kinds[c] == "num":
            coded[c] = (reference[c].to_numpy(float), current[c].to_numpy(float), 0)
        else:
            codes, uniques = pd.factorize(pd.concat([reference[c], current[c]]).astype(str))
            coded[c] = (codes[:len(reference)], codes[len(reference):], len(uniques))
    bounds = range(0, len(current), chunk)
    methods = drift.drop_duplicates("feature").set_index("feature")["method"]
    started = time.perf_counter()
    for c in features:
        ref, whole, n_codes = coded[c]
        for lo in bounds:
            cur = whole[lo:lo + chunk]
            if methods[c] == "wasserstein":
                stats.wasserstein_distance(ref, cur) / np.std(ref)
            else:
                r = np.bincount(ref, minlength=n_codes) / len(ref)
                k = np.bincount(cur, minlength=n_codes) / len(cur)
                distance.jensenshannon(r, k, base=2)
    raw = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "current.parquet"
        current.to_parquet(path)
        started = time.perf_counter()
        pq.read_table(path, columns=features).to_pandas()
        read = time.perf_counter() - started

    # And the textbook KS floor: scipy's ks_2samp over the numeric columns, same chunks.
    numeric = [c for c in features if kinds[c] == "num"]
    started = time.perf_counter()
    for c in numeric:
        ref, whole, _ = coded[c]
        for lo in bounds:
            stats.ks_2samp(ref, whole[lo:lo + chunk])
    ks = time.perf_counter() - started

    n = len(current)
    print(f"\n(c) throughput: {n:,} rows x {len(features)} columns, chunks of {chunk:,}, "
          f"reference {len(reference):,} rows")
    print(_table([
        {"what": "drift_by_window (ours)", "seconds": ours, "rows/s": n / ours, "ratio": 1.0},
        {"what": "same statistics, scipy on ready arrays", "seconds": raw, "rows/s": n / raw,
         "ratio": ours / raw},
        {"what": "scipy ks_2samp, numeric columns", "seconds": ks, "rows/s": n / ks,
         "ratio": ours / ks},
        {"what": "read the columns from Parquet", "seconds": read, "rows/s": n / read,
         "ratio": ours / read},
    ]))
    return {"rows_per_s": n / ours, "vs_raw": ours / raw, "vs_read": ours / read}


def _evidently_cases(root: Path, limit: int | None) -> list[tuple[str, pd.DataFrame,
                                                                  list[pd.DataFrame]]]:
    car = root / "nannyml_synthetic_car_loan"
    car_ref = pd.read_csv(car / "synthetic_car_loan_reference.csv.gz")[list(CAR_FEATURES)]
    car_cur = pd.read_csv(car / "synthetic_car_loan_analysis.csv.gz")[list(CAR_FEATURES)]
    cal = root / "nannyml_california_housing"
    cal_ref = pd.read_csv(cal / "california_housing_reference.csv")
    cal_cur = pd.read_csv(cal / "california_housing_analysis.csv")
    cal_features = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup",
                    "Latitude", "Longitude"]
    months = pd.to_datetime(cal_cur["timestamp"]).dt.to_period("M")
    monthly = [rows[cal_features] for _, rows in cal_cur.groupby(months)]
    n = limit or len(car_cur)
    cases = [
        ("car loan, 5,000-row chunks", car_ref,
         [car_cur.iloc[i:i + 5000] for i in range(0, min(n, len(car_cur)), 5000)]),
        # a reference of at most 1000 rows switches to KS, chi-square and Z tests
        ("car loan, 1,000-row reference", car_ref.iloc[:1000],
         [car_cur.iloc[i:i + 500] for i in range(20_000, 20_000 + min(n, 10_000), 500)]),
        ("California, monthly", cal_ref[cal_features], monthly[: (3 if limit else None)]),
        ("California, 800-row reference", cal_ref[cal_features].iloc[:800],
         monthly[: (3 if limit else None)]),
    ]
    return cases


def evidently_agreement(root: Path, limit: int | None, python: Path) -> float | None:
    """Share of (chunk, column) drift verdicts on which Evidently and we agree."""
    if not python.exists():
        print(f"\n(d) Evidently comparison skipped: no {python}")
        return None
    cases = _evidently_cases(root, limit)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = []
        for number, (name, ref, chunks) in enumerate(cases):
            ref_path = Path(tmp) / f"ref{number}.csv"
            ref.to_csv(ref_path, index=False)
            paths = []
            for i, chunk in enumerate(chunks):
                paths.append(str(Path(tmp) / f"cur{number}_{i}.csv"))
                chunk.to_csv(paths[-1], index=False)
            manifest.append({"name": name, "reference": str(ref_path), "chunks": paths,
                             "num": [c for c in ref if column_kind(ref[c]) == "num"],
                             "cat": [c for c in ref if column_kind(ref[c]) == "cat"]})
        (Path(tmp) / "cases.json").write_text(json.dumps(manifest))
        started = time.perf_counter()
        done = subprocess.run([str(python), "-c", _EVIDENTLY_SCRIPT, str(Path(tmp) / "cases.json")],
                              capture_output=True, text=True, check=False, timeout=1800)
        seconds = time.perf_counter() - started
    if done.returncode:
        print(f"\n(d) Evidently comparison failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    rows, agree_all, total_all = [], 0, 0
    ours_seconds = 0.0
    for name, ref, chunks in cases:
        agree = total = same_method = 0
        worst = 0.0
        for chunk, verdicts in zip(chunks, theirs[name], strict=True):
            started = time.perf_counter()
            mine = drift_by_window(chunk, ref, list(ref.columns),
                                   DriftSettings(window=len(chunk))).set_index("feature")
            ours_seconds += time.perf_counter() - started
            for column, (drifted, method, score) in verdicts.items():
                row = mine.loc[column]
                total += 1
                agree += bool(row["drifted"]) == drifted
                same_method += _EVIDENTLY_NAMES.get(row["method"], "") == method
                mine_score = row["p_value"] if row["method"] in ("ks", "chisquare", "z") \
                    else row["statistic"]
                worst = max(worst, abs(float(mine_score) - score))
        rows.append({"case": name, "verdicts": total, "agree": agree / total,
                     "same test": same_method / total, "max score diff": worst})
        agree_all += agree
        total_all += total
    print(f"\n(d) Evidently 0.4 vs ours, same chunks (Evidently {seconds:.1f} s incl. start-up, "
          f"ours {ours_seconds:.1f} s)")
    print(_table(rows))
    return agree_all / total_all


_EVIDENTLY_NAMES = {
    "ks": "K-S p_value", "chisquare": "chi-square p_value", "z": "Z-test p_value",
    "wasserstein": "Wasserstein distance (normed)", "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None,
                        help="analysis rows per dataset (tiny runs for CI)")
    parser.add_argument("--throughput-rows", type=int, default=1_000_000)
    parser.add_argument("--evidently", type=Path, default=EVIDENTLY_PYTHON,
                        help="python of a venv with evidently 0.4 (skipped when missing)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    throughput_rows = min(args.throughput_rows, args.limit * 10) if args.limit else \
        args.throughput_rows
    result = car_loan(args.data, args.limit)
    california(args.data, args.limit)
    speed = throughput(args.data, throughput_rows)
    agreement = evidently_agreement(args.data, args.limit, args.evidently)
    print(f"\nsummary: car-loan onset {'matches' if result['onset_ok'] else 'MISSES'} the "
          f"documented row, {result['false_alarms']} false alarms before it; "
          f"{speed['rows_per_s']:,.0f} rows/s, {speed['vs_raw']:.2f}x the bare scipy tests"
          + (f"; {agreement:.1%} agreement with Evidently" if agreement is not None else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
