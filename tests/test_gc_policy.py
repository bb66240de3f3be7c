"""The long-run GC policy: fewer young collections, startup objects out of full passes."""

from __future__ import annotations

import gc

from opscockpit.gc_policy import YOUNG_THRESHOLD, settle_for_long_run


def test_settling_raises_the_young_threshold_and_freezes_what_exists() -> None:
    before = gc.get_threshold()
    try:
        settle_for_long_run()
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 1000  # everything imported so far
        # Cycles made afterwards are still found.
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
