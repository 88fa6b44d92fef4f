"""The cyclic garbage collector runs on the Qt main thread only.

Python starts a collection on whichever thread happens to allocate past the threshold.
When that is the store worker or a background task, the collection may free a cycle
that holds a Qt object (a widget, a timer, a signal connection's closure), and Qt
objects must be destroyed on their own thread: the Qt tests died of SIGSEGV in exactly
that way (the crash trace showed the worker inside sqlite-utils and the main thread in
Qt's event loop). So automatic collection is turned off and a main-thread timer runs
the generation that is due, with the interpreter's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QTimer

from desktop.store import gcpause

INTERVAL_MS = 250
_timer: QTimer | None = None


def install() -> None:
    """Idempotent; needs a QCoreApplication (the timer lives on its thread)."""
    global _timer
    app = QCoreApplication.instance()
    if _timer is not None or app is None:
        return
    gc.disable()
    _timer = QTimer(app)
    _timer.setInterval(INTERVAL_MS)
    _timer.timeout.connect(collect_due)
    _timer.start()


def collect_due() -> int:
    """Collect the oldest generation past its threshold, as automatic collection would;
    not while a first sync or an import holds the collector off (desktop.store.gcpause)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[0] <= thresholds[0] or gcpause.held():
        return -1
    generation = 2 if counts[2] > thresholds[2] else 1 if counts[1] > thresholds[1] else 0
    gc.collect(generation)
    return generation

