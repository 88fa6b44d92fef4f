"""Python's cyclic garbage collector held off while many rows are made at once.

A first sync, an import and the index builder create millions of short-lived dicts,
lists and tuples (decoded pages, checked values, insert rows). None of them form
cycles, so reference counting frees every one; but each 700 allocations the collector
walks the young objects, and a decoded page still in use is walked again in each older
generation. Measured on a 60,000-row pull (benchmarks.sync's data): 51 -> 33 µs of
this process's time per row with the collector off. The collector is process-wide, so
nested and concurrent holders share one count and the last one out turns it back on;
cycles made meanwhile (a few per page at most) are collected then. An import's chunk
(desktop.store.repository.import_many) is held the same way: collections walking its
rows were a sixth of an import's time. In the app, whose collections run on the Qt main
thread (desktop.ui.common.main_thread_gc), that timer skips its turn while one is held.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def collect_young() -> None:
    """Between two pages of a long pull, with the collector held: collect the young
    generations now. A page's few cycles (an HTTP response and what its stream holds,
    the decoded body among them) would otherwise stay until the pull ends: a manager's
    first sync of 4.3M rows grew to 2.7 GB. Per page this walks only what the page made
    and still holds, a few milliseconds against the page's ~100."""
    if _holders > 0:
        gc.collect(1)


def held() -> bool:
    """True while some bulk work holds the collector off."""
    return _holders > 0
