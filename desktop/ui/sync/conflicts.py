"""The "Conflicts" view: concurrent edits of one field that were decided for the rep,
side by side ("Mine" / "Theirs"); "Keep mine" makes the local value a new edit that
wins everywhere, "Keep theirs" accepts the value that won."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.store import Changes
from desktop.sync.review import load_conflicts
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.ui.sync.status import SyncController

register_catalog({
    "Conflicts": "冲突", "Record": "记录", "Field": "字段", "Mine": "我的", "Theirs": "对方的",
    "Keep mine": "保留我的", "Keep theirs": "保留对方的", "No conflicts.": "没有冲突。",
    "(empty)": "（空）", "(deleted)": "（已删除）",
})


def show_value(value: Any, tr: Any) -> str:
    if value is None or value == "" or value == []:
        return tr("(empty)")
    if value is True:
        return tr("(deleted)")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class ConflictsView(QWidget):
    def __init__(self, ctx: AppContext, controller: SyncController | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = controller
        self.items: list[dict[str, Any]] = []
        tr = ctx.tr
        self.table = QTableWidget(0, 4)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.mine = QPlainTextEdit()
        self.theirs = QPlainTextEdit()
        for box in (self.mine, self.theirs):
            box.setReadOnly(True)
        self.mine_label, self.theirs_label = QLabel(), QLabel()
        self.keep_mine = QPushButton()
        self.keep_theirs = QPushButton()
        self.empty = QLabel()
        sides = QHBoxLayout()
        for lab, box, button in ((self.mine_label, self.mine, self.keep_mine),
                                 (self.theirs_label, self.theirs, self.keep_theirs)):
            col = QVBoxLayout()
            col.addWidget(lab)
            col.addWidget(box)
            col.addWidget(button)
            sides.addLayout(col)
        bottom = QWidget()
        bottom.setLayout(sides)
        split = QSplitter()
        split.setOrientation(split.orientation().Vertical)
        split.addWidget(self.table)
        split.addWidget(bottom)
        lay = QVBoxLayout(self)
        lay.addWidget(self.empty)
        lay.addWidget(split)
        self.keep_mine.clicked.connect(lambda: self.resolve("mine"))
        self.keep_theirs.clicked.connect(lambda: self.resolve("theirs"))
        self.table.itemSelectionChanged.connect(self._show_selected)
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(self._texts)
        self._texts()
        del tr
        self.refresh()

    def _texts(self) -> None:
        tr = self.ctx.tr
        self.table.setHorizontalHeaderLabels([tr("Record"), tr("Field"), tr("Mine"), tr("Theirs")])
        self.mine_label.setText(tr("Mine"))
        self.theirs_label.setText(tr("Theirs"))
        self.keep_mine.setText(tr("Keep mine"))
        self.keep_theirs.setText(tr("Keep theirs"))
        self.empty.setText(tr("No conflicts."))

    def refresh(self) -> None:
        self.ctx.run(load_conflicts, on_done=self._show)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if touches(changes, ("conflicts",)) or initiator is self.controller:
            self.refresh()

    def _show(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        tr = self.ctx.tr
        zh = self.ctx.lang == "zh"
        self.table.setRowCount(len(items))
        for row, it in enumerate(items):
            cells = [it["title"], it["label_zh"] if zh else it["label"],
                     show_value(it["mine"], tr), show_value(it["theirs"], tr)]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.empty.setVisible(not items)
        if items:
            self.table.selectRow(0)
        self._show_selected()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows and rows[0].row() < len(self.items) else None

    def _show_selected(self) -> None:
        it = self.selected()
        tr = self.ctx.tr
        self.mine.setPlainText(show_value(it["mine"], tr) if it else "")
        self.theirs.setPlainText(show_value(it["theirs"], tr) if it else "")
        self.keep_mine.setEnabled(it is not None)
        self.keep_theirs.setEnabled(it is not None)

    def resolve(self, keep: str) -> None:
        it = self.selected()
        if it is None:
            return
        cid = it["id"]
        self.ctx.run(lambda store: store.resolve_conflict(cid, keep),
                     on_done=lambda _r: self._resolved(), initiator=self)

    def _resolved(self) -> None:
        self.refresh()
        if self.controller is not None and self.controller.engine is not None:
            self.controller.engine.request_sync()
