"""``opscockpit ingest metrics``: one metric file into a batch of samples."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opscockpit.ingest import ParsedFile
from opscockpit.sources.base import Batch
from opscockpit.sources.metric_files import parse_metric_file


def parse_metrics(path: Path, options: Mapping[str, Any]) -> ParsedFile:
    result = parse_metric_file(path)
    return ParsedFile(
        path=path,
        format=result.formats.get(str(path), "?"),
        batch=Batch(frames={"metrics": result.frame}),
        errors=list(result.errors),
    )
