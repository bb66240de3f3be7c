"""Model health from files to the Models view, against the physical limit of reading them.

    python -m benchmarks.model_ingest [--data DIR] [--limit N] [--repeat 3]

NannyML's synthetic car loan set (reference 50,000 rows, analysis 50,000, delayed labels) is
ingested as ``opscockpit ingest predictions`` does it: parsed, stored in a DuckDB file
through the Intake, judged by the models analyzer window by window, and the Models view
built. The limit is ``pandas.read_csv`` of the same three files, measured in the same run;
the ratio is ours over it (lower is better). Phases, timed inside the same run: parsing
(read, normalise, join labels, features as JSON), the DuckDB append, the analyzer, the view;
and the restart path (a fresh analyzer rebuilding the view from the store). Best of
``--repeat`` runs, imports excluded.

Data: NannyML (Apache 2.0), see ../shared/datasets/drift/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from opscockpit.analyzers.models import ModelsAnalyzer
from opscockpit.ingest import ingest
from opscockpit.intake import Intake
from opscockpit.store import Store

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "drift"
NAMES = ("synthetic_car_loan_reference.csv.gz", "synthetic_car_loan_analysis.csv.gz",
         "synthetic_car_loan_analysis_target.csv.gz")
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def files(root: Path, limit: int | None, workdir: Path) -> tuple[Path, Path, Path]:
    source = [root / "nannyml_synthetic_car_loan" / name for name in NAMES]
    if not limit:
        return source[0], source[1], source[2]
    cut = []
    for path in source:  # the first N data lines of each file, still gzipped CSV
        target = workdir / path.name
        with gzip.open(path, "rt") as src, gzip.open(target, "wt") as dst:
            for i, line in enumerate(src):
                if i > limit:
                    break
                dst.write(line)
        cut.append(target)
    return cut[0], cut[1], cut[2]


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="rows per file (CI)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not (args.data / "nannyml_synthetic_car_loan").exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="model-ingest-"))
    try:
        return _run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path) -> int:
    reference, analysis, labels = files(args.data, args.limit, workdir)
    options = {"labels": (str(labels),), "columns": ("label=repaid",)}
    _warm(reference, options)

    limit_s = best(args.repeat, lambda: [pd.read_csv(p) for p in (reference, analysis, labels)])
    runs: list[dict[str, float]] = []
    for i in range(args.repeat):
        runs.append(_ingest_once(workdir / f"run{i}.duckdb", reference, analysis, options))
    run = min(runs, key=lambda r: r["total"])
    ratio = run["total"] / limit_s
    print(f"car loan {'(first ' + str(args.limit) + ' rows per file) ' if args.limit else ''}"
          f"{run['rows']:,.0f} rows, {run['windows']:.0f} windows, status {run['status']}")
    print(f"  limit: pandas.read_csv of the 3 files     {limit_s:7.3f} s")
    print(f"  ingest + health through the Intake        {run['total']:7.3f} s "
          f"= {ratio:.1f}x the limit")
    print(f"    parse (read, labels, JSON)              {run['parse']:7.3f} s")
    print(f"    store (DuckDB append)                   {run['store']:7.3f} s")
    print(f"    analyzer (reference, windows judged)    {run['analyzer']:7.3f} s")
    print(f"    view                                    {run['view']:7.3f} s")
    print(f"  restart: rebuild the view from the store  {run['rebuild']:7.3f} s "
          f"(of which reading the JSON features back {run['read_back']:.3f} s)")
    print(f"summary: {ratio:.1f}x pandas.read_csv for ingest+health of {run['rows']:,.0f} rows; "
          f"{run['rows'] / run['total']:,.0f} rows/s")
    return 0


def _ingest_once(db: Path, reference: Path, analysis: Path, options: dict[str, object]
                 ) -> dict[str, float]:
    from opscockpit.store.model_queries import model_frame

    store = Store.open(db)
    analyzer = ModelsAnalyzer()
    intake = Intake(store, [analyzer])
    intake.restore()
    spent = {"store": 0.0, "analyzer": 0.0}
    _time_calls(store, "append", spent, "store")
    _time_calls(analyzer, "observe", spent, "analyzer")
    started = time.perf_counter()
    summary = ingest(intake, "predictions", [reference, analysis], options)
    ingested = time.perf_counter()
    view = analyzer.view(store, NOW)
    viewed = time.perf_counter()
    store.checkpoint()
    fresh = ModelsAnalyzer()
    fresh.restore(store)
    rebuild_started = time.perf_counter()
    fresh.view(store, NOW)
    rebuilt = time.perf_counter()
    model = view.models[0] if view is not None and view.models else None
    read_started = time.perf_counter()
    model_frame(store, model.model, model.version) if model else None
    read_back = time.perf_counter() - read_started
    store.close()
    return {"ingest": ingested - started, "view": viewed - ingested, **spent,
            "parse": ingested - started - spent["store"] - spent["analyzer"],
            "total": viewed - started, "rebuild": rebuilt - rebuild_started,
            "read_back": read_back, "rows": float(summary.rows),
            "windows": float(model.windows if model else 0),
            "status": model.status if model else "-"}  # type: ignore[dict-item]


def _time_calls(owner: object, name: str, spent: dict[str, float], key: str) -> None:
    """Add the time spent in ``owner.name`` to ``spent[key]``."""
    original = getattr(owner, name)

    def timed(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - started

    setattr(owner, name, timed)


def _warm(reference: Path, options: dict[str, object]) -> None:
    """Import and first-call costs out of the timings: one small run first."""
    store = Store.open(None)
    analyzer = ModelsAnalyzer()
    intake = Intake(store, [analyzer])
    intake.restore()
    ingest(intake, "predictions", [reference], options)
    analyzer.view(store, NOW)


if __name__ == "__main__":
    raise SystemExit(main())
