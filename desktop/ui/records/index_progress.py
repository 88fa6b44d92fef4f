"""A quiet status-bar line while the search index is built after a bulk arrival (a first
sync, an import, demo data): "Preparing pinyin search: 62%". The app stays usable;
the building runs in the index builder's own process (desktop.store.indexer) and this
only asks the store how far it is, once a second while it is not done.

It looks when the store opens and after any change (a sync page, an import), and hides
itself once the index is complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.window import MainWindow

if TYPE_CHECKING:
    from desktop.store.indexer import IndexState

register_catalog({"Preparing pinyin search: {percent}%": "正在准备拼音搜索：{percent}%"})

POLL_MS = 1000
WIDGET_NAME = "index_progress"


class IndexProgress(QObject):
    """The status-bar label of one window and the timer that refreshes it."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.label = QLabel()
        self.label.setObjectName(WIDGET_NAME)
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self.state: IndexState | None = None
        self._asking = False
        self.timer = QTimer(self, singleShot=True, interval=POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.ctx.store_ready.connect(self.refresh)
        self.ctx.operation_did_execute.connect(self._changed)
        self.ctx.language_changed.connect(self._show)
        if self.ctx.is_ready:
            self.refresh()

    def _changed(self, _changes: object, _initiator: object) -> None:
        if not self.timer.isActive():
            self.timer.start()

    def refresh(self) -> None:
        if self._asking or not shiboken6.isValid(self.label):
            return
        self._asking = True
        self.ctx.run(lambda store: store.index_state(), on_done=self._got, on_error=self._failed)

    def _failed(self, _exc: BaseException) -> None:
        self._asking = False  # a closed store: nothing to show

    def _got(self, state: IndexState) -> None:
        self._asking = False
        if not shiboken6.isValid(self.label):
            return
        self.state = state
        self._show()
        if not state.complete:
            self.timer.start()

    def _show(self) -> None:
        state = self.state
        if state is None or state.complete:
            self.label.hide()
            return
        self.label.setText(
            self.ctx.tr("Preparing pinyin search: {percent}%", percent=state.percent))
        self.label.show()

