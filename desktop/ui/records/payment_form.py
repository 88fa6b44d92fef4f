"""The payment form (回款): add or edit one payment, or read it.

Finance and admin users write payments; anyone else sees the form read-only with a line
that says why. The form starts read-only and opens up only once the store says this
profile is signed in as finance or admin (desktop.finance.payment_role); the server
refuses a payment from anyone else whatever the form did. The checks are
desktop.finance.check_payment's (Decimal amount, 2 decimals, a picked deal or contract).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import FieldCRMError
from desktop.finance import (
    PaymentInput,
    Target,
    check_payment,
    currencies,
    find_targets,
    may_record_payments,
    money,
    parse_amount,
    payment_role,
    save_payment,
    target_of,
)
from desktop.schema import PAYMENT, PAYMENT_KINDS, PAYMENT_METHODS
from desktop.timezones import now_in
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import viewer_zone
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.qt_time import qdate

if TYPE_CHECKING:
    from desktop.store import Store

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #c62828;"
READ_ONLY_STYLE = "background: #f0f0f0; color: #555;"
NOTICE_STYLE = ("background: #fff8e1; color: #5d4037; border: 1px solid #ffe082; "
                "border-radius: 4px; padding: 6px 8px;")
PICK_DELAY_MS = 150
READ_ONLY_TEXT = {
    "why": "Only finance and admin users may record or change payments. "
           "You can read them here.",
}
register_catalog({
    "New payment": "新建回款", "Edit payment": "编辑回款", "Payment": "回款",
    "Deal or contract": "商机或合同", "Deal": "商机", "Contract": "合同",
    "Deal: {title}": "商机：{title}", "Contract: {title}": "合同：{title}",
    "Type a deal's title or a contract No.…": "输入商机标题或合同编号…",
    "Nothing found": "没有找到",
    READ_ONLY_TEXT["why"]: "只有财务和管理员可以录入或修改回款。您可以在这里查看。",
    "Save": "保存", "Cancel": "取消", "Close": "关闭", "Saving…": "正在保存…",
    "Planned": "计划", "Received": "实收",
    "Bank transfer": "银行转账", "Cheque": "支票", "Cash": "现金",
    "Acceptance bill": "承兑汇票", "Card": "刷卡", "Other": "其他",
    # desktop.finance.form's messages
    "Enter the amount as a number, e.g. 12800.50": "请输入数字金额，例如 12800.50",
    "At most 2 decimals (cents)": "最多两位小数（到分）",
    "The amount must be greater than zero": "金额必须大于零",
    "The amount is too large": "金额过大",
    "Choose planned or received": "请选择计划或实收",
    "Pick a deal or contract from the list": "请从列表中选择商机或合同",
    "Choose a currency": "请选择币种",
    "Enter a date": "请输入日期",
    "Choose a method from the list": "请从列表中选择付款方式",
    "The invoice No. is too long (at most 100 characters)": "发票号过长（最多 100 个字符）",
    "The note is too long (at most 2000 characters)": "备注过长（最多 2000 个字符）",
})


def target_text(ctx: AppContext, target: Target) -> str:
    """"Deal: title" / "Contract: HT-…" as the picker shows a picked record."""
    text = "Deal: {title}" if target.entity == "deal" else "Contract: {title}"
    return ctx.tr(text, title=target.title)


class TargetPicker(QComboBox):
    """Pick the deal or contract a payment belongs to by typing part of its name."""

    picked = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.target: Target | None = None
        self._gen = 0
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.lineEdit()
        assert line is not None
        line.setPlaceholderText(ctx.tr("Type a deal's title or a contract No.…"))
        self._timer = QTimer(self, singleShot=True, interval=PICK_DELAY_MS)
        self._timer.timeout.connect(self.lookup)
        line.textEdited.connect(self._edited)
        self.activated.connect(self._activated)

    def set_target(self, target: Target | None) -> None:
        self.target = target
        self.clear()
        if target is not None:
            self.addItem(target_text(self.ctx, target), target)
            self.setCurrentIndex(0)
        else:
            self.setEditText("")
        self._show_start()

    def _show_start(self) -> None:
        """A long title shows its beginning ("Deal: 华东区域…"), not its end."""
        line = self.lineEdit()
        if line is not None:
            line.setCursorPosition(0)

    def text(self) -> str:
        line = self.lineEdit()
        return line.text() if line is not None else ""

    def _edited(self, _text: str) -> None:
        self.target = None  # typed over: nothing is picked until a row is chosen
        self.picked.emit()
        self._timer.start()

    def lookup(self) -> None:
        text = self.text().strip()
        if not text:
            return
        self._gen += 1
        gen = self._gen

        def found(targets: list[Target]) -> None:
            if gen != self._gen:
                return
            typed = self.text()
            self.blockSignals(True)
            self.clear()
            for t in targets:
                self.addItem(target_text(self.ctx, t), t)
            if not targets:
                self.addItem(self.ctx.tr("Nothing found"), None)
            self.setEditText(typed)
            self.blockSignals(False)
            self.showPopup()

        self.ctx.run(lambda store: find_targets(store, text), on_done=found)

    def _activated(self, index: int) -> None:
        target = self.itemData(index)
        if isinstance(target, Target):
            self.target = target
            self.setEditText(target_text(self.ctx, target))
            self._show_start()
        self.picked.emit()


class PaymentDialog(QDialog):
    """New or edit one payment (`record`), or read it. `preset` may name the target
    ({"target": Target}) and any field. `saved(record)` after a save."""

    saved = Signal(dict)

    def __init__(self, ctx: AppContext, record: dict[str, Any] | None = None,
                 parent: QWidget | None = None, *,
                 preset: dict[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        tr = ctx.tr
        self.record = record
        self.may_write = False  # until the store says who this is
        self.saving = False
        self.touched: set[str] = set()
        self.setObjectName("dialog_payment")
        self.setWindowTitle(tr("Edit payment" if record else "New payment"))
        self.setMinimumWidth(520)

        self.notice = QLabel(tr(READ_ONLY_TEXT["why"]))
        self.notice.setObjectName("payment_read_only")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.kind = QComboBox()
        for k in reversed(PAYMENT_KINDS):  # received first: what finance records most
            self.kind.addItem(ctx.translator.choice(k), k)
        self.target = TargetPicker(ctx)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.currency = QComboBox()
        for c in currencies([(record or {}).get("currency")]):
            self.currency.addItem(c, c)
        self.date = QDateEdit(qdate(now_in(viewer_zone()).date()))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.method = QComboBox()
        self.method.addItem("", None)
        for m in PAYMENT_METHODS:
            self.method.addItem(ctx.translator.choice(m), m)
        self.invoice = QLineEdit()
        self.note = QPlainTextEdit()
        self.note.setFixedHeight(70)
        self.widgets: dict[str, QWidget] = {
            "kind": self.kind, "target": self.target, "amount": self.amount,
            "currency": self.currency, "date": self.date, "method": self.method,
            "invoice_no": self.invoice, "note": self.note}
        self.errors_shown: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, widget in self.widgets.items():
            widget.setObjectName(f"payment_{name}")
            error = QLabel()
            error.setStyleSheet(ERROR_STYLE)
            error.setObjectName(f"payment_{name}_error")
            error.hide()
            self.errors_shown[name] = error
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(error)
            form.addRow(self._label(name), cell)

        self.message = QLabel()
        self.message.setObjectName("payment_message")
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(tr("Save"))
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText(tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        values = dict(preset or {})
        values.update(record or {})
        self._fill(values)
        for signal in (self.kind.currentIndexChanged, self.currency.currentIndexChanged,
                       self.method.currentIndexChanged, self.date.dateChanged,
                       self.amount.textChanged, self.invoice.textChanged,
                       self.note.textChanged, self.target.picked):
            signal.connect(self.on_edit)
        self.target.picked.connect(self._follow_target_currency)
        self.amount.editingFinished.connect(self._tidy_amount)
        self._set_writable(False)
        self._load()

    def _label(self, name: str) -> str:
        if name == "target":
            return self.ctx.tr("Deal or contract") + " *"
        f = PAYMENT.field(name)
        return f.label(self.ctx.lang) + (" *" if f.required or name == "currency" else "")

    # ------------------------------------------------------------ values
    def _fill(self, values: dict[str, Any]) -> None:
        for combo, key in ((self.kind, "kind"), (self.currency, "currency"),
                           (self.method, "method")):
            if values.get(key):
                i = combo.findData(values[key])
                if i >= 0:
                    combo.setCurrentIndex(i)
        if values.get("amount") is not None:
            self.amount.setText(str(money(values["amount"])))
        if values.get("date"):
            self.date.setDate(QDate.fromString(str(values["date"])[:10], Qt.DateFormat.ISODate))
        self.invoice.setText(values.get("invoice_no") or "")
        self.note.setPlainText(values.get("note") or "")
        target = values.get("target")
        if isinstance(target, Target):
            self.target.set_target(target)

    def _load(self) -> None:
        """Ask the store who this is (and, for a stored payment, what it belongs to)."""
        record = self.record

        def op(store: Store) -> tuple[str, Target | None]:
            return payment_role(store), target_of(store, record) if record else None

        self.ctx.run(op, on_done=self._loaded)

    def _loaded(self, got: tuple[str, Target | None]) -> None:
        role, target = got
        if target is not None and self.target.target is None:
            self.target.set_target(target)
        self._set_writable(may_record_payments(role))
        self.validate(touch_all=self.record is not None)

    def _set_writable(self, writable: bool) -> None:
        self.may_write = writable
        self.notice.setVisible(not writable)
        for widget in self.widgets.values():
            if isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.setReadOnly(not writable)  # still selectable: an invoice No. to copy
                widget.setStyleSheet("" if writable else READ_ONLY_STYLE)
            else:
                widget.setEnabled(writable)
        self.save_button.setVisible(writable)
        if not writable:
            self.cancel_button.setFocus()
        self.cancel_button.setText(self.ctx.tr("Cancel" if writable else "Close"))
        if not writable:
            self.setWindowTitle(self.ctx.tr("Payment"))
            self.save_button.setEnabled(False)
        else:
            self.setWindowTitle(self.ctx.tr("Edit payment" if self.record else "New payment"))

    def given(self) -> PaymentInput:
        target = self.target.target
        deal_of_contract = None
        if target is not None and target.entity == "contract":
            deal_of_contract = target.deal_id or (self.record or {}).get("deal_id")
        day = self.date.date()
        return PaymentInput(
            kind=self.kind.currentData(),
            target=(target.entity, target.id) if target is not None else None,
            amount=self.amount.text(), currency=self.currency.currentData(),
            date=dt.date(day.year(), day.month(), day.day()),
            method=self.method.currentData(), invoice_no=self.invoice.text(),
            note=self.note.toPlainText(), target_deal=deal_of_contract)

    def on_edit(self, *_args: object) -> None:
        sender = self.sender()
        for name, widget in self.widgets.items():
            if widget is sender:
                self.touched.add(name)
        self.message.hide()
        self.validate()

    def _follow_target_currency(self) -> None:
        """A new payment is in its deal's (or contract's) currency until one is chosen."""
        target = self.target.target
        if (self.record is None and target is not None and target.currency
                and "currency" not in self.touched):
            i = self.currency.findData(target.currency.upper())
            if i >= 0:
                self.currency.blockSignals(True)
                self.currency.setCurrentIndex(i)
                self.currency.blockSignals(False)

    def _tidy_amount(self) -> None:
        """"12800.5" reads "12,800.50" once typed (as the list shows it)."""
        try:
            value = parse_amount(self.amount.text())
        except FieldCRMError:
            return  # the message under the field says what is wrong
        tidy = f"{value:,.2f}"
        if tidy != self.amount.text() and not self.amount.isReadOnly():
            self.amount.setText(tidy)

    def validate(self, touch_all: bool = False) -> dict[str, Any] | None:
        """Check the form; show each touched field's message; enable Save when all are
        right. Returns the values to store, or None."""
        if touch_all:
            self.touched |= set(self.widgets)
        values, errors = check_payment(self.given())
        for name, label in self.errors_shown.items():
            text = errors.get(name)
            if text and name in self.touched:
                label.setText(self.ctx.tr(text))
                label.show()
            else:
                label.hide()
        ok = not errors
        self.save_button.setEnabled(ok and self.may_write and not self.saving)
        return values if ok else None

    def errors(self) -> dict[str, str]:
        """Field -> the message shown under it (for tests and screen readers)."""
        return {n: e.text() for n, e in self.errors_shown.items() if not e.isHidden()}

    # ------------------------------------------------------------ saving
    def save(self) -> None:
        if not self.may_write or self.saving:
            return
        values = self.validate(touch_all=True)
        if values is None:
            return
        before = self.record

        def op(store: Store) -> dict[str, Any]:
            return save_payment(store, values, before)
        self.saving = True
        self.save_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(self.ctx.tr("Saving…"))
        self.message.show()
        self.ctx.run(op, on_done=self._saved, on_error=self._failed, initiator=self)

    def _saved(self, rec: dict[str, Any]) -> None:
        self.saving = False
        self.record = rec
        self.message.hide()
        self.saved.emit(rec)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        if not isinstance(exc, FieldCRMError):
            log.error("saving a payment failed", exc_info=exc)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(self.ctx.error_text(exc))
        self.message.show()
        self.save_button.setEnabled(True)

    def keyPressEvent(self, event: Any) -> None:
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not self.save_button.isEnabled()):
            return  # Enter on an invalid or read-only form does nothing
        super().keyPressEvent(event)
