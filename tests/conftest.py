"""Shared fixtures: where the public datasets live, and what a missing one means."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATASETS = Path(
    os.environ.get("OPSCOCKPIT_DATASETS",
                   Path(__file__).resolve().parents[2] / "shared" / "datasets")
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_dataset(relative: str) -> Path:
    """Path of a dataset under ../shared/datasets; skip on a laptop without it, fail in CI."""
    path = DATASETS / relative
    if not path.exists():
        reason = f"dataset {path} not found (set OPSCOCKPIT_DATASETS or check out ../shared)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return path


def require_binary(name: str) -> str:
    """Path of an executable; skip on a laptop without it, fail in CI."""
    import shutil

    found = shutil.which(name)
    if not found:
        reason = f"{name} not installed (.ci/run installs it with apt-get)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture
def datasets() -> Path:
    return require_dataset("")
