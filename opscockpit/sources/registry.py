"""Find source adapters through the ``opscockpit.sources`` entry-point group.

Built-ins are registered there too, so a plugin is a first-class citizen. Listing
never imports an adapter; loading one that fails gives a reason, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from opscockpit.sources.base import Source

GROUP = "opscockpit.sources"


@dataclass(frozen=True, slots=True)
class Adapter:
    kind: str
    target: str
    distribution: str

    @property
    def builtin(self) -> bool:
        return self.target.startswith("opscockpit.")


class AdapterLoadError(Exception):
    """An adapter is registered but cannot be used; the message says why."""


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def available() -> list[Adapter]:
    """Every registered adapter, without importing any of them."""
    found: dict[str, Adapter] = {}
    for ep in _entry_points():
        dist = ep.dist.name if ep.dist is not None else ""
        found.setdefault(ep.name, Adapter(ep.name, ep.value, dist))
    return list(found.values())


def load(kind: str) -> type[Source]:
    """Import the adapter class registered as ``kind``."""
    matches = [ep for ep in _entry_points() if ep.name == kind]
    if not matches:
        known = ", ".join(a.kind for a in available()) or "none"
        raise AdapterLoadError(f"no source adapter {kind!r} is installed (known: {known})")
    try:
        loaded = matches[0].load()
    except Exception as exc:  # a broken plugin must not take the cockpit down
        raise AdapterLoadError(
            f"adapter {kind!r} ({matches[0].value}) failed to import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Source)):
        raise AdapterLoadError(f"adapter {kind!r} ({matches[0].value}) is not a Source class")
    return loaded
