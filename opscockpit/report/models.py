"""The report's ``models`` section: each model version judged inside the report's window.

The reference is the one the Models pane uses: the time range declared by a
``model_reference`` annotation (a reference file, or the analyzer's default choice), else the
first 25% of the version's rows. Rows of the window after the reference are cut into the
same windows and judged by the same functions as the analyzer's, so a feature is ``drifted``
only when its drift is sustained over consecutive windows inside the range, with its
``onset``. Most serious first: degraded, drifting, no labels yet, healthy.
"""

from __future__ import annotations

from typing import Any

from opscockpit.report.builder import ReportWindow, iso
from opscockpit.store import Store
from opscockpit.store.model_queries import annotations_of_kind, model_frame, model_versions


def models_section(store: Store, window: ReportWindow) -> dict[str, Any]:
    versions = model_versions(store, window.start, window.end)
    if not versions:
        return {"models": []}
    from opscockpit.analysis.model_health import split_reference, typed_outputs, version_health
    from opscockpit.analysis.model_json import health_to_dict
    from opscockpit.analyzers.models import (
        REFERENCE_KIND,
        declared_references,
        default_settings,
    )
    from opscockpit.analyzers.models_view import STATUS_ORDER

    settings = default_settings()
    declared = declared_references(annotations_of_kind(store, REFERENCE_KIND))
    healths = []
    for model, version, *_ in versions:
        # Every row of the version: its reference may lie before the window.
        rows = typed_outputs(model_frame(store, model, version))
        span = declared.get((model, version))
        inside = (rows["ts"] >= span[0]) & (rows["ts"] <= span[1]) if span else None
        if inside is not None and inside.any():
            reference, current = rows[inside], rows[rows["ts"] > span[1]]  # type: ignore[index]
        else:  # none declared, or its rows are gone: the analyzer's default too
            reference, current = split_reference(rows, settings)
        if window.start is not None:
            current = current[current["ts"] >= window.start]
        if window.end is not None:
            current = current[current["ts"] <= window.end]
        healths.append(version_health(model, version, current, reference, settings))
    healths.sort(key=lambda h: (STATUS_ORDER.index(str(h.status)), h.model, h.version))
    return {"models": [health_to_dict(h, stamp=iso) for h in healths]}
