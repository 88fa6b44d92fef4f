"""The "Possible duplicates" window (issue 15): the pairs found after each pull and by
"Find all", best first, each with its reasons; merge a pair, or mark it "Not a
duplicate". A status-bar button shows how many are open and opens the window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.store import Changes, Store
    from desktop.ui.common.context import AppContext

register_catalog({
    "Possible duplicates": "可能重复", "Possible duplicates: {n}": "可能重复：{n}",
    "Merge…": "合并…", "Not a duplicate": "不是重复", "Find all": "全部查找",
    "Accounts": "客户", "Contacts": "联系人", "Record": "记录",
    "Probably the same as": "可能相同于",
    "Score": "相似度", "Why": "原因", "No possible duplicates.": "没有可能重复的记录。",
    "Finding duplicates…": "正在查找重复记录…",
})

WATCH = {"account", "contact", "dedupe_pair"}


def count_op(store: Store) -> int:
    from desktop.dedupe.pairs import count_open

    return count_open(store)


class PairsView(QWidget):
    def __init__(self, ctx: AppContext, window: Any = None) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("duplicates_view")
        self.ctx, self.window_ = ctx, window
        tr = ctx.tr
        self.setWindowTitle(tr("Possible duplicates"))
        self.resize(900, 480)
        self.entity = QComboBox()
        self.entity.addItem(tr("Accounts"), "account")
        self.entity.addItem(tr("Contacts"), "contact")
        self.entity.currentIndexChanged.connect(self.refresh)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("pairs_table")
        self.table.setHorizontalHeaderLabels(
            [tr("Record"), tr("Probably the same as"), tr("Score"), tr("Why")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 300)
        self.table.setColumnWidth(1, 300)
        self.empty = QLabel(tr("No possible duplicates."))
        self.merge_button = QPushButton(tr("Merge…"))
        self.merge_button.setObjectName("merge_pair")
        self.merge_button.clicked.connect(self.merge_selected)
        self.dismiss_button = QPushButton(tr("Not a duplicate"))
        self.dismiss_button.setObjectName("dismiss_pair")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.scan_button = QPushButton(tr("Find all"))
        self.scan_button.setObjectName("scan_pairs")
        self.scan_button.clicked.connect(self.scan)
        top = QHBoxLayout()
        top.addWidget(self.entity)
        top.addStretch(1)
        top.addWidget(self.scan_button)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.dismiss_button)
        bottom.addWidget(self.merge_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(bottom)
        self.pairs: list[Any] = []
        self.merge_dialog: Any = None
        ctx.operation_did_execute.connect(self._changed)
        self.refresh()

    def current_entity(self) -> str:
        return str(self.entity.currentData())

    def _changed(self, changes: Changes, _initiator: object) -> None:
        if WATCH & set(changes.entities):
            self.refresh()

    def refresh(self) -> None:
        from desktop.dedupe.pairs import open_pairs

        entity = self.current_entity()
        self.ctx.run(lambda store: open_pairs(store, entity), on_done=self._show)

    def _show(self, pairs: list[Any]) -> None:
        tr = self.ctx.tr
        self.pairs = pairs
        self.table.setRowCount(len(pairs))
        for row, p in enumerate(pairs):
            reasons = ("、" if self.ctx.lang == "zh" else ", ").join(tr(r) for r in p.reasons)
            for col, text in enumerate((p.a_name, p.b_name, f"{p.score:g}%", reasons)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        if pairs:
            self.table.selectRow(0)
        self.empty.setVisible(not pairs)
        self.merge_button.setEnabled(bool(pairs))
        self.dismiss_button.setEnabled(bool(pairs))

    def selected(self) -> Any:
        row = self.table.currentRow()
        return self.pairs[row] if 0 <= row < len(self.pairs) else None

    def dismiss_selected(self) -> None:
        from desktop.dedupe.pairs import dismiss

        p, entity = self.selected(), self.current_entity()
        if p is not None:
            self.ctx.run(lambda store: dismiss(store, entity, p.a, p.b))

    def merge_selected(self) -> None:
        from desktop.ui.dedupe.merge_dialog import MergeDialog, load_pair

        p, entity = self.selected(), self.current_entity()
        if p is None:
            return

        def show(data: dict[str, Any]) -> None:
            dlg = MergeDialog(self.ctx, entity, data, self)
            dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.merge_dialog = dlg
            dlg.open()

        self.ctx.run(load_pair(entity, p.a, p.b), on_done=show)

    def scan(self) -> None:
        from desktop.dedupe import rules
        from desktop.dedupe.pairs import save
        from desktop.dedupe.service import scan

        entity = self.current_entity()

        def op(store: Store, progress: Any) -> int:
            result = scan(store, entity, threshold=rules.rule_for(store, entity).threshold,
                          progress=lambda _stage, done, total: progress.report(done, total))
            return save(store, entity, result.pairs, replace=True)

        self.ctx.run_long(op, self.ctx.tr("Finding duplicates…"), on_done=lambda _n: self.refresh())
