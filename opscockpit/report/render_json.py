"""The report as JSON (``opscockpit.report/1``) and its shipped JSON Schema."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def schema() -> dict[str, Any]:
    text = files("opscockpit.report").joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]
