"""Garbage cycles made on a background thread are freed on the Qt main thread: a
collection on the store worker could destroy Qt objects off their thread (SIGSEGV)."""

from __future__ import annotations

import gc
import threading
from typing import Any, ClassVar


class _Node:
    freed_on: ClassVar[list[int]] = []

    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it

    def __del__(self) -> None:
        _Node.freed_on.append(threading.get_ident())


def test_cycles_from_a_worker_thread_are_freed_on_the_main_thread(ctx: Any, qtbot: Any) -> None:
    assert not gc.isenabled()
    _Node.freed_on.clear()

    kept: list[Any] = []

    def churn() -> None:
        for _ in range(50):
            _Node()
        # allocations far past every threshold, kept alive (freeing them would lower
        # the collector's count again)
        kept.append([[i] for i in range(200_000)])

    t = threading.Thread(target=churn)
    t.start()
    t.join()
    assert _Node.freed_on == []  # nothing was collected on the worker
    qtbot.waitUntil(lambda: len(_Node.freed_on) == 50, timeout=5000)
    assert set(_Node.freed_on) == {threading.main_thread().ident}
    kept.clear()
