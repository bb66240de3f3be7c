"""The embedded DuckDB store: the only place that speaks SQL."""

from opscockpit.store.duck import MEMORY, Store
from opscockpit.store.errors import StoreError
from opscockpit.store.schema import SCHEMA_VERSION

__all__ = ["MEMORY", "SCHEMA_VERSION", "Store", "StoreError"]
