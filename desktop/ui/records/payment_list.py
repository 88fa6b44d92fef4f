"""Payments (回款): the Payments tab's list, and the Payments section of a deal's dialog.

The list is the lazy record table (lazy_model) over `payment`, newest first, with a
planned/received filter and a search (desktop.finance.list_filter). The deal's section
shows desktop.finance.deal_payments: signed, collected and outstanding in the deal's
currency, payments in other currencies on a line of their own, and the deal's payments.
"Add payment" is for finance and admin; others see it disabled with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.finance import DealPayments, list_filter, may_record_payments, money, payment_role
from desktop.schema import PAYMENT
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.records.lazy_model import RecordTableModel
from desktop.ui.records.record_list import select_record, selected_record

if TYPE_CHECKING:
    from desktop.store import Changes, Store

SEARCH_DELAY_MS = 250
EMPTY_STYLE = "color: #666; font-size: 15px; padding: 40px;"
FIGURE_STYLE = "font-size: 15px; font-weight: 600;"
MUTED_STYLE = "color: #666;"
COLUMN_WIDTHS = (320, 90, 170, 110, 130)
EMPTY_TEXT = {
    "writer": "No payments yet.\nPress “Add payment” to record a planned instalment or money "
              "received.",
    "reader": "No payments yet.\nFinance records payments; they appear here after the next "
              "sync.",
    "filtered": "No payments match.\nClear the search or show all payments.",
}
WHY_TEXT = {"add": "Only finance and admin users may record payments."}
register_catalog({
    "Payments": "回款", "All payments": "全部回款", "Planned": "计划", "Received": "实收",
    "Add payment": "添加回款", "Add payment…": "添加回款…",
    "Search invoice No., deal, contract, note": "搜索发票号、商机、合同、备注",
    EMPTY_TEXT["writer"]: "还没有回款记录。\n点击“添加回款”，录入计划回款或已到账的款项。",
    EMPTY_TEXT["reader"]: "还没有回款记录。\n回款由财务录入，下次同步后会显示在这里。",
    EMPTY_TEXT["filtered"]: "没有符合条件的回款。\n请清除搜索，或显示全部回款。",
    WHY_TEXT["add"]: "只有财务和管理员可以录入回款。",
    "{n} shown": "显示 {n} 条", "Edit…": "编辑…", "Open…": "查看…", "Delete": "删除",
    "Signed amount": "签约金额", "Deal amount (not signed yet)": "商机金额（尚未签约）",
    "Collected": "已回款", "Outstanding": "未回款", "Planned instalments": "计划回款",
    "Planned instalments in the deal's currency, received or not":
        "商机币种的计划回款合计（无论是否已到账）",
    "Also received in other currencies (not added in): {list}":
        "另有其他币种到账（未计入）：{list}",
    "Planned in other currencies: {list}": "其他币种计划回款：{list}",
    "No payments for this deal yet.": "该商机还没有回款记录。",
    "Loading payments…": "正在读取回款…",
})


def money_text(value: Decimal | None, currency: str) -> str:
    """An exact amount with its currency: "CNY 1,234,567.80" ("—" for none)."""
    return "—" if value is None else f"{currency} {value:,.2f}"


class PaymentListView(QWidget):
    """The Payments tab: every payment the user may read, newest first."""

    edit_requested = Signal(dict)
    delete_requested = Signal(dict)
    new_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        tr = ctx.tr
        self.entity = "payment"
        self.role = ""
        self._role_asked = False
        self.setObjectName("list_payment")
        self.model = RecordTableModel(ctx, "payment", parent=self)
        self.table = QTableView()
        self.table.setObjectName("table_payment")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, width in enumerate(COLUMN_WIDTHS):  # never narrower than the header's text
            self.table.setColumnWidth(i, max(width, header.sectionSizeHint(i) + 8))
        self.table.doubleClicked.connect(self._activated)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)

        self.empty = QLabel()
        self.empty.setObjectName("empty_payment")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(EMPTY_STYLE)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.kind = QComboBox()
        self.kind.setObjectName("payment_kind_filter")
        for text, value in (("All payments", None), ("Planned", "planned"),
                            ("Received", "received")):
            self.kind.addItem(tr(text), value)
        self.kind.currentIndexChanged.connect(self.apply_filter)
        self.search = QLineEdit()
        self.search.setObjectName("payment_search")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(tr("Search invoice No., deal, contract, note"))
        self.search.setMinimumWidth(280)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status = QLabel()
        self.status.setStyleSheet(MUTED_STYLE)
        self.new_button = QPushButton(tr("Add payment"))
        self.new_button.setObjectName("add_payment")
        self.new_button.clicked.connect(self.new_requested)
        top = QHBoxLayout()
        top.addWidget(self.kind)
        top.addWidget(self.search)
        top.addWidget(self.status, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self.model.loaded.connect(self._update_state)
        self._show_role("")
        ctx.operation_did_execute.connect(self._on_changes)

    # ------------------------------------------------------------ state
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._role_asked:  # the table may have fetched its first page already
            self.load_role()
        self.model.start()

    def refresh(self) -> None:
        self.load_role()
        self.model.reload()

    def load_role(self) -> None:
        self._role_asked = True
        self.ctx.run(payment_role, on_done=self._show_role)

    def may_write(self) -> bool:
        return may_record_payments(self.role)

    def _show_role(self, role: str) -> None:
        self.role = role
        allowed = self.may_write()
        self.new_button.setEnabled(allowed)
        self.new_button.setToolTip("" if allowed else self.ctx.tr(WHY_TEXT["add"]))
        self._update_state()

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if touches(changes, ["*"]):
            self.load_role()  # signed out or in: the rights may have changed

    def apply_filter(self) -> None:
        where, params = list_filter(self.kind.currentData(), self.search.text())
        self.model.set_filter(where, params)

    def filtered(self) -> bool:
        return bool(self.kind.currentData() or self.search.text().strip())

    def current_record(self) -> dict[str, Any] | None:
        return selected_record(self.table, self.model)

    def select_id(self, record_id: str) -> bool:
        return select_record(self.table, self.model, record_id)

    def _update_state(self) -> None:
        n = self.model.rowCount()
        empty = n == 0 and self.model.exhausted
        which = "filtered" if self.filtered() else "writer" if self.may_write() else "reader"
        self.empty.setText(self.ctx.tr(EMPTY_TEXT[which]))
        self.stack.setCurrentWidget(self.empty if empty else self.table)
        more = "" if self.model.exhausted else "+"
        self.status.setText(self.ctx.tr("{n} shown", n=f"{n:,}{more}") if n else "")

    # ------------------------------------------------------------ actions
    def _activated(self, index: QModelIndex) -> None:
        self.edit_requested.emit(self.model.record(index.row()))

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        rec = self.model.record(index.row())
        menu = QMenu(self)
        menu.addAction(self.ctx.tr("Edit…" if self.may_write() else "Open…"),
                       lambda: self.edit_requested.emit(rec))
        if self.may_write():
            menu.addAction(self.ctx.tr("Delete"), lambda: self.delete_requested.emit(rec))
        menu.popup(self.table.viewport().mapToGlobal(pos))


class DealPaymentsSection(QGroupBox):
    """A deal's money in its dialog: signed, collected, outstanding (exact, in the deal's
    currency), other currencies apart, its payments; "Add payment…" for finance."""

    add_requested = Signal()
    payment_requested = Signal(dict)

    def __init__(self, ctx: AppContext, deal_id: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx.tr("Payments"), parent)
        self.ctx = ctx
        self.deal_id = deal_id
        self.role = ""
        self.summary: DealPayments | None = None
        self.setObjectName("deal_payments")
        tr = ctx.tr
        self.signed_label = QLabel(tr("Signed amount"))
        self.signed = QLabel("—")
        self.collected = QLabel("—")
        self.outstanding = QLabel("—")
        self.planned = QLabel("—")
        grid = QGridLayout()
        for col, (label, value) in enumerate(((self.signed_label, self.signed),
                                              (QLabel(tr("Collected")), self.collected),
                                              (QLabel(tr("Outstanding")), self.outstanding),
                                              (QLabel(tr("Planned instalments")),
                                               self.planned))):
            label.setStyleSheet(MUTED_STYLE)
            value.setStyleSheet(FIGURE_STYLE)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(label, 0, col)
            grid.addWidget(value, 1, col)
            grid.setColumnStretch(col, 1)
        grid.setHorizontalSpacing(20)
        self.signed.setObjectName("deal_signed")
        self.collected.setObjectName("deal_collected")
        self.outstanding.setObjectName("deal_outstanding")
        self.planned.setObjectName("deal_planned")
        self.planned.setToolTip(tr("Planned instalments in the deal's currency, received or not"))
        self.other = QLabel()
        self.other.setObjectName("deal_other_currencies")
        self.other.setWordWrap(True)
        self.other.setStyleSheet("color: #8d6e00;")
        self.other.hide()
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("deal_payments_table")
        self.table.setHorizontalHeaderLabels([PAYMENT.field(n).label(ctx.lang) for n in (
            "date", "kind", "amount", "method", "invoice_no")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(120)
        self.table.doubleClicked.connect(self._activated)
        self.empty = QLabel(tr("Loading payments…"))
        self.empty.setStyleSheet(MUTED_STYLE)
        self.add_button = QPushButton(tr("Add payment…"))
        self.add_button.setObjectName("deal_add_payment")
        self.add_button.clicked.connect(self.add_requested)
        bottom = QHBoxLayout()
        bottom.addWidget(self.empty, 1)
        bottom.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.other)
        layout.addWidget(self.table)
        layout.addLayout(bottom)
        self._show_role("")
        ctx.operation_did_execute.connect(self._on_changes)
        self.reload()

    def reload(self) -> None:
        deal_id = self.deal_id

        def op(store: Store) -> tuple[DealPayments, str]:
            from desktop.finance import deal_payments

            return deal_payments(store, deal_id), payment_role(store)

        self.ctx.run(op, on_done=self._show, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.empty.setText(self.ctx.error_text(exc))

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if touches(changes, ("payment", "deal", "contract")):
            self.reload()

    def _show_role(self, role: str) -> None:
        self.role = role
        allowed = may_record_payments(role)
        self.add_button.setEnabled(allowed)
        self.add_button.setToolTip("" if allowed else self.ctx.tr(WHY_TEXT["add"]))

    def _show(self, got: tuple[DealPayments, str]) -> None:
        s, role = got
        self.summary = s
        self._show_role(role)
        tr = self.ctx.tr
        self.signed_label.setText(tr("Deal amount (not signed yet)" if s.signed_is_amount
                                     else "Signed amount"))
        self.signed.setText(money_text(s.signed, s.currency))
        self.collected.setText(money_text(s.collected, s.currency))
        self.outstanding.setText(money_text(s.outstanding, s.currency))
        self.planned.setText(money_text(s.planned, s.currency))
        received = [money_text(o.received, o.currency) for o in s.other if o.received]
        planned = [money_text(o.planned, o.currency) for o in s.other if o.planned]
        lines = []
        if received:
            lines.append(tr("Also received in other currencies (not added in): {list}",
                            list=", ".join(received)))
        if planned:
            lines.append(tr("Planned in other currencies: {list}", list=", ".join(planned)))
        self.other.setText("\n".join(lines))
        self.other.setVisible(bool(lines))
        self.table.setRowCount(len(s.payments))
        choice = self.ctx.translator.choice
        for r, p in enumerate(s.payments):
            cells = (str(p.get("date") or ""), choice(p.get("kind")),
                     money_text(money(p.get("amount")), str(p.get("currency") or "CNY")),
                     choice(p.get("method")), str(p.get("invoice_no") or ""))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.setVisible(bool(s.payments))
        self.empty.setText("" if s.payments else tr("No payments for this deal yet."))

    def _activated(self, index: QModelIndex) -> None:
        if self.summary is not None and 0 <= index.row() < len(self.summary.payments):
            self.payment_requested.emit(self.summary.payments[index.row()])
