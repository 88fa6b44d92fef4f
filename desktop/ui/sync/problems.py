"""The "Sync problems" view: local edits the server refused (parked with its reason; the
local value stays as typed, everything else keeps syncing). Retry sends one again (after
the cause was fixed, e.g. a role change); Discard drops it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.store import Changes, Store
from desktop.sync.review import load_problems
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.ui.sync.status import SyncController

register_catalog({
    "Sync problems": "同步问题", "Change": "修改", "Reason": "原因", "Retry": "重试",
    "Discard": "放弃", "No sync problems.": "没有同步问题。", "Record": "记录",
})


class SyncProblemsView(QWidget):
    def __init__(self, ctx: AppContext, controller: SyncController | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = controller
        self.items: list[dict[str, Any]] = []
        self.table = QTableWidget(0, 3)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.retry = QPushButton()
        self.discard = QPushButton()
        self.empty = QLabel()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retry)
        buttons.addWidget(self.discard)
        lay = QVBoxLayout(self)
        lay.addWidget(self.empty)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        self.retry.clicked.connect(lambda: self._act("retry"))
        self.discard.clicked.connect(lambda: self._act("discard"))
        self.table.itemSelectionChanged.connect(self._enable)
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(self._texts)
        self._texts()
        self.refresh()

    def _texts(self) -> None:
        tr = self.ctx.tr
        self.table.setHorizontalHeaderLabels([tr("Record"), tr("Change"), tr("Reason")])
        self.retry.setText(tr("Retry"))
        self.discard.setText(tr("Discard"))
        self.empty.setText(tr("No sync problems."))

    def refresh(self) -> None:
        self.ctx.run(load_problems, on_done=self._show)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if touches(changes, ("journal",)):
            self.refresh()

    def _show(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for row, it in enumerate(items):
            for col, text in enumerate((it["title"], it["change"], it["reason"])):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        self.empty.setVisible(not items)
        if items:
            self.table.selectRow(0)
        self._enable()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows and rows[0].row() < len(self.items) else None

    def _enable(self) -> None:
        has = self.selected() is not None
        self.retry.setEnabled(has)
        self.discard.setEnabled(has)

    def _act(self, action: str) -> None:
        it = self.selected()
        if it is None:
            return
        seq = it["seq"]

        def work(store: Store) -> None:
            (store.journal.retry if action == "retry" else store.journal.discard)(seq)

        self.ctx.run(work, on_done=lambda _r: self._acted(), initiator=self)

    def _acted(self) -> None:
        self.refresh()
        if self.controller is not None and self.controller.engine is not None:
            self.controller.engine.request_sync()
