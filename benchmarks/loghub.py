"""Template-miner accuracy and throughput on the LogHub 2k sets, side by side with Drain3.

Metrics (Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019):
- group accuracy (GA): a message counts as correct iff the group the miner put it in holds
  exactly the messages of its ground-truth group; scored against ``*_structured.csv``
  (what the paper used) and ``*_structured_corrected.csv``;
- parsing accuracy (PA): the miner's ``<*>`` template equals the corrected ground-truth
  template (whitespace-normalised).
Published Drain GA from that paper is printed alongside. One miner configuration for all
sets: no per-dataset regexes or thresholds.

Throughput, in the same run over the same message bodies (headers split off first):
- ``cold``: a fresh miner, one pass over the 2k lines (best of ``--repeat``). On 2k lines
  this is mostly first sightings: every new template, token shape and line shape;
- ``warm``: the same miner, a second pass over the same lines: what the following lines of
  a long log cost once their shapes are known (a line's cost depends on its digit shape,
  not its digits, so repeating the lines is the same as new values of the same lengths).
Peers, each in the separate venv ``benchmarks/.env`` (``python -m venv benchmarks/.env &&
benchmarks/.env/bin/pip install drain3==0.9.11``), skipped if absent:
- ``drain3``: ``TemplateMiner`` with its default config (sim_th 0.4, depth 4, no masking);
- ``drain3+masks``: the same with our type masks as its masking instructions, one per type
  in our order, so both miners see the same ``<IP>``/``<NUM>``… tokens.
``ratio`` = peer time / our time (above 1: we are faster).

Usage: ``python -m benchmarks.loghub [--limit N] [--datasets HDFS,BGL] [--repeat R]
[--json] [--loo]``; ``--loo`` adds a leave-one-out check of the shipped configuration.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

from opscockpit.analysis.template_tokens import _PATTERNS, plain
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
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig
lines = json.load(open(sys.argv[1]))
masks = json.loads(sys.argv[3])
def config():
    cfg = TemplateMinerConfig()
    cfg.profiling_enabled = False
    cfg.masking_instructions = [MaskingInstruction(rx, name) for name, rx in masks]
    return cfg
cold = warm = None
for _ in range(int(sys.argv[2])):
    tm = TemplateMiner(config=config())
    t0 = time.perf_counter()
    ids = [tm.add_log_message(x)["cluster_id"] for x in lines]
    dt = time.perf_counter() - t0
    cold = dt if cold is None else min(cold, dt)
    t0 = time.perf_counter()
    for x in lines:
        tm.add_log_message(x)
    dt = time.perf_counter() - t0
    warm = dt if warm is None else min(warm, dt)
print(json.dumps({"cold": cold, "warm": warm, "ids": ids}))
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


def load(name: str, limit: int | None = None) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Message bodies, ground truth and corrected ground truth of one LogHub 2k set."""
    folder = DATASETS / "loghub" / name
    raw = (folder / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    truth = pd.read_csv(folder / f"{name}_2k.log_structured.csv", dtype=str)
    corrected_path = folder / f"{name}_2k.log_structured_corrected.csv"
    corrected = pd.read_csv(corrected_path, dtype=str) if corrected_path.exists() else truth
    split = split_headers(raw, name).frame
    n = len(split) if limit is None else min(limit, len(split))
    return split["Content"].head(n).tolist(), truth.head(n), corrected.head(n)


def _mine(contents: list[str], params: MinerParams) -> tuple[list[str], TemplateMiner]:
    miner = TemplateMiner(params)
    add = miner.add
    ids = [add(c).template_id for c in contents]
    final = miner.canonical
    return [final(i) for i in ids], miner  # merged templates answer with the surviving id


def _ours(contents: list[str], repeat: int, params: MinerParams
          ) -> tuple[float, float, list[str], TemplateMiner]:
    cold = warm = float("inf")
    ids: list[str] = []
    miner = TemplateMiner(params)
    for _ in range(repeat):
        t0 = time.perf_counter()
        ids, miner = _mine(contents, params)
        cold = min(cold, time.perf_counter() - t0)
        add = miner.add
        t0 = time.perf_counter()
        for c in contents:
            add(c)
        warm = min(warm, time.perf_counter() - t0)
    return cold, warm, ids, miner


def _drain3(contents: list[str], repeat: int, masks: list[tuple[str, str]]) -> dict | None:
    if not DRAIN3_PY.exists():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(contents, fh)
    try:
        out = subprocess.run(
            [str(DRAIN3_PY), "-c", _DRAIN3_SCRIPT, fh.name, str(repeat), json.dumps(masks)],
            capture_output=True, text=True, timeout=600, check=True,
        )
        return json.loads(out.stdout)
    except (subprocess.SubprocessError, json.JSONDecodeError) as exc:
        print(f"  drain3 failed: {exc}", file=sys.stderr)
        return None
    finally:
        os.unlink(fh.name)


def run_dataset(name: str, limit: int | None, repeat: int,
                params: MinerParams | None = None) -> dict[str, Any]:
    params = params or MinerParams()
    contents, truth, corrected = load(name, limit)
    n = len(contents)
    cold, warm, ids, miner = _ours(contents, repeat, params)
    pred = pd.Series(ids)
    plain_of = {t: plain(miner.template(t)) for t in set(ids)}
    row: dict[str, Any] = {
        "dataset": name, "lines": n, "templates": len(miner),
        "truth_templates": truth["EventId"].nunique(),
        "GA": group_accuracy(pred, truth["EventId"]),
        "GA_corrected": group_accuracy(pred, corrected["EventId"]),
        "PA_corrected": parsing_accuracy(pred.map(plain_of), corrected["EventTemplate"]),
        "drain_paper_GA": PUBLISHED_DRAIN_GA.get(name),
        "cold_lines_s": n / cold, "warm_lines_s": n / warm,
    }
    for label, masks in (("drain3", []), ("drain3_masks", list(_PATTERNS))):
        d3 = _drain3(contents, repeat, masks)
        if d3 is None:
            continue
        row[f"{label}_GA"] = group_accuracy(pd.Series(d3["ids"]), truth["EventId"])
        row[f"{label}_cold_lines_s"] = n / d3["cold"]
        row[f"{label}_warm_lines_s"] = n / d3["warm"]
        row[f"cold_ratio_vs_{label}"] = d3["cold"] / cold
        row[f"warm_ratio_vs_{label}"] = d3["warm"] / warm
    return row


def _cell(value: Any, column: str) -> str:
    if pd.isna(value):
        return "-"
    if "lines_s" in column:
        return f"{value:,.0f}"
    if "ratio" in column:
        return f"{value:.2f}x"
    return f"{value:.0f}" if "templates" in column else f"{value:.3f}"


def tables(rows: list[dict[str, Any]]) -> str:
    """The accuracy table and the throughput table, with a mean row each."""
    frame = pd.DataFrame(rows).set_index("dataset")
    accuracy = ["GA", "drain3_GA", "drain3_masks_GA", "drain_paper_GA", "GA_corrected",
                "PA_corrected", "templates", "truth_templates"]
    speed = ["cold_lines_s", "drain3_cold_lines_s", "cold_ratio_vs_drain3",
             "warm_lines_s", "drain3_warm_lines_s", "warm_ratio_vs_drain3",
             "drain3_masks_cold_lines_s", "cold_ratio_vs_drain3_masks",
             "warm_ratio_vs_drain3_masks"]
    out = []
    for title, columns in (("group accuracy (GA) and parsing accuracy", accuracy),
                           ("throughput, lines/s (ratio = peer time / our time)", speed)):
        part = frame[[c for c in columns if c in frame.columns]].astype(float)
        part.loc["mean"] = part.mean()
        text = pd.DataFrame({c: [_cell(v, c) for v in part[c]] for c in part.columns},
                            index=part.index).to_string()
        out.append(f"{title}\n{text}")
    return "\n\n".join(out)


# Leave-one-out: the configuration tuned on six sets, scored on the seventh, against the
# shipped one. Small grid around the shipped values; a held-out score close to the shipped
# one says the defaults are not fitted to any single file.
_GRID: dict[str, tuple[Any, ...]] = {
    "similarity": (0.5, 0.6, 0.7),
    "wildcard_weight": (0.5, 1.0),
    "word_variety": (3, 4, 5, 6, 8),
}


def leave_one_out(names: list[str], limit: int | None) -> pd.DataFrame:
    """For each set: GA of the shipped config, and of the configs that score best on the others.

    Many grid points tie on the other sets; all of them are reported (worst and mean)
    rather than one picked by grid order.
    """
    data = {n: load(n, limit) for n in names}
    base = MinerParams()
    grid = [replace(base, **dict(zip(_GRID, values, strict=True)))
            for values in itertools.product(*_GRID.values())]
    ga = {(i, n): group_accuracy(pd.Series(_mine(data[n][0], p)[0]), data[n][1]["EventId"])
          for i, p in enumerate(grid) for n in names}
    shipped = grid.index(base)
    rows = []
    for held in names:
        others = [n for n in names if n != held]
        score = {i: sum(ga[i, n] for n in others) for i in range(len(grid))}
        top = max(score.values())
        tied = [i for i in range(len(grid)) if score[i] >= top - 1e-9]
        held_scores = [ga[i, held] for i in tied]
        rows.append({
            "held_out": held, "GA_shipped": ga[shipped, held],
            "GA_tuned_worst": min(held_scores),
            "GA_tuned_mean": sum(held_scores) / len(held_scores),
            "tied_configs": len(tied), "shipped_among_them": shipped in tied,
            "word_variety_chosen": sorted({asdict(grid[i])["word_variety"] for i in tied}),
        })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N lines of each set")
    ap.add_argument("--datasets", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats (best of)")
    ap.add_argument("--json", action="store_true", help="print rows as JSON instead of tables")
    ap.add_argument("--loo", action="store_true", help="add the leave-one-out check")
    args = ap.parse_args(argv)
    root = DATASETS / "loghub"
    names = [d.name for d in sorted(root.iterdir()) if d.is_dir() and d.name in LOGHUB_FORMATS]
    if args.datasets:
        wanted = set(args.datasets.split(","))
        names = [n for n in names if n in wanted]
    rows = [run_dataset(n, args.limit, max(args.repeat, 1)) for n in names]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(tables(rows))
    if not DRAIN3_PY.exists():
        print(f"\n(drain3 columns missing: no venv at {DRAIN3_PY.parent.parent})")
    if args.loo:
        with pd.option_context("display.width", 200, "display.max_colwidth", 80):
            print("\nleave-one-out (grid: "
                  + ", ".join(f"{k} {v}" for k, v in _GRID.items()) + ")")
            print(leave_one_out(names, args.limit).to_string(index=False,
                                                             float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
