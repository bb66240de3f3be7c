"""Regenerate screenshots/ from the running app (never drawn by hand).

Runs the real cockpit (engine, host source, DuckDB store in a temp dir) headless
at each terminal size, lets a few samples land, and saves an SVG.

    .venv/bin/python scripts/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"
SIZES = {"cockpit-80x24.svg": (80, 24), "cockpit-200x50.svg": (200, 50)}


async def shoot(name: str, size: tuple[int, int], store_dir: Path) -> Path:
    from opscockpit.config import load_config
    from opscockpit.store import Store
    from opscockpit.ui.app import CockpitApp
    from opscockpit.wiring import build_engine

    config = load_config(None, env={"XDG_CONFIG_HOME": str(store_dir)})
    store = Store.open(store_dir / f"{name}.duckdb")
    app = CockpitApp(build_engine(config, store), thresholds=config.thresholds)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(6.0)  # a few polls, so rates and sparklines have data
        app.save_screenshot(filename=name, path=str(OUT))
    store.close()
    return OUT / name


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in SIZES.items():
            path = asyncio.run(shoot(name, size, Path(tmp)))
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
