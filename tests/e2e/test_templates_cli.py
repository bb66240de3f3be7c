"""``opscockpit templates`` through the real console path, scored on every LogHub 2k system.

For each system under ``../shared/datasets/loghub/`` the command writes the structured CSV,
and its ``EventId`` column is scored against LogHub's ``*_structured.csv`` by grouping
accuracy. A system scoring below Drain's published figure fails (Zhu et al. 2019: HDFS .998,
BGL .963, OpenStack .733, Linux .690, Apache 1.0, Zookeeper .967, OpenSSH .788, and the
other nine sets of that table), and so does a mean below .95.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.loghub import PUBLISHED_DRAIN_GA, group_accuracy
from tests.conftest import DATASETS, require_dataset

COMMAND = [sys.executable, "-m", "opscockpit", "templates"]
GOAL_MEAN = 0.95


def _systems() -> list[str]:
    root = DATASETS / "loghub"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}_2k.log").exists())


SYSTEMS = _systems()


@functools.cache
def _scored(name: str, workdir: str) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    folder = require_dataset(f"loghub/{name}")
    out = Path(workdir) / f"{name}_structured.csv"
    done = subprocess.run([*COMMAND, str(folder / f"{name}_2k.log"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    if "No such command" in done.stderr:
        pytest.fail("`opscockpit templates` is not registered in opscockpit/cli.py")
    assert done.returncode == 0, done.stderr
    mined = pd.read_csv(out, dtype=str, keep_default_na=False)
    truth = pd.read_csv(folder / f"{name}_2k.log_structured.csv", dtype=str)
    return group_accuracy(mined["EventId"], truth["EventId"]), mined, truth


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("templates"))


@pytest.mark.parametrize("name", SYSTEMS or ["(none)"])
def test_templates_beats_drain_on_each_loghub_system(name: str, workdir: str) -> None:
    if not SYSTEMS:
        require_dataset("loghub")  # skips on a laptop without the data, fails in CI
        pytest.fail(f"no LogHub 2k systems under {DATASETS / 'loghub'}")
    accuracy, mined, truth = _scored(name, workdir)
    assert list(mined.columns) == ["LineId", "Content", "EventId", "EventTemplate"]
    assert mined["LineId"].tolist() == [str(i) for i in range(1, len(truth) + 1)]
    same_content = (mined["Content"].str.split().str.join(" ")
                    == truth["Content"].str.split().str.join(" "))
    assert same_content.mean() > 0.99, "header splitting does not match LogHub's"
    drain = PUBLISHED_DRAIN_GA[name]
    # The paper prints three decimals: 0.9975 (Drain's own HDFS score) is its ".998".
    assert accuracy >= drain - 0.0005, f"{name}: grouping accuracy {accuracy:.4f} < Drain's {drain}"


def test_templates_mean_accuracy_reaches_the_goal(workdir: str) -> None:
    if not SYSTEMS:
        require_dataset("loghub")
        pytest.fail(f"no LogHub 2k systems under {DATASETS / 'loghub'}")
    scores = {name: _scored(name, workdir)[0] for name in SYSTEMS}
    mean = sum(scores.values()) / len(scores)
    assert mean >= GOAL_MEAN, f"mean grouping accuracy {mean:.3f}: {scores}"


def test_templates_errors_are_one_line(tmp_path: Path) -> None:
    done = subprocess.run([*COMMAND, str(tmp_path / "missing.log")], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "missing.log" in done.stderr


def test_templates_writes_stdout_without_out(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("Jun 14 15:16:01 web-1 sshd[123]: Accepted password for alice from "
                   "10.0.0.1 port 22 ssh2\n"
                   "Jun 14 15:16:02 web-1 sshd[124]: Accepted password for alice from "
                   "10.0.0.2 port 5022 ssh2\n")
    done = subprocess.run([*COMMAND, str(log)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "LineId,Content,EventId,EventTemplate"
    assert len(lines) == 3 and lines[1].split(",")[2] == lines[2].split(",")[2]
    assert lines[1].endswith("Accepted password for alice from <*> port <*> ssh2")
