"""Background work for the capture windows that does not need the store.

OCR of a contract page and speech recognition take seconds and never touch SQLite, so
they do not run on the store worker (`ctx.run_long`): that would stall every list,
search and save in the app while the pages are read. A `CaptureJob` runs `fn(job)` on
its own thread instead; `fn` calls `job.report(fraction, text)` now and then and checks
`job.cancelled` (or passes `job.cancelled` as a cancel check). Results come back on the
UI thread through `succeeded(result)` / `failed(exc)` / `progressed(fraction, text)`.
Anything the job then needs to write goes through `ctx.run` as usual.

Running jobs are kept alive here until they finish (a QThread destroyed while it runs
aborts the process), and `stop_all()` cancels and waits for them (called when the app
quits).
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


class CaptureJob(QThread):
    """One piece of background work: `CaptureJob(fn).start()`; `cancel()` asks it to stop."""

    progressed = Signal(float, str)  # 0..1, what it is doing
    succeeded = Signal(object)
    failed = Signal(object)  # the exception (Cancelled when the user stopped it)

    _running: ClassVar[set[CaptureJob]] = set()

    def __init__(self, fn: Callable[[CaptureJob], Any], name: str = "capture-job") -> None:
        super().__init__()
        self.setObjectName(name)
        self.fn = fn
        self._cancel = threading.Event()
        self.finished.connect(self._forget)

    def start(self, *args: Any, **kwargs: Any) -> None:
        CaptureJob._running.add(self)
        super().start(*args, **kwargs)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        """True once the user asked to stop (usable as a cancel check)."""
        return self._cancel.is_set()

    def report(self, fraction: float, text: str = "") -> None:
        """Tell the UI how far along the job is; raises Cancelled once it was cancelled."""
        if self._cancel.is_set():
            raise Cancelled()
        self.progressed.emit(float(fraction), text)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except BaseException as exc:  # handed to the UI thread
            if not isinstance(exc, Exception):
                log.error("capture job stopped by %r", exc)
            self.failed.emit(exc)
            return
        if self._cancel.is_set():
            self.failed.emit(Cancelled())
        else:
            self.succeeded.emit(result)

    def _forget(self) -> None:
        CaptureJob._running.discard(self)

    @classmethod
    def busy(cls) -> bool:
        return any(job.isRunning() for job in cls._running)

    @classmethod
    def stop_all(cls, timeout_ms: int = STOP_WAIT_MS) -> None:
        """Cancel every running job and wait for it (at app exit)."""
        for job in list(cls._running):
            job.cancel()
        for job in list(cls._running):
            job.wait(timeout_ms)
