"""Delivering reminders while the app runs: a timer ticks the scheduler on the store
worker every minute (and at start; a tick after sleep delivers what was missed once,
grouped), and each notice goes to the OS through desktop-notifier on the qasync loop.
When there is no running asyncio loop or the OS refuses, the tray icon shows it
instead. The notification centre lists every reminder either way.

Mount: ``FollowupNotifier(ctx, tray).start()`` once the window is up; connect
``open_requested(entity, id)`` to the record opener and ``notices_shown`` to refresh
the centre/tray. Run the app on a qasync loop (``qasync.QEventLoop(app)``) to get
native notifications.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from desktop.followup.delivery import NativeNotifier
from desktop.followup.scheduler import Notice
from desktop.followup.service import scheduler_for
from desktop.store import Store
from desktop.ui.common.context import AppContext

log = logging.getLogger(__name__)

TICK_MS = 60_000
FULL_PASS_MS = 30 * 60_000
SNOOZE_MINUTES = 60


class FollowupNotifier(QObject):
    open_requested = Signal(str, str)  # entity, record id ("" for a grouped notice: the centre)
    notices_shown = Signal(list)  # list[Notice], after each delivery
    fell_back = Signal(object)  # a Notice shown by the tray instead of the OS

    def __init__(self, ctx: AppContext, tray: QSystemTrayIcon | None = None,
                 native: NativeNotifier | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.tray = tray
        self.native = native
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.pass_timer = QTimer(self)
        self.pass_timer.setInterval(FULL_PASS_MS)
        self.pass_timer.timeout.connect(self.full_pass)
        self._tasks: set[asyncio.Task[bool]] = set()

    def start(self) -> None:
        if self.native is None:
            try:
                self.native = NativeNotifier(self._pressed, lang=self.ctx.lang)
            except Exception:  # no backend for this platform: the tray it is
                log.warning("native notifications unavailable", exc_info=True)
        self.full_pass()
        self.tick()
        self.timer.start()
        self.pass_timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.pass_timer.stop()
        if self.native is not None:
            self.native.close()

    def full_pass(self) -> None:
        lang = self.ctx.lang
        self.ctx.run(lambda store: scheduler_for(store, lang=lang).full_pass(),
                     on_done=lambda _r: None)

    def tick(self) -> None:
        lang = self.ctx.lang
        self.ctx.run(lambda store: scheduler_for(store, lang=lang).tick(), on_done=self.deliver)

    def deliver(self, notices: list[Notice]) -> None:
        for n in notices:
            self._show(n)
        if notices:
            self.notices_shown.emit(notices)

    def _show(self, notice: Notice) -> None:
        loop = None
        try:
            loop = asyncio.get_running_loop() if self.native is not None else None
        except RuntimeError:
            loop = None
        if loop is None or self.native is None:
            self._tray(notice)
            return
        task = loop.create_task(self.native.show(notice))
        self._tasks.add(task)

        def done(t: asyncio.Task[bool]) -> None:
            self._tasks.discard(t)
            if t.cancelled() or t.exception() is not None or not t.result():
                self._tray(notice)

        task.add_done_callback(done)

    def _tray(self, notice: Notice) -> None:
        if self.tray is not None and self.tray.isVisible():
            icon = QSystemTrayIcon.MessageIcon.Warning if notice.urgent else \
                QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage(notice.title, notice.body, icon)
        self.fell_back.emit(notice)

    def _pressed(self, action: str, keys: tuple[str, ...]) -> None:
        """A button on a native notification (runs on the UI thread's loop)."""
        def op(store: Store) -> tuple[str, str] | None:
            sched = scheduler_for(store)
            if action == "snooze":
                for k in keys:
                    sched.snooze(k, SNOOZE_MINUTES)
            elif action == "done":
                for k in keys:
                    sched.mark_done(k)
            elif action == "open":
                r = sched.reminder(keys[0]) if len(keys) == 1 else None
                if r is not None:
                    sched.mark_acted(r.key)
                    return (r.entity, r.record_id)
                return ("", "")
            return None

        self.ctx.run(op, on_done=self._opened)

    def _opened(self, target: tuple[str, str] | None) -> None:
        if target is not None:
            self.open_requested.emit(*target)
