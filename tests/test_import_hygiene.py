"""The headless core must never pull in textual (STYLE.md, practice 1)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "opscockpit.records", "opscockpit.store", "opscockpit.sources", "opscockpit.sources.host",
    "opscockpit.sources.registry", "opscockpit.engine", "opscockpit.cli", "opscockpit.config",
    "opscockpit.wiring", "opscockpit.snapshot", "opscockpit.analysis", "opscockpit.intake",
    "opscockpit.analyzers.alerts", "opscockpit.analyzers.pipelines", "opscockpit.replay",
    "opscockpit.report.builder", "opscockpit.commands.replay", "opscockpit.sources.alertmanager",
    "opscockpit.sources.prometheus",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


def test_import_linter_contract_holds() -> None:
    from importlinter.cli import lint_imports

    assert lint_imports() == 0


def test_live_cockpit_path_stays_free_of_pandas() -> None:
    """pandas+pyarrow cost ~90 MB of RSS; the live view must not pay for them."""
    code = (
        "import sys; import opscockpit.ui.app, opscockpit.wiring, opscockpit.sources.host, "
        "opscockpit.sources.alertmanager, opscockpit.sources.prometheus, opscockpit.cli; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pandas', 'pyarrow', 'sklearn', 'scipy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_running_live_engine_on_a_quiet_host_stays_free_of_pandas() -> None:
    """Analyzers load pandas only once there is something for them to analyse."""
    code = """
import asyncio, sys
from opscockpit.engine import Engine, Scheduled
from opscockpit.sources.host import HostSource
from opscockpit.store import Store

async def main():
    engine = Engine(Store.open(None), [Scheduled(HostSource("host"), 0.2, 5)], refresh_s=0.2)
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(2)
    engine.stop()
    await task
    assert engine.last_snapshot is not None and engine.last_snapshot.telemetry

asyncio.run(main())
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "pyarrow"))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == ""
