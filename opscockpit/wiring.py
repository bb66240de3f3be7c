"""Turn a configuration into running parts: scheduled sources and the engine."""

from __future__ import annotations

from dataclasses import dataclass

from opscockpit.clock import Clock
from opscockpit.config import Config
from opscockpit.engine import Engine, Scheduled
from opscockpit.sources.base import HealthState, SourceHealth
from opscockpit.sources.registry import AdapterLoadError, load
from opscockpit.store import Store


@dataclass(frozen=True, slots=True)
class Wired:
    scheduled: list[Scheduled]
    broken: list[SourceHealth]


def build_sources(config: Config) -> Wired:
    """Instantiate every configured source; one that cannot start becomes a health error."""
    scheduled: list[Scheduled] = []
    broken: list[SourceHealth] = []
    for item in config.sources:
        try:
            adapter = load(item.kind)
            source = adapter(item.name, item.options)
        except AdapterLoadError as exc:
            broken.append(SourceHealth(item.name, item.kind, HealthState.ERROR, str(exc)))
            continue
        except Exception as exc:  # a plugin's constructor must not take the cockpit down
            reason = f"cannot start: {exc}" if isinstance(exc, ValueError) else (
                f"cannot start: {type(exc).__name__}: {exc}")
            broken.append(SourceHealth(item.name, item.kind, HealthState.ERROR, reason))
            continue
        scheduled.append(
            Scheduled(
                source=source,
                interval_s=item.interval_s or _interval(adapter.default_interval_s, config),
                timeout_s=item.timeout_s or adapter.default_timeout_s,
            )
        )
    return Wired(scheduled, broken)


def _interval(default_s: float, config: Config) -> float:
    # The host source follows --refresh; slower adapters keep their own cadence.
    return config.refresh_s if default_s <= 1.0 else max(default_s, config.refresh_s)


def record_topology(config: Config, store: Store) -> None:
    """Keep the configured dependencies in the store, where root-cause ranking reads them."""
    if config.depends_on and not store.read_only:
        import json

        from opscockpit.store.root_cause_queries import DEPENDENCIES_META_KEY

        store.set_meta(DEPENDENCIES_META_KEY,
                       json.dumps({k: list(v) for k, v in config.depends_on.items()}))


def build_engine(config: Config, store: Store, clock: Clock | None = None) -> Engine:
    record_topology(config, store)
    wired = build_sources(config)
    return Engine(
        store,
        wired.scheduled,
        clock=clock,
        refresh_s=config.refresh_s,
        retention=config.retention,
        broken=wired.broken,
    )
