"""AppContext: what every window, view and dialog of the app shares.

One `AppContext` exists per running app (tests make their own). It owns:

* the **store worker**: one QThread that opens the `desktop.store.Store` *on that
  thread* and runs every store operation, one at a time, in order. The UI thread never
  touches SQLite.
* the **settings** (`ctx.settings`, a `desktop.ui.common.settings.Settings`, saved in the
  profile's settings.json; no secrets in there),
* the **translator** (`ctx.tr("English text")`, `ctx.lang` is "en" or "zh";
  `ctx.language_changed` fires after a switch: re-set your texts then),
* the **"operation did execute"** signal (`ctx.operation_did_execute(changes, initiator)`).

How a view runs store work in the background (Anki's CollectionOp/QueryOp model)::

    def refresh(self) -> None:
        self.ctx.run(lambda store: store.journal.counts(),      # runs on the worker
                     on_done=self._show_counts)                 # runs on the UI thread

    def save(self) -> None:
        self.ctx.run(lambda store: store.repo("account").update(rid, values),
                     on_done=self._saved, on_error=self._save_failed, initiator=self)

* `fn(store)` runs on the store worker thread. It must not touch widgets or Qt objects;
  it returns a plain value (dicts, lists, dataclasses).
* `on_done(result)` / `on_error(exc)` run later on the UI thread. Without `on_error`,
  the error is shown by `ctx.show_error` (FieldCRMError text as is, `Cancelled`
  silently, anything else logged and shown as a generic message).
* Long work reports progress and can be cancelled: `ctx.run_long(fn, ...)` calls
  `fn(store, progress)`; inside, call `progress.report(done, total, text)` now and then
  (it raises `Cancelled` once the user cancelled); `ctx.run_long` returns the `OpHandle`
  whose `.cancel()` asks it to stop. `ctx.progress_changed(handle, done, total, text)`
  lets a status bar show it. `handle.cancel()` on a queued op drops it silently.
* Work that does not need the store (network, OCR, speech) does NOT run on the store
  worker: `ctx.run_task(fn, on_done, on_error, on_progress)` calls `fn(task)` on a
  thread of its own (`task.report(fraction, text)`, `task.cancelled()`; see
  desktop.ui.common.jobs) and hands the store part to `ctx.run`. The sync engine's
  long-lived loop is the one exception: it runs its own thread (desktop.ui.sync.status).

How a view hears "what changed": every committed store write produces a
`desktop.store.Changes` (entity -> ids; an id of None means "many"). The context
collects those made by one op and, once the op is done, emits ONE
`ctx.operation_did_execute(changes, initiator)` on the UI thread. Views connect to it
and decide for themselves what to reload, e.g.::

    ctx.operation_did_execute.connect(self._on_changes)
    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if "activity" in changes.entities:
            self.refresh()

`initiator` is what the op was started with (often the widget), so a view can skip
re-reading what it has just written itself.

Where views go: each feature is a subpackage of desktop.ui with one `install(window)`,
listed in desktop.ui.features.FEATURES; it adds its menus, tabs and pages to the window
(desktop.ui.common.window.MainWindow) and again after each `window.built`.
`window.statusBar().addPermanentWidget(w)` for a status-bar item;
`window.open_record(entity, id)` shows any record.
Add Chinese texts with `desktop.ui.common.i18n.register_catalog({...})`.

`ctx.store_ready` fires once the store is open (`ctx.is_ready`); `ctx.store_failed(msg)`
when it cannot be opened. Ops queued before that wait for the open (or fail with it).
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.errors import Cancelled, FieldCRMError
from desktop.ui.common import main_thread_gc
from desktop.ui.common.i18n import Translator, system_language
from desktop.ui.common.settings import Settings

if TYPE_CHECKING:
    from desktop.store import Changes, Store
    from desktop.ui.common.jobs import BackgroundTask

log = logging.getLogger(__name__)

# (profile, progress of opening): progress("encrypt", 0.42) while a store is being encrypted
OpeningProgress = Callable[[str, float], None]
StoreFactory = Callable[[Path, OpeningProgress], "Store"]
GENERIC_ERROR = "Something went wrong. The details were written to the log."


def _alive(callback: Callable[..., Any]) -> bool:
    """False for a method of a widget that was deleted while its op ran (also wrapped in
    functools.partial, as the lazy models pass theirs)."""
    while isinstance(callback, functools.partial):
        callback = callback.func
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def open_store(profile: Path, progress: OpeningProgress | None = None) -> Store:
    """The default store factory. Imported here, on the worker thread, so that the
    window does not wait for sqlite-utils to load."""
    from desktop.store import Store

    return Store.open(profile)


def open_encrypted_store(profile: Path, progress: OpeningProgress | None = None) -> Store:
    """The app's store factory: a plain (or new) store, or one encrypted in the older
    format, is first (re-)encrypted in place when the system keyring can keep its key
    (desktop.store.cipher.ensure_encrypted); `progress` hears ("encrypt", fraction)."""
    from desktop.store import Store
    from desktop.store.cipher import ensure_encrypted

    def report(phase: str, done: float) -> None:
        if progress is not None:  # copying is the long part: the verify and swap are short
            progress("encrypt", {"key": 0.0, "copy": 0.9 * done, "verify": 0.9 + 0.08 * done,
                                 "swap": 0.98 + 0.02 * done}.get(phase, done))

    ensure_encrypted(profile, report)
    return Store.open(profile)


class OpProgress:
    """Given to long ops: report progress, and learn that the user cancelled."""

    def __init__(self, handle: OpHandle, worker: StoreWorker) -> None:
        self._handle = handle
        self._worker = worker

    @property
    def cancelled(self) -> bool:
        return self._handle.cancel_requested

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop."""
        if self._handle.cancel_requested:
            raise Cancelled()

    def report(self, done: int, total: int = 0, text: str = "") -> None:
        """Tell the UI how far along we are; raises Cancelled if the user asked to stop."""
        self.check()
        self._worker.progress.emit(self._handle.op_id, done, total, text)


@dataclass(eq=False)
class OpHandle:
    """One queued operation. `cancel()` is safe from any thread."""

    op_id: int
    fn: Callable[..., Any]
    long: bool = False
    label: str = ""
    initiator: object = None
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    changes: Changes | None = None  # made on the worker when the op writes
    finished: bool = False

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()


class StoreWorker(QThread):
    """The one thread that owns the Store. Its signals are emitted on the worker
    thread; AppContext's slots receive them queued on the UI thread."""

    opened = Signal()
    open_failed = Signal(object)  # the exception
    done = Signal(int, object, object)  # op id, result, exception (or None)
    progress = Signal(int, int, int, str)  # op id, done, total, text
    opening = Signal(str, int)  # what the store's opening does, percent (an encryption)

    def __init__(self, profile: Path, factory: StoreFactory) -> None:
        super().__init__()
        self.setObjectName("store-worker")
        self.profile = profile
        self.factory = factory
        self.jobs: queue.Queue[OpHandle | None] = queue.Queue()
        self.current: OpHandle | None = None
        self.store: Store | None = None  # only ever touched on this thread

    def run(self) -> None:
        open_error: BaseException | None = None
        try:
            self.store = self.factory(
                self.profile, lambda phase, done: self.opening.emit(phase, int(done * 100)))
            self.store.on_change(self._heard)
            self.opened.emit()
        except BaseException as exc:  # reported to the UI
            open_error = exc
            self.open_failed.emit(exc)
        while True:
            job = self.jobs.get()
            if job is None:
                break
            if job.cancel_requested:
                self.done.emit(job.op_id, None, Cancelled())
                continue
            if self.store is None:
                self.done.emit(job.op_id, None, open_error)
                continue
            self.current = job
            result: Any = None
            error: BaseException | None = None
            try:
                if job.long:
                    result = job.fn(self.store, OpProgress(job, self))
                else:
                    result = job.fn(self.store)
            except BaseException as exc:  # reported to the UI
                error = exc
            finally:
                self.current = None
            self.done.emit(job.op_id, result, error)
        if self.store is not None:
            try:
                self.store.close()
            except Exception:  # closing at exit; nothing to tell
                log.exception("closing the store failed")
            self.store = None

    def _heard(self, changes: Changes) -> None:
        if self.current is None:  # a write outside any op (should not happen)
            self.done.emit(-1, changes, None)
            return
        if self.current.changes is None:
            self.current.changes = type(changes)()
        target = self.current.changes
        for entity, ids in changes.entities.items():
            target.entities.setdefault(entity, set()).update(ids)


class AppContext(QObject):
    """Shared services of the app. See the module docstring for how to use it."""

    operation_did_execute = Signal(object, object)  # Changes, initiator
    progress_changed = Signal(object, int, int, str)  # OpHandle, done, total, text
    op_started = Signal(object)  # OpHandle (long ops only)
    op_finished = Signal(object)  # OpHandle (long ops only)
    store_ready = Signal()
    store_failed = Signal(str)
    store_opening = Signal(str, int)  # phase ("encrypt"), percent: before store_ready
    language_changed = Signal()
    error_shown = Signal(str)  # a message for the user (status bar / message box)

    def __init__(self, profile: Path, *, lang: str | None = None,
                 store_factory: StoreFactory | None = None) -> None:
        super().__init__()
        main_thread_gc.install()  # Qt objects must never be freed on the store worker
        self.profile = Path(profile)
        self.settings = Settings.load(self.profile)
        chosen = lang or (self.settings.language if self.settings.language != "auto" else None)
        self.translator = Translator(chosen or system_language())
        self.is_ready = False
        self.open_error: str | None = None
        self._ops: dict[int, OpHandle] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._tasks: set[BackgroundTask] = set()
        self.worker = StoreWorker(self.profile, store_factory or open_store)
        self.worker.opened.connect(self._on_opened)
        self.worker.open_failed.connect(self._on_open_failed)
        self.worker.done.connect(self._on_done)
        self.worker.progress.connect(self._on_progress)
        self.worker.opening.connect(self.store_opening)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the worker; it opens the store in the background."""
        if not self.worker.isRunning() and not self._closed:
            self.worker.start()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel what is running, finish the queue, close the store, stop the thread.
        Work asked for afterwards is dropped: a result still queued for the UI thread (a
        feature mounted once the store opened) must not start the worker again, or the
        thread outlives the app and Qt aborts the process at exit."""
        self._closed = True
        for op in list(self._ops.values()):
            if op.long:
                op.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            task.wait(timeout_ms)
        if self.worker.isRunning():
            self.worker.jobs.put(None)
            self.worker.wait(timeout_ms)
        from desktop.store.indexer import close_worker

        close_worker(self.profile)  # what it did not build, the next start builds

    # ------------------------------------------------------------ translation
    @property
    def lang(self) -> str:
        return self.translator.lang

    def tr(self, text: str, /, **values: Any) -> str:  # type: ignore[override]
        return self.translator.tr(text, **values)

    def set_language(self, lang: str) -> None:
        """Switch the UI language ("auto", "en" or "zh"), save it in the settings."""
        self.settings.language = lang
        self.settings.save(self.profile)
        new = system_language() if lang == "auto" else lang
        if new != self.translator.lang:
            self.translator = Translator(new)
            self.language_changed.emit()

    # ------------------------------------------------------------ operations
    def run(self, fn: Callable[[Store], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, *,
            initiator: object = None) -> OpHandle:
        """Queue `fn(store)` on the store worker; see the module docstring."""
        return self._queue(OpHandle(next(self._ids), fn, False, "", initiator, on_done, on_error))

    def run_long(self, fn: Callable[[Store, OpProgress], Any], label: str,
                 on_done: Callable[[Any], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None, *,
                 initiator: object = None) -> OpHandle:
        """Queue a long `fn(store, progress)` that reports progress and can be cancelled."""
        op = self._queue(OpHandle(next(self._ids), fn, True, label, initiator, on_done, on_error))
        self.op_started.emit(op)
        return op

    def run_and_wait(self, fn: Callable[[Store], Any], timeout: float = 30.0) -> Any:
        """Run `fn(store)` on the worker and block until it is done (tests, shutdown
        hooks; never from a UI handler). Raises what `fn` raised."""
        box: dict[str, Any] = {}
        ready = threading.Event()

        def wrapped(store: Store) -> None:
            try:
                box["result"] = fn(store)
            except BaseException as exc:  # re-raised below
                box["error"] = exc
            finally:
                ready.set()

        self.run(wrapped, on_done=lambda _r: None)
        if not ready.wait(timeout):
            raise TimeoutError("the store worker did not answer in time")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def run_task(self, fn: Callable[[BackgroundTask], Any],
                 on_done: Callable[[Any], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_progress: Callable[[float, str], None] | None = None, *,
                 name: str = "task") -> BackgroundTask:
        """Run `fn(task)`, work that does not need the store (network, OCR, speech), on a
        thread of its own; see desktop.ui.common.jobs. `on_done(result)`, `on_error(exc)`
        and `on_progress(fraction, text)` run on the UI thread, as for `run_long`;
        without `on_error` the error is shown by `show_error`. `task.cancel()` asks it to
        stop; `shutdown()` cancels and waits for the tasks still running."""
        from desktop.ui.common.jobs import BackgroundTask

        # The task delivers to its callbacks itself (its own slots, on the UI thread), so
        # no closure holds the task or the callbacks' widgets beyond the task's life.
        task = BackgroundTask(fn, name, on_done=on_done, on_error=on_error or self.show_error,
                              on_progress=on_progress, alive=_alive, owner=self._tasks)
        if self._closed:
            log.debug("task %s dropped: the app is shutting down", name)
            return task
        task.start()
        return task

    @property
    def busy(self) -> bool:
        """Whether any op is queued or running (or its result not yet delivered)."""
        return bool(self._ops)

    def _queue(self, op: OpHandle) -> OpHandle:
        if self._closed:
            log.debug("op %s dropped: the app is shutting down", op.op_id)
            return op
        self._ops[op.op_id] = op
        self.start()
        self.worker.jobs.put(op)
        return op

    @Slot()
    def _on_opened(self) -> None:
        self.is_ready = True
        self._load_time_zone()
        self.store_ready.emit()
        self._index_leftovers()

    def _load_time_zone(self) -> None:
        """Times are shown and typed in the user's zone setting (desktop.timezones)."""
        from desktop.followup.settings import load_settings
        from desktop.ui.common.formatting import set_viewer_zone

        self.run(lambda store: load_settings(store).time_zone, on_done=set_viewer_zone,
                 on_error=lambda _exc: None)  # unreadable settings: the system's zone

    def _index_leftovers(self) -> None:
        """Records an interrupted bulk import or sync left without search documents
        (findable by name only) go to the index builder's process (desktop.store.indexer)."""
        if not self._closed:
            from desktop.store.indexer import build_in_background

            self.run(lambda store: build_in_background(store) and None, on_done=lambda _r: None)

    @Slot(object)
    def _on_open_failed(self, exc: BaseException) -> None:
        self.open_error = self.error_text(exc)
        if not isinstance(exc, FieldCRMError):
            log.error("opening the store failed", exc_info=exc)
        self.store_failed.emit(self.open_error)

    @Slot(int, object, object)
    def _on_done(self, op_id: int, result: object, error: object) -> None:
        if op_id == -1:  # changes heard outside an op
            if result is not None:
                self.operation_did_execute.emit(result, None)
            return
        op = self._ops.pop(op_id, None)
        if op is None:
            return
        op.finished = True
        if op.long:
            self.op_finished.emit(op)
        if op.changes:
            self.operation_did_execute.emit(op.changes, op.initiator)
        if isinstance(error, BaseException):
            if op.on_error is not None and _alive(op.on_error):
                op.on_error(error)
            elif op.on_error is None:
                self.show_error(error)
        elif op.on_done is not None and _alive(op.on_done):
            op.on_done(result)

    @Slot(int, int, int, str)
    def _on_progress(self, op_id: int, done: int, total: int, text: str) -> None:
        op = self._ops.get(op_id)
        if op is not None:
            self.progress_changed.emit(op, done, total, text)

    # ------------------------------------------------------------ errors
    def error_text(self, exc: BaseException) -> str:
        """What to tell the user: a FieldCRMError's text (in Chinese: its translation, or
        the Chinese explanation of its kind with the English detail), else a generic
        message."""
        if isinstance(exc, FieldCRMError):
            text = str(exc)
            translated = self.tr(text)
            if translated != text or self.lang != "zh":
                return translated
            from desktop.ui.common.error_texts import zh_error_text

            return zh_error_text(exc) or text
        return self.tr(GENERIC_ERROR)

    def show_error(self, exc: BaseException) -> None:
        """Cancelled: silent. FieldCRMError: its text. Anything else: logged, generic."""
        if isinstance(exc, Cancelled):
            return
        if not isinstance(exc, FieldCRMError):
            log.error("unexpected error in an operation", exc_info=exc)
        self.error_shown.emit(self.error_text(exc))
