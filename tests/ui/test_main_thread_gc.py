"""The app's main-thread collections wait while a first sync or an import holds the
collector off (desktop.store.gcpause)."""

from __future__ import annotations

import gc

from desktop.store.gcpause import collector_paused
from desktop.ui.common import main_thread_gc


def test_no_collection_while_bulk_work_holds_the_collector() -> None:
    gc.disable()  # as main_thread_gc.install does: collections come from its timer
    try:
        garbage = [[i] for i in range(gc.get_threshold()[0] * 2)]  # past the threshold
        with collector_paused():
            assert main_thread_gc.collect_due() == -1
        assert main_thread_gc.collect_due() >= 0
        del garbage
    finally:
        gc.enable()
