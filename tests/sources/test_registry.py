from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from opscockpit.config import load_config
from opscockpit.sources import registry
from opscockpit.sources.base import HealthState
from opscockpit.sources.host import HostSource
from opscockpit.wiring import build_sources


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, extra: list[EntryPoint]) -> None:
    real = registry._entry_points()
    monkeypatch.setattr(registry, "_entry_points", lambda: real + extra)


def test_builtins_are_registered_as_entry_points() -> None:
    kinds = {a.kind: a for a in registry.available()}
    assert kinds["host"].builtin
    assert registry.load("host") is HostSource


def test_broken_plugin_becomes_a_health_error(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    _fake_entry_points(monkeypatch, [
        EntryPoint("broken", "no_such_module_xyz:Source", registry.GROUP),
        EntryPoint("notasource", "opscockpit.records:utc", registry.GROUP),
    ])
    listed = {a.kind for a in registry.available()}
    assert {"broken", "notasource"} <= listed  # listing never imports
    config_file = tmp_path / "c.toml"
    config_file.write_text(
        "[sources.host]\n[sources.b]\nkind = 'broken'\n[sources.n]\nkind = 'notasource'\n"
        "[sources.missing]\nkind = 'nope'\n[sources.badopt]\nkind = 'host'\nwat = 1\n"
    )
    wired = build_sources(load_config(config_file, env={}))
    assert [s.source.name for s in wired.scheduled] == ["host"]
    reasons = {h.name: h.reason for h in wired.broken}
    assert all(h.state is HealthState.ERROR for h in wired.broken)
    assert "failed to import" in reasons["b"] and "ModuleNotFoundError" in reasons["b"]
    assert "is not a Source class" in reasons["n"]
    assert "no source adapter 'nope'" in reasons["missing"]
    assert "no option 'wat'" in reasons["badopt"]
