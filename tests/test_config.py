from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from opscockpit.config import ConfigError, load_config, parse_duration


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_config_means_this_host_and_default_store(tmp_path: Path) -> None:
    config = load_config(None, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert [(s.name, s.kind) for s in config.sources] == [("host", "host")]
    assert config.store.name == "cockpit.duckdb"


def test_full_config_is_typed(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[cockpit]
store = "~/x.duckdb"
refresh = "2s"
retention = "3d"
theme = "ansi-dark"

[sources.gh]
kind = "github_actions"
interval = "1m"
repos = ["a/b"]
token_env = "GITHUB_TOKEN"

[thresholds]
cpu_warn_pct = 60
""")
    config = load_config(path, env={})
    assert config.refresh_s == 2.0 and config.retention == timedelta(days=3)
    assert config.theme == "ansi-dark" and config.store == Path("~/x.duckdb").expanduser()
    (gh,) = config.sources
    assert (gh.kind, gh.interval_s, gh.options) == (
        "github_actions", 60.0, {"repos": ["a/b"], "token_env": "GITHUB_TOKEN"})
    assert config.thresholds.cpu_warn_pct == 60.0


@pytest.mark.parametrize(("text", "expected"), [
    ("[cockpit]\n\nrefresh = 'soon'\n", r"config.toml:3: key 'cockpit.refresh' 'soon' is not"),
    ("[cockpit]\ntheme = 'pink'\n", r"config.toml:2: key 'cockpit.theme' should be one of"),
    ("[cockpit]\ncolour = 1\n", r"config.toml:2: key 'cockpit.colour' is unknown"),
    ("[thresholds]\ncpu_warn_pct = 'hi'\n", r"config.toml:2: key 'thresholds.cpu_warn_pct' should"),
    ("[sources.gh]\nkind='x'\ntoken = 'ghp_secret'\n",
     r"config.toml:3: key 'sources.gh.token' holds a secret"),
    ("[cockpit\nrefresh = 1\n", r"config.toml: .*line 1"),
])
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(path, env={})
    assert "ghp_secret" not in str(info.value)


def test_environment_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "[cockpit]\nrefresh = 5\n")
    config = load_config(path, env={"OPSCOCKPIT_REFRESH": "0.5", "OPSCOCKPIT_DB": "/tmp/o.db",
                                    "OPSCOCKPIT_THEME": "ansi-light",
                                    "OPSCOCKPIT_READONLY": "1"})
    assert config.refresh_s == 0.5 and config.store == Path("/tmp/o.db")
    assert config.theme == "ansi-light" and config.readonly
    with pytest.raises(ConfigError, match="environment: OPSCOCKPIT_THEME"):
        load_config(path, env={"OPSCOCKPIT_THEME": "pink"})


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration(2) == timedelta(seconds=2)
    with pytest.raises(ValueError):
        parse_duration("ten minutes")


def test_topology_gives_service_dependencies(tmp_path: Path) -> None:
    from opscockpit.store import Store
    from opscockpit.store.root_cause_queries import DEPENDENCIES_META_KEY
    from opscockpit.wiring import record_topology

    path = _write(tmp_path, '[topology]\ndepends_on = {web = ["api"], api = "db"}\n')
    config = load_config(path, env={})
    assert config.depends_on == {"web": ("api",), "api": ("db",)}
    store = Store.open(None)
    record_topology(config, store)
    assert store.get_meta(DEPENDENCIES_META_KEY) == '{"web": ["api"], "api": ["db"]}'
    bad = _write(tmp_path, "[topology]\ndepends_on = {web = 3}\n")
    with pytest.raises(ConfigError, match=r"depends_on\.web"):
        load_config(bad, env={})
