"""A list of one entity's records: lazy table, empty state, context actions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.context import AppContext
from desktop.ui.records.lazy_model import IdRole, RecordTableModel

EMPTY_TEXT = {
    "account": "No accounts yet.\nPress Ctrl+N to add your first customer, "
               "or add demo data from the File menu to look around.",
    "contact": "No contacts yet.\nPress Ctrl+N to add a person you met, "
               "or open an account and add its contacts there.",
    "deal": "No deals yet.\nPress Ctrl+N to record an opportunity.",
    "activity": "No activities yet.\nPress Ctrl+N to log a call, a visit, a note or a task.",
}
NEW_TEXT = {"account": "New account", "contact": "New contact", "deal": "New deal",
            "activity": "New activity"}
EMPTY_STYLE = "color: #666; font-size: 15px; padding: 40px;"
FIRST_COLUMN_WIDTH = 300
COLUMN_WIDTHS = {"_account": 260, "email": 230, "phones": 170, "name": 160, "title": 160}


def selected_record(table: QTableView, model: RecordTableModel) -> dict[str, Any] | None:
    """The record of the table's selected row (the payments list uses it too)."""
    rows = table.selectionModel().selectedRows()
    return model.record(rows[0].row()) if rows else None


def select_record(table: QTableView, model: RecordTableModel, record_id: str) -> bool:
    """Select and show the row of `record_id` if it is loaded."""
    row = model.row_of(record_id)
    if row < 0:
        return False
    table.selectRow(row)
    table.scrollTo(model.index(row, 0))
    return True


class RecordListView(QWidget):
    """Lazy table of records. Emits requests; the main window acts on them."""

    open_requested = Signal(dict)
    edit_requested = Signal(dict)
    delete_requested = Signal(dict)
    new_requested = Signal()

    def __init__(self, ctx: AppContext, entity: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entity = entity
        self.setObjectName(f"list_{entity}")
        self.model = RecordTableModel(ctx, entity, parent=self)
        self.table = QTableView()
        self.table.setObjectName(f"table_{entity}")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(150)
        for i, col in enumerate(self.model.columns):
            width = COLUMN_WIDTHS.get(col.key)
            if width:
                self.table.setColumnWidth(i, width)
        if entity != "contact":
            self.table.setColumnWidth(0, FIRST_COLUMN_WIDTH)
        self.table.doubleClicked.connect(self._activated)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)

        self.empty = QLabel(ctx.tr(EMPTY_TEXT[entity]))
        self.empty.setObjectName(f"empty_{entity}")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(EMPTY_STYLE)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.new_button = QPushButton(ctx.tr(NEW_TEXT[entity]))
        self.new_button.clicked.connect(self.new_requested)
        self.status = QLabel()
        self.status.setStyleSheet("color: #666;")
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self._keep_id: str | None = None
        self._keep_scroll = 0
        self.model.loaded.connect(self._update_state)
        self.model.modelAboutToBeReset.connect(self._remember_place)
        self.model.reloaded.connect(self._restore_place)
        # The column chooser: right-click the header to show or hide custom fields' columns.
        header = self.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self.model.columns_changed.connect(self._apply_hidden)
        self._apply_hidden()

    # ------------------------------------------------------------ state
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.model.start()

    def refresh(self) -> None:
        self.model.reload()

    def current_record(self) -> dict[str, Any] | None:
        return selected_record(self.table, self.model)

    def select_id(self, record_id: str) -> bool:
        return select_record(self.table, self.model, record_id)

    def _update_state(self) -> None:
        n = self.model.rowCount()
        empty = n == 0 and self.model.exhausted
        self.stack.setCurrentWidget(self.empty if empty else self.table)
        more = "" if self.model.exhausted else "+"
        self.status.setText(self.ctx.tr("{n} shown", n=f"{n:,}{more}") if n else "")

    def _remember_place(self) -> None:
        rec = self.current_record()
        self._keep_id = rec["id"] if rec else None
        self._keep_scroll = self.table.verticalScrollBar().value()

    def _restore_place(self) -> None:
        if self._keep_id:
            row = self.model.row_of(self._keep_id)
            if row >= 0:
                self.table.selectRow(row)
        self.table.verticalScrollBar().setValue(self._keep_scroll)

    # ------------------------------------------------------------ actions
    def _activated(self, index: QModelIndex) -> None:
        rec = self.model.record(index.row())
        (self.open_requested if self.entity == "account" else self.edit_requested).emit(rec)

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        rec = self.model.record(index.row())
        menu = QMenu(self)
        if self.entity == "account":
            menu.addAction(self.ctx.tr("Open account page"), lambda: self.open_requested.emit(rec))
        menu.addAction(self.ctx.tr("Edit…"), lambda: self.edit_requested.emit(rec))
        menu.addAction(self.ctx.tr("Delete"), lambda: self.delete_requested.emit(rec))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------ column chooser
    def _hidden(self) -> set[str]:
        return {k for k in self.ctx.settings.hidden_columns.split(",") if k}

    def _apply_hidden(self) -> None:
        hidden = self._hidden()
        for i, col in enumerate(self.model.columns):
            self.table.setColumnHidden(i, f"{self.entity}.{col.key}" in hidden)

    def column_choices(self) -> list[tuple[str, str, bool]]:
        """(field name, label, shown) of every custom field's column."""
        hidden = self._hidden()
        ent = self.model.entity
        return [(c.key, ent.field(c.key).label(self.ctx.lang),
                 f"{self.entity}.{c.key}" not in hidden)
                for c in self.model.columns if ent.has_field(c.key) and ent.field(c.key).from_def]

    def set_column_shown(self, name: str, shown: bool) -> None:
        hidden = self._hidden()
        (hidden.discard if shown else hidden.add)(f"{self.entity}.{name}")
        self.ctx.settings.hidden_columns = ",".join(sorted(hidden))
        self.ctx.settings.save(self.ctx.profile)
        self._apply_hidden()

    def _column_menu(self, pos: QPoint) -> None:
        choices = self.column_choices()
        if not choices:
            return
        menu = QMenu(self)
        for name, label, shown in choices:
            act = menu.addAction(label)
            act.setCheckable(True)
            act.setChecked(shown)
            act.toggled.connect(lambda on, n=name: self.set_column_shown(n, on))
        menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    def record_id_at(self, row: int) -> str:
        return str(self.model.data(self.model.index(row, 0), IdRole))
