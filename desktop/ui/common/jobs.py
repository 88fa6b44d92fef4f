"""Background work that does not need the store: `ctx.run_task` (desktop.ui.common.context)
runs it on a `BackgroundTask` thread of its own.

Network calls (signing in), OCR of a contract page and speech recognition take seconds
and never touch SQLite, so they do not run on the store worker (`ctx.run_long`): that
would stall every list, search and save in the app while they run. `fn(task)` runs on the
task's thread; it calls `task.report(fraction, text)` now and then and checks
`task.cancelled()` (or passes `task.cancelled` as a cancel check). Results come back on
the UI thread through `succeeded(result)` / `failed(exc)` / `progressed(fraction, text)`,
which `ctx.run_task` connects to its on_done / on_error / on_progress, the same shape as
`ctx.run_long`. Anything the task then needs to write goes through `ctx.run` as usual.

Running tasks are kept alive here until they finish (a QThread destroyed while it runs
aborts the process), and `stop_all()` cancels and waits for them (the app calls it when
it quits).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QThread, Signal

from desktop.errors import Cancelled

log = logging.getLogger(__name__)
STOP_WAIT_MS = 15000


def _ended(_task: BackgroundTask) -> None:
    """What a task holds as its work once it ended."""


class BackgroundTask(QThread):
    """One piece of background work: `BackgroundTask(fn).start()`; `cancel()` asks it to
    stop. Use `ctx.run_task(fn, ...)` rather than making one directly."""

    progressed = Signal(float, str)  # 0..1, what it is doing
    succeeded = Signal(object)
    failed = Signal(object)  # the exception (Cancelled when the user stopped it)

    _running: ClassVar[set[BackgroundTask]] = set()

    def __init__(self, fn: Callable[[BackgroundTask], Any], name: str = "task", *,
                 on_done: Callable[[Any], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_progress: Callable[[float, str], None] | None = None,
                 alive: Callable[[Callable[..., Any]], bool] = lambda _cb: True,
                 owner: set[BackgroundTask] | None = None) -> None:
        super().__init__()
        self.setObjectName(name)
        self.fn = fn
        self._cancel = threading.Event()
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        self._alive = alive
        self._owner = owner  # a set that keeps the task until it ended (the AppContext's)
        self.finished.connect(self._forget)
        if on_done is not None:
            self.succeeded.connect(self._deliver_done)
        if on_error is not None:
            self.failed.connect(self._deliver_error)
        if on_progress is not None:
            self.progressed.connect(self._deliver_progress)

    def start(self, *args: Any, **kwargs: Any) -> None:
        BackgroundTask._running.add(self)
        if self._owner is not None:
            self._owner.add(self)
        super().start(*args, **kwargs)

    # on the UI thread (slots of this object, which lives there)
    def _deliver_done(self, result: object) -> None:
        if self._on_done is not None and self._alive(self._on_done):
            self._on_done(result)

    def _deliver_error(self, exc: BaseException) -> None:
        if self._on_error is not None and self._alive(self._on_error):
            self._on_error(exc)

    def _deliver_progress(self, fraction: float, text: str) -> None:
        if self._on_progress is not None and self._alive(self._on_progress):
            self._on_progress(fraction, text)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        """True once the user asked to stop (usable as a cancel check)."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop."""
        if self._cancel.is_set():
            raise Cancelled()

    def report(self, fraction: float, text: str = "") -> None:
        """Tell the UI how far along the task is; raises Cancelled once it was cancelled."""
        self.check()
        self.progressed.emit(float(fraction), text)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except BaseException as exc:  # handed to the UI thread
            if not isinstance(exc, Exception):
                log.error("background task stopped by %r", exc)
            self.failed.emit(exc)
            return
        if self._cancel.is_set():
            self.failed.emit(Cancelled())
        else:
            self.succeeded.emit(result)

    def _forget(self) -> None:
        # `finished` comes just before the thread ends: wait for the end (a moment) before
        # letting go, or the last reference could delete a QThread that still runs
        self.wait()
        BackgroundTask._running.discard(self)
        if self._owner is not None:
            self._owner.discard(self)
        # let the widgets the work and the callbacks belong to go
        self.fn = _ended
        self._on_done = self._on_error = self._on_progress = None

    @classmethod
    def busy(cls) -> bool:
        return any(task.isRunning() for task in cls._running)

    @classmethod
    def stop_all(cls, timeout_ms: int = STOP_WAIT_MS) -> None:
        """Cancel every running task and wait for it (at app exit)."""
        for task in list(cls._running):
            task.cancel()
        for task in list(cls._running):
            task.wait(timeout_ms)
