"""Template-miner accuracy and throughput on the LogHub 2k sets.

Metrics (Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019):
- group accuracy (GA): a message counts as correct iff the group the miner put it in holds
  exactly the messages of its ground-truth group; scored against ``*_structured.csv``
  (what the paper used) and ``*_structured_corrected.csv``;
- parsing accuracy (PA): the miner's ``<*>`` template equals the corrected ground-truth
  template (whitespace-normalised).
Published Drain GA from that paper is printed alongside. One miner configuration for all
sets: no per-dataset regexes or thresholds.

Throughput is measured in the same run against peers over the same message bodies:
- ``split+dict``: ``str.split`` and a dict keyed by the token tuple (exact-duplicate
  grouping; a floor for "the cheapest thing that could be called grouping");
- ``drain3`` (PyPI ``drain3==0.9.11``, default config) when a separate venv exists at
  ``benchmarks/.env`` (``python -m venv benchmarks/.env && benchmarks/.env/bin/pip
  install drain3==0.9.11``); its GA is reported too. Skipped if absent.

Usage: ``python -m benchmarks.loghub [--limit N] [--datasets HDFS,BGL] [--repeat R]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from opscockpit.analysis.template_tokens import plain
from opscockpit.analysis.templates import MinerParams, TemplateMiner
from opscockpit.sources.log_lines import LOGHUB_FORMATS, split_headers

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("OPSCOCKPIT_DATASETS", ROOT.parent / "shared" / "datasets"))
DRAIN3_PY = ROOT / "benchmarks" / ".env" / "bin" / "python"

# Table IV of Zhu et al. 2019 (Drain column, group accuracy on the 2k sets).
PUBLISHED_DRAIN_GA: dict[str, float] = {
    "HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967, "OpenStack": 0.733,
    "BGL": 0.963, "HPC": 0.887, "Thunderbird": 0.955, "Windows": 0.997, "Linux": 0.690,
    "Mac": 0.787, "Android": 0.911, "HealthApp": 0.780, "Apache": 1.000, "OpenSSH": 0.788,
    "Proxifier": 0.527,
}

_DRAIN3_SCRIPT = r"""
import json, sys, time
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig
lines = json.load(open(sys.argv[1]))
cfg = TemplateMinerConfig()
cfg.profiling_enabled = False
best = None
for _ in range(int(sys.argv[2])):
    tm = TemplateMiner(config=cfg)
    t0 = time.perf_counter()
    ids = [tm.add_log_message(x)["cluster_id"] for x in lines]
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "ids": ids}))
"""


def group_accuracy(predicted: pd.Series, truth: pd.Series) -> float:
    """Share of messages whose predicted group equals their true group as a set."""
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    if frame.empty:
        return 1.0
    p_size = frame.groupby("p")["t"].transform("size")
    t_size = frame.groupby("t")["p"].transform("size")
    pair_size = frame.groupby(["p", "t"])["p"].transform("size")
    correct = (pair_size == p_size) & (pair_size == t_size)
    return float(correct.mean())


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def parsing_accuracy(predicted: pd.Series, truth: pd.Series) -> float:
    pred = predicted.map(_norm).to_numpy()
    true = truth.map(_norm).to_numpy()
    return float((pred == true).mean()) if len(pred) else 1.0


def _split_dict(contents: list[str]) -> list[int]:
    seen: dict[tuple[str, ...], int] = {}
    return [seen.setdefault(tuple(c.split()), len(seen)) for c in contents]


def _best_of(repeat: int, fn, arg):  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best, out


def _mine(contents: list[str]) -> tuple[list[str], TemplateMiner]:
    miner = TemplateMiner(MinerParams())
    add = miner.add
    ids = [add(c).template_id for c in contents]
    return [miner.canonical(i) for i in ids], miner


def _drain3(contents: list[str], repeat: int) -> dict | None:
    if not DRAIN3_PY.exists():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(contents, fh)
    try:
        out = subprocess.run(
            [str(DRAIN3_PY), "-c", _DRAIN3_SCRIPT, fh.name, str(repeat)],
            capture_output=True, text=True, timeout=600, check=True,
        )
        return json.loads(out.stdout)
    except (subprocess.SubprocessError, json.JSONDecodeError) as exc:
        print(f"  drain3 failed: {exc}", file=sys.stderr)
        return None
    finally:
        os.unlink(fh.name)


def run_dataset(name: str, limit: int | None, repeat: int) -> dict[str, object]:
    folder = DATASETS / "loghub" / name
    raw = (folder / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    original = pd.read_csv(folder / f"{name}_2k.log_structured.csv", dtype=str)
    corrected_path = folder / f"{name}_2k.log_structured_corrected.csv"
    corrected = pd.read_csv(corrected_path, dtype=str) if corrected_path.exists() else original
    split = split_headers(raw, name).frame
    n = len(split) if limit is None else min(limit, len(split))
    split, original, corrected = split.head(n), original.head(n), corrected.head(n)
    contents = split["Content"].tolist()
    content_mismatch = int(
        (split["Content"].map(_norm).to_numpy() != original["Content"].map(_norm).to_numpy()).sum()
    )

    seconds, (ids, miner) = _best_of(repeat, _mine, contents)
    base_seconds, _ = _best_of(repeat, _split_dict, contents)
    plain_of = {t: plain(miner.template(t)) for t in set(ids)}
    pred = pd.Series(ids)
    row: dict[str, object] = {
        "dataset": name,
        "lines": n,
        "templates": len(miner),
        "truth_templates": corrected["EventId"].nunique(),
        "GA": group_accuracy(pred, original["EventId"]),
        "GA_corrected": group_accuracy(pred, corrected["EventId"]),
        "PA_corrected": parsing_accuracy(pred.map(plain_of), corrected["EventTemplate"]),
        "drain_published_GA": PUBLISHED_DRAIN_GA.get(name),
        "content_mismatch": content_mismatch,
        "msgs_per_s": n / seconds if seconds else float("inf"),
        "vs_split_dict": seconds / base_seconds if base_seconds else float("nan"),
    }
    d3 = _drain3(contents, repeat)
    if d3 is not None:
        row["drain3_GA"] = group_accuracy(pd.Series(d3["ids"]), original["EventId"])
        row["drain3_GA_corrected"] = group_accuracy(pd.Series(d3["ids"]), corrected["EventId"])
        row["speed_vs_drain3"] = d3["seconds"] / seconds if seconds else float("nan")
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N lines of each set")
    ap.add_argument("--datasets", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats (best of)")
    ap.add_argument("--json", action="store_true", help="print rows as JSON instead of a table")
    args = ap.parse_args(argv)
    root = DATASETS / "loghub"
    names = [d.name for d in sorted(root.iterdir()) if d.is_dir() and d.name in LOGHUB_FORMATS]
    if args.datasets:
        wanted = set(args.datasets.split(","))
        names = [n for n in names if n in wanted]
    rows = [run_dataset(n, args.limit, args.repeat) for n in names]
    table = pd.DataFrame(rows)
    if args.json:
        print(table.to_json(orient="records", indent=1))
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        means = table.select_dtypes("number").mean(numeric_only=True)
        print("\nmean:", ", ".join(f"{k}={v:.3f}" for k, v in means.items()
                                  if k.startswith(("GA", "PA", "drain"))))
    print("\nmsgs_per_s: our miner incl. masking; vs_split_dict: our time / str.split+dict time "
          "(>1 = slower); speed_vs_drain3: drain3 time / our time (>1 = we are faster).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
