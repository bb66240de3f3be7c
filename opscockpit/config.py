"""The typed configuration: one TOML file, ``OPSCOCKPIT_*`` overrides, XDG paths.

An invalid file is reported with the file, the line and the key. Secrets never
live in the file: a source option names the environment variable that holds one.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir

APP = "opscockpit"
THEMES = ("auto", "textual-dark", "textual-light", "ansi-dark", "ansi-light", "nord", "gruvbox")


class ConfigError(Exception):
    """The configuration is invalid; the message names the file, line and key."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    name: str
    kind: str
    interval_s: float | None = None
    timeout_s: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thresholds:
    cpu_warn_pct: float = 75.0
    cpu_crit_pct: float = 90.0
    mem_warn_pct: float = 80.0
    mem_crit_pct: float = 92.0
    disk_warn_pct: float = 85.0
    disk_crit_pct: float = 95.0


@dataclass(frozen=True, slots=True)
class Config:
    store: Path
    refresh_s: float = 1.0
    retention: timedelta = timedelta(days=7)
    theme: str = "auto"
    readonly: bool = False
    sources: tuple[SourceConfig, ...] = ()
    thresholds: Thresholds = Thresholds()
    # service -> the services it calls (``web -> api -> db``), for root-cause ranking.
    depends_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = None


def default_config_path() -> Path:
    return Path(user_config_dir(APP)) / "config.toml"


def default_store_path() -> Path:
    return Path(user_data_dir(APP)) / "cockpit.duckdb"


DEFAULT_SOURCES = (SourceConfig(name="host", kind="host"),)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | float | int) -> timedelta:
    """``90``, ``"90s"``, ``"10m"``, ``"7d"`` -> timedelta."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return timedelta(seconds=float(text))
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration (try 30s, 10m, 6h, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the config file (or the default one if it exists) and apply env overrides."""
    env = dict(os.environ if env is None else env)
    explicit = path or (Path(env["OPSCOCKPIT_CONFIG"]) if env.get("OPSCOCKPIT_CONFIG") else None)
    file = explicit or default_config_path()
    if explicit is not None and not file.exists():
        raise ConfigError(f"config {file} does not exist")
    raw: dict[str, Any] = {}
    text = ""
    if file.exists():
        try:
            text = file.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {file}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config {file} cannot be read: {exc}") from None
    config = _parse(raw, _Locator(file, text))
    config = _with_env(config, env)
    return replace(config, path=file) if file.exists() else config


class _Locator:
    """Finds the line of a key so errors can point at it."""

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = text.splitlines()

    def error(self, section: str, key: str, problem: str) -> ConfigError:
        line = self._line(section, key)
        where = f"{self.file}:{line}" if line else str(self.file)
        dotted = f"{section}.{key}" if section else key
        return ConfigError(f"config {where}: key {dotted!r} {problem}")

    def _line(self, section: str, key: str) -> int | None:
        current = ""
        header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
        assign = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number, line in enumerate(self.lines, start=1):
            found = header.match(line)
            if found:
                current = found.group(1).strip()
                if not key and current == section:
                    return number
                continue
            if current == section and assign.match(line):
                return number
        return None


def _parse(raw: dict[str, Any], where: _Locator) -> Config:
    cockpit = raw.get("cockpit", {})
    known_top = {"cockpit", "sources", "thresholds", "topology"}
    for key in raw:
        if key not in known_top:
            raise where.error("", key, f"is unknown (expected one of {sorted(known_top)})")
    if not isinstance(cockpit, dict):
        raise where.error("", "cockpit", "should be a table")
    kwargs: dict[str, Any] = {"store": default_store_path()}
    for key, value in cockpit.items():
        try:
            if key == "store":
                kwargs["store"] = Path(_typed(value, str)).expanduser()
            elif key == "refresh":
                kwargs["refresh_s"] = _positive(parse_duration(value).total_seconds())
            elif key == "retention":
                kwargs["retention"] = parse_duration(value)
            elif key == "theme":
                if value not in THEMES:
                    raise ValueError(f"should be one of {', '.join(THEMES)}")
                kwargs["theme"] = value
            elif key == "readonly":
                kwargs["readonly"] = _typed(value, bool)
            else:
                raise ValueError("is unknown")
        except (ValueError, TypeError) as exc:
            raise where.error("cockpit", key, str(exc)) from None
    kwargs["sources"] = _sources(raw.get("sources", {}), where) or DEFAULT_SOURCES
    kwargs["thresholds"] = _thresholds(raw.get("thresholds", {}), where)
    kwargs["depends_on"] = _topology(raw.get("topology", {}), where)
    return Config(**kwargs)


def _topology(raw: Any, where: _Locator) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise where.error("", "topology", "should be a table")
    for key in raw:
        if key != "depends_on":
            raise where.error("topology", key, "is unknown (known: depends_on)")
    table = raw.get("depends_on", {})
    if not isinstance(table, dict):
        raise where.error("topology", "depends_on", "should be a table of service = [...]")
    out: dict[str, tuple[str, ...]] = {}
    for service, upstream in table.items():
        if isinstance(upstream, str):
            upstream = [upstream]
        if not isinstance(upstream, list) or not all(isinstance(u, str) for u in upstream):
            raise where.error("topology.depends_on", service, "should be a list of services")
        out[str(service)] = tuple(upstream)
    return out


def _sources(raw: Any, where: _Locator) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, dict):
        raise where.error("", "sources", "should be a table of [sources.NAME] tables")
    out = []
    for name, body in raw.items():
        section = f"sources.{name}"
        if not isinstance(body, dict):
            raise where.error("sources", name, "should be a table")
        options = dict(body)
        try:
            kind = _typed(options.pop("kind", name), str)
        except TypeError as exc:
            raise where.error(section, "kind", str(exc)) from None
        timing: dict[str, float | None] = {"interval": None, "timeout": None}
        for key in timing:
            if key in options:
                try:
                    timing[key] = _positive(parse_duration(options.pop(key)).total_seconds())
                except (ValueError, TypeError) as exc:
                    raise where.error(section, key, str(exc)) from None
        for key in options:
            if key.endswith(("token", "password", "secret")):
                raise where.error(
                    section, key, f"holds a secret: name its environment variable in {key}_env"
                )
        out.append(SourceConfig(name, kind, timing["interval"], timing["timeout"], options))
    return tuple(out)


def _thresholds(raw: Any, where: _Locator) -> Thresholds:
    if not isinstance(raw, dict):
        raise where.error("", "thresholds", "should be a table")
    known = set(Thresholds.__dataclass_fields__)
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise where.error("thresholds", key, f"is unknown (known: {', '.join(sorted(known))})")
        try:
            values[key] = float(_typed(value, (int, float)))
        except TypeError as exc:
            raise where.error("thresholds", key, str(exc)) from None
    return Thresholds(**values)


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) and kind is not bool:
        raise TypeError(f"should be {_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise TypeError(f"should be {_name(kind)}, got {type(value).__name__}")
    return value


def _name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return "a number"
    return {"str": "a string", "bool": "true or false"}.get(kind.__name__, kind.__name__)


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("should be more than zero")
    return seconds


def _with_env(config: Config, env: dict[str, str]) -> Config:
    changes: dict[str, Any] = {}
    try:
        if env.get("OPSCOCKPIT_DB"):
            changes["store"] = Path(env["OPSCOCKPIT_DB"]).expanduser()
        if env.get("OPSCOCKPIT_REFRESH"):
            changes["refresh_s"] = _positive(
                parse_duration(env["OPSCOCKPIT_REFRESH"]).total_seconds())
        if env.get("OPSCOCKPIT_RETENTION"):
            changes["retention"] = parse_duration(env["OPSCOCKPIT_RETENTION"])
        if env.get("OPSCOCKPIT_THEME"):
            if env["OPSCOCKPIT_THEME"] not in THEMES:
                raise ValueError(f"OPSCOCKPIT_THEME should be one of {', '.join(THEMES)}")
            changes["theme"] = env["OPSCOCKPIT_THEME"]
        if env.get("OPSCOCKPIT_READONLY"):
            changes["readonly"] = env["OPSCOCKPIT_READONLY"].lower() in {"1", "true", "yes"}
    except ValueError as exc:
        raise ConfigError(f"environment: {exc}") from None
    return replace(config, **changes)
