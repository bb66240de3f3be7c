"""Store errors carry one line an operator can act on."""

from __future__ import annotations

import re
from pathlib import Path


class StoreError(Exception):
    """The store file could not be opened or written; the message names the file."""


_LOCK_PID = re.compile(r"PID (\d+)")


def explain_open_error(path: Path, error: Exception) -> StoreError:
    """Translate DuckDB's open errors into one actionable line."""
    text = str(error)
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = _LOCK_PID.search(text)
        holder = f" (PID {pid.group(1)})" if pid else ""
        return StoreError(
            f"store {path} is locked by another process{holder}: another opscockpit is "
            f"writing it; stop it, or use --db with another file, or --readonly"
        )
    if "not a valid DuckDB database" in text:
        return StoreError(
            f"store {path} is not a DuckDB database: move it aside or choose another --db"
        )
    if isinstance(error, PermissionError) or "Permission denied" in text:
        return StoreError(f"store {path} cannot be opened: permission denied")
    if "newer" in text and "version" in text.lower():
        return StoreError(f"store {path} was written by a newer DuckDB: upgrade opscockpit")
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return StoreError(f"store {path} cannot be opened: {first}")
