"""`opscockpit sources`: what adapters exist, what is configured, and whether it answers."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from opscockpit.config import Config
from opscockpit.sources.base import Batch, HealthState, SourceHealth
from opscockpit.sources.registry import available
from opscockpit.wiring import build_sources


def check_sources(config: Config) -> list[SourceHealth]:
    """Start each configured source and poll it once within its timeout."""
    wired = build_sources(config)
    results = list(wired.broken)

    async def probe() -> None:
        for item in wired.scheduled:
            source = item.source
            try:
                if inspect.iscoroutinefunction(source.poll):
                    batch = await asyncio.wait_for(source.poll(None), item.timeout_s)  # type: ignore[arg-type]
                else:
                    batch = await asyncio.wait_for(
                        asyncio.to_thread(source.poll, None), item.timeout_s
                    )
                rows = len(batch) if isinstance(batch, Batch) else 0
                results.append(SourceHealth(source.name, source.kind, HealthState.OK, "",
                                            datetime.now(UTC), None, rows))
            except TimeoutError:
                results.append(SourceHealth(source.name, source.kind, HealthState.STALE,
                                            f"no answer within {item.timeout_s:g}s"))
            except Exception as exc:  # a broken source is reported, not raised
                results.append(SourceHealth(source.name, source.kind, HealthState.ERROR, str(exc)))
            finally:
                source.close()

    asyncio.run(probe())
    return sorted(results, key=lambda h: h.name)


def print_sources(config: Config, health: list[SourceHealth] | None) -> None:
    console = Console()
    adapters = Table(title="Adapters found", title_justify="left")
    for column in ("kind", "provided by", "where"):
        adapters.add_column(column)
    for adapter in available():
        adapters.add_row(adapter.kind, "built-in" if adapter.builtin else adapter.distribution,
                         adapter.target)
    console.print(adapters)
    configured = Table(title=f"Configured ({config.path or 'no config file: defaults'})",
                       title_justify="left")
    for column in ("name", "kind", "health", "detail"):
        configured.add_column(column)
    by_name = {h.name: h for h in health or []}
    for item in config.sources:
        h = by_name.get(item.name)
        state = h.state.value if h else "not checked"
        detail = (h.reason or f"{h.rows} rows in one poll") if h else ""
        configured.add_row(item.name, item.kind, state, detail)
    console.print(configured)
