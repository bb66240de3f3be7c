from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SUBCOMMANDS = ["run", "sources", "record", "replay", "report", "demo", "templates", "serve",
               "ingest", "ingest alerts", "ingest logs", "ingest metrics",
               "ingest runs", "ingest predictions"]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opscockpit", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)


def test_version() -> None:
    out = _cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("opscockpit ")


@pytest.mark.parametrize("command", [[], *[c.split() for c in SUBCOMMANDS]])
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    out = _cli(*command, "--help")
    assert out.returncode == 0
    assert "Example: opscockpit" in out.stdout


def test_corrupt_store_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"\x00garbage" * 1000)
    import os

    env = {**os.environ, "OPSCOCKPIT_FORCE_TUI": "1"}
    out = _cli("--db", str(bad), env=env)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert str(bad) in lines[0] and "not a DuckDB database" in lines[0]
    assert "Traceback" not in out.stderr


def test_invalid_config_is_one_line_with_file_line_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[cockpit]\nrefresh = 'often'\n")
    out = _cli("sources", "--config", str(config))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"opscockpit: config {config}:2: key 'cockpit.refresh' "
        "'often' is not a duration (try 30s, 10m, 6h, 7d)"
    )


def test_without_a_terminal_run_says_so() -> None:
    out = _cli("run")
    assert out.returncode == 1
    assert "needs a terminal" in out.stderr and "Traceback" not in out.stderr


def test_sources_lists_builtins_and_health(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    out = _cli("sources", env=env)
    assert out.returncode == 0, out.stderr
    assert "host" in out.stdout and "built-in" in out.stdout and "ok" in out.stdout


def test_record_says_which_source_cannot_start_and_records_nothing_without_one(
        tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[sources.fleet]\nkind = "prometheus"\nstep = 5\n')
    out = tmp_path / "r.duckdb"
    done = _cli("record", "--out", str(out), "--duration", "1s", "--config", str(config))
    assert done.returncode == 2
    assert "source fleet (prometheus) error: cannot start: " in done.stderr
    assert "has no option 'step'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
