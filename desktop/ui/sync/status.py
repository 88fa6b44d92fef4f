"""Sync in the window: `SyncController` runs the background engine for the app and
`SyncStatusWidget` shows it in the status bar ("● Online · 2 pending · synced 14:32:05,
0.4 s ago"), with a progress bar and Cancel/Resume for a big first sync.

    controller = SyncController(ctx)          # starts the engine once signed in
    window.statusBar().addPermanentWidget(SyncStatusWidget(ctx, controller))

The engine runs on its own threads with its own store connection (desktop.sync.engine);
the controller hands its status to the UI thread through a signal, asks for a sync after
every local edit (`ctx.operation_did_execute`) and re-emits the changes the engine
applied, so views refresh as if the edit had been made here.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop.store import Changes, Store
from desktop.sync.auth import load_account
from desktop.sync.engine import SyncEngine
from desktop.sync.status import State, SyncStatus
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

register_catalog({
    "Online": "在线", "Offline": "离线", "Syncing…": "同步中…", "Signed out": "未登录",
    "Local data removed": "本地数据已清除", "Sync stopped": "同步已暂停", "Sync error": "同步出错",
    "{n} pending": "{n} 条待上传", "{n} sync problem(s)": "{n} 个同步问题",
    "{n} conflict(s)": "{n} 个冲突", "never synced": "从未同步",
    "synced {at}, {ago} ago": "已同步 {at}，{ago}前", "Cancel": "取消", "Resume": "继续",
    "Sync now": "立即同步", "live": "实时", "Server not answering": "服务器无响应",
    "Update required": "需要更新",
})

COLORS = {State.IDLE: "#1a7f37", State.SYNCING: "#0969da", State.OFFLINE: "#9a6700",
          State.SIGNED_OUT: "#6e7781", State.WIPED: "#cf222e", State.ERROR: "#cf222e",
          State.STOPPED: "#6e7781", State.NOT_ANSWERING: "#9a6700",
          State.UPDATE_REQUIRED: "#cf222e"}
LABELS = {State.IDLE: "Online", State.SYNCING: "Syncing…", State.OFFLINE: "Offline",
          State.SIGNED_OUT: "Signed out", State.WIPED: "Local data removed",
          State.ERROR: "Sync error", State.STOPPED: "Sync stopped",
          State.NOT_ANSWERING: "Server not answering",
          State.UPDATE_REQUIRED: "Update required"}


class SyncController(QObject):
    status_changed = Signal(object)  # SyncStatus, on the UI thread
    _changes = Signal(object)  # Changes applied by the engine (from its thread)

    def __init__(self, ctx: AppContext, *, engine_factory: Any = None,
                 autostart: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self._factory = engine_factory or (lambda **kw: SyncEngine(ctx.profile, **kw))
        self.engine: SyncEngine | None = None
        self.status = SyncStatus()
        self._changes.connect(self._forward_changes)
        ctx.operation_did_execute.connect(self._local_changes)
        if autostart:
            if ctx.is_ready:
                self.start_if_signed_in()
            else:
                ctx.store_ready.connect(self.start_if_signed_in)

    def start_if_signed_in(self) -> None:
        self.ctx.run(lambda store: load_account(store) is not None, on_done=self._maybe_start)

    def _maybe_start(self, signed_in: bool) -> None:
        if signed_in:
            self.start()
        else:
            self.status = SyncStatus(state=State.SIGNED_OUT)
            self.status_changed.emit(self.status)

    def start(self) -> None:
        if self.engine is None:
            self.engine = self._factory(on_status=self.status_changed.emit,
                                        on_change=self._changes.emit)
        self.engine.start()

    def stop(self) -> None:
        """Stop syncing (Cancel during a first sync: what arrived is kept, Resume goes on)."""
        if self.engine is not None:
            self.engine.stop(timeout=5)

    def sync_now(self) -> None:
        if self.engine is None:
            self.start_if_signed_in()
        else:
            self.engine.start()
            self.engine.request_sync()

    def shutdown(self) -> None:
        if self.engine is not None:
            self.engine.stop(timeout=5)
            self.engine.close()
            self.engine = None

    def _local_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and self.engine is not None:
            self.engine.request_sync()

    def _forward_changes(self, changes: Changes) -> None:
        self.ctx.operation_did_execute.emit(changes, self)


class SyncStatusWidget(QWidget):
    """The status-bar item. `show_status(status)` can also be called directly."""

    def __init__(self, ctx: AppContext, controller: SyncController | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = controller
        self.status = SyncStatus()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(8)
        self.dot = QLabel("●")
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton()
        self.resume_button = QPushButton()
        for w in (self.dot, self.label, self.progress, self.cancel_button, self.resume_button):
            lay.addWidget(w)
        self.cancel_button.clicked.connect(self._cancel)
        self.resume_button.clicked.connect(self._resume)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)  # "0.4 s ago" keeps counting
        self._timer.timeout.connect(self._render)
        self._timer.start()
        if controller is not None:
            controller.status_changed.connect(self.show_status)
        ctx.language_changed.connect(self._render)
        self._render()

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        self._render()

    def text(self, now: float | None = None) -> str:
        st, tr = self.status, self.ctx.tr
        parts = [tr(LABELS[st.state])]
        if st.pending:
            parts.append(tr("{n} pending", n=st.pending))
        if st.parked:
            parts.append(tr("{n} sync problem(s)", n=st.parked))
        if st.conflicts:
            parts.append(tr("{n} conflict(s)", n=st.conflicts))
        if st.last_fresh is None:
            parts.append(tr("never synced"))
        else:
            fresh = st.fresh_text(now if now is not None else time.time())
            at, ago = fresh.removeprefix("synced ").split(", ", 1)
            parts.append(tr("synced {at}, {ago} ago", at=at, ago=ago.removesuffix(" ago")))
        return " · ".join(parts)

    def _render(self) -> None:
        st = self.status
        self.dot.setStyleSheet(f"color: {COLORS[st.state]}")
        self.label.setText(self.text())
        self.label.adjustSize()
        self.updateGeometry()
        self.setToolTip(st.message or "")
        prog = st.progress
        self.progress.setVisible(prog is not None)
        if prog is not None:
            self.progress.setRange(0, prog.total or 0)
            self.progress.setValue(min(prog.done, prog.total or prog.done))
        self.cancel_button.setText(self.ctx.tr("Cancel"))
        self.cancel_button.setVisible(prog is not None and self.controller is not None)
        self.resume_button.setText(self.ctx.tr("Resume") if st.state is State.STOPPED
                                   else self.ctx.tr("Sync now"))
        self.resume_button.setVisible(self.controller is not None and prog is None
                                      and st.state in (State.STOPPED, State.OFFLINE,
                                                      State.NOT_ANSWERING, State.ERROR))

    def _cancel(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def _resume(self) -> None:
        if self.controller is not None:
            self.controller.sync_now()


def open_conflict_count(store: Store) -> int:
    return len(store.open_conflicts())
