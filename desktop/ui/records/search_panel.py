"""Search-as-you-type: one box over accounts and contacts (desktop.store.search).

Typing restarts a short timer (SEARCH_DELAY_MS); when it fires, the query runs on the
store worker. Every query has a generation number and results of an older query are
dropped, so a slow answer never overwrites a newer one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QListWidgetItem

from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.widgets import ElidingList

if TYPE_CHECKING:
    from desktop.store import SearchHit

INCOMPLETE = "Search is still being prepared: results may be incomplete."
register_catalog({INCOMPLETE: "搜索仍在准备中：结果可能不完整。"})

SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 30
RESULTS_MAX_HEIGHT = 320


class SearchPanel(QObject):
    """Owns the search box and the results list (the window places both)."""

    hit_activated = Signal(object)  # SearchHit
    visibility_changed = Signal(bool)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.box = QLineEdit()
        self.box.setObjectName("search_box")
        self.box.setClearButtonEnabled(True)
        self.box.setMinimumWidth(320)
        self.results = ElidingList()
        self.results.setObjectName("search_results")
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.hide()
        self.generation = 0
        self.shown_query = ""
        self.hits: list[SearchHit] = []
        self.complete = True  # was the search index complete for the results shown
        self.timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.run_query)
        self.box.textChanged.connect(self._typed)
        self.box.returnPressed.connect(self._open_first)
        self.box.installEventFilter(self)
        self.results.itemActivated.connect(self._activated)
        self.retranslate()

    def retranslate(self) -> None:
        self.box.setPlaceholderText(
            self.ctx.tr("Search accounts and contacts (Ctrl+F): name, pinyin, phone, email"))

    def _typed(self, text: str) -> None:
        self.generation += 1  # whatever is in flight is now stale
        if not text.strip():
            self.timer.stop()
            self.hits = []
            self.shown_query = ""
            self.results.clear()
            self.results.hide()
            self.visibility_changed.emit(False)
            return
        self.timer.start()

    def run_query(self) -> None:
        text = self.box.text().strip()
        if not text:
            return
        gen = self.generation
        self.ctx.run(lambda store: store.search_outcome(text, limit=SEARCH_LIMIT),
                     on_done=lambda outcome: self._show(gen, text, outcome.hits, outcome.complete),
                     on_error=lambda exc: self._failed(gen, exc))

    def _failed(self, gen: int, exc: BaseException) -> None:
        if gen == self.generation:
            self.ctx.show_error(exc)

    def _show(self, gen: int, text: str, hits: list[SearchHit], complete: bool = True) -> None:
        if gen != self.generation:
            return  # stale: the rep has typed since
        self.hits = hits
        self.shown_query = text
        self.complete = complete
        self.results.clear()
        for hit in hits:
            kind = self.ctx.tr("Account") if hit.entity == "account" else self.ctx.tr("Contact")
            line = f"[{kind}]  {hit.title}" + (f"   —   {hit.subtitle}" if hit.subtitle else "")
            item = QListWidgetItem(line)
            item.setToolTip(line)
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.results.addItem(item)
        if not hits:
            item = QListWidgetItem(
                self.ctx.tr("No account or contact matches “{text}”.", text=text))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(item)
        if not complete:  # records still waiting for the index builder: by name only
            item = QListWidgetItem(self.ctx.tr(INCOMPLETE))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(item)
        row = max(self.results.sizeHintForRow(0), 18)
        self.results.setFixedHeight(min(RESULTS_MAX_HEIGHT, self.results.count() * row + 8))
        self.results.show()
        self.visibility_changed.emit(True)

    def _activated(self, item: QListWidgetItem) -> None:
        hit = item.data(Qt.ItemDataRole.UserRole)
        if hit is not None:
            self.hit_activated.emit(hit)

    def _open_first(self) -> None:
        if self.timer.isActive():  # Enter before the timer fired: search now
            self.timer.stop()
            self.run_query()
            return
        if self.hits:
            self.hit_activated.emit(self.hits[0])

    def clear(self) -> None:
        self.box.clear()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.box and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.clear()
                return True
            if key == Qt.Key.Key_Down and self.results.count():
                self.results.setFocus()
                self.results.setCurrentRow(0)
                return True
        return False

    def titles(self) -> list[Any]:
        return [h.title for h in self.hits]
