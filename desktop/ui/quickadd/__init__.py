"""Quick add from anywhere: Ctrl+K (or the toolbar's Quick add) opens a small dialog to
add a call, visit, task, note or deal. The account is found as you type (name, pinyin,
initials or phone digits, through the store's search: desktop.quickadd.find_accounts);
a visit carries its check-in time and place. The work is desktop.quickadd.add."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.quickadd import KINDS, AccountMatch, QuickEntry, add, find_accounts, parse_amount
from desktop.schema import CURRENCIES
from desktop.timezones import now_in, wall
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import pretty_phone, viewer_zone
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.icons import icon
from desktop.ui.common.qt_time import qdate, wall_qdatetime
from desktop.ui.common.window import MainWindow

if TYPE_CHECKING:
    from desktop.store import Store

register_catalog({
    "Quick add": "快速添加", "Quick add…": "快速添加…",
    "Add a call, visit, task, note or deal (Ctrl+K)": "添加电话、拜访、任务、备注或商机（Ctrl+K）",
    "Call": "电话", "Visit": "拜访", "Task": "任务", "Note": "备注", "Deal": "商机",
    "Account": "客户", "Type a name, pinyin or phone number": "输入名称、拼音或电话号码",
    "Subject": "主题", "Deal title": "商机标题", "When": "时间", "Check-in time": "签到时间",
    "Due": "截止时间", "Place": "地点", "Where you checked in": "签到地点",
    "Outcome": "结果", "Next step": "下一步", "Optional: becomes a task": "可选，将生成一个任务",
    "Amount": "金额", "e.g. 12.8万 or 128000": "例如 12.8万 或 128000",
    "Expected close": "预计成交日期", "With {contact}": "联系人：{contact}",
    "No account found for “{text}”.": "没有找到与“{text}”匹配的客户。",
    "Added: {subject}": "已添加：{subject}",
    "Choose the account first.": "请先选择客户。",
    "Type what it is about.": "请填写主题。",
})

SEARCH_DELAY_MS = 150
KIND_ICONS = {"call": "call", "visit": "visit", "task": "task", "note": "note", "deal": "deal"}
KIND_TEXT = {"call": "Call", "visit": "Visit", "task": "Task", "note": "Note", "deal": "Deal"}


def _aware(value: object) -> dt.datetime:
    """A QDateTimeEdit's value (a naive wall time in the user's zone) as an aware UTC
    datetime. Raises ValidationError for a time the zone skips."""
    assert isinstance(value, dt.datetime)
    return wall(value, viewer_zone())


def _now_edit_value(days: int = 0) -> QDateTime:
    """Now (+ days) as the user's wall time, for a QDateTimeEdit."""
    local = now_in(viewer_zone()) + dt.timedelta(days=days)
    return wall_qdatetime(local.replace(second=0, microsecond=0))


def _date(value: object) -> dt.date:
    assert isinstance(value, dt.date)
    return value


class QuickAddDialog(QDialog):
    added = Signal(dict)  # {"entity", "id", "ids"}

    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 kind: str = "call", account: tuple[str, str] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        tr = ctx.tr
        self.setObjectName("quick_add")
        self.setWindowTitle(tr("Quick add"))
        self.kind = kind
        self.match: AccountMatch | None = None
        self.searches = 0  # searches answered (tests wait on it)
        self._asked = ""
        self.kind_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        kinds = QHBoxLayout()
        kinds.setSpacing(4)
        for i, k in enumerate(KINDS):
            b = QToolButton()
            b.setObjectName(f"quick_{k}")
            b.setIcon(icon(KIND_ICONS[k]))
            b.setText(tr(KIND_TEXT[k]))
            b.setToolTip(f"{tr(KIND_TEXT[k])} (Alt+{i + 1})")
            b.setShortcut(QKeySequence(f"Alt+{i + 1}"))
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.toggled.connect(lambda on, kk=k: self.set_kind(kk) if on else None)
            group.addButton(b)
            kinds.addWidget(b)
            self.kind_buttons[k] = b
        kinds.addStretch(1)

        self.account = QLineEdit()
        self.account.setObjectName("quick_account")
        self.account.setPlaceholderText(tr("Type a name, pinyin or phone number"))
        self.account.textEdited.connect(self._typed)
        self.account.installEventFilter(self)
        self.matches = QListWidget()
        self.matches.setObjectName("quick_matches")
        self.matches.setMaximumHeight(150)
        self.matches.itemClicked.connect(self._picked)
        self.matches.itemActivated.connect(self._picked)
        self.picked = QLabel()
        self.picked.setObjectName("quick_picked")
        self.picked.setStyleSheet("color: #57606a;")
        self.timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self.timer.timeout.connect(self._search)

        self.subject = QLineEdit()
        self.subject.setObjectName("quick_subject")
        self.when = QDateTimeEdit(_now_edit_value())
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.place = QLineEdit()
        self.place.setPlaceholderText(tr("Where you checked in"))
        self.outcome = QLineEdit()
        self.next_step = QLineEdit()
        self.next_step.setPlaceholderText(tr("Optional: becomes a task"))
        self.body = QPlainTextEdit()
        self.body.setMaximumHeight(90)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(tr("e.g. 12.8万 or 128000"))
        self.currency = QComboBox()
        self.currency.addItems(list(CURRENCIES))
        self.close_date = QDateEdit(qdate(now_in(viewer_zone()).date() + dt.timedelta(days=30)))
        self.close_date.setCalendarPopup(True)
        self.close_date.setDisplayFormat("yyyy-MM-dd")
        money = QHBoxLayout()
        money.addWidget(self.amount, 1)
        money.addWidget(self.currency)

        self.form = QFormLayout()
        self.form.addRow(tr("Account"), self.account)
        self.form.addRow("", self.matches)
        self.form.addRow("", self.picked)
        self.form.addRow(tr("Subject"), self.subject)
        self.form.addRow(tr("When"), self.when)
        self.form.addRow(tr("Place"), self.place)
        self.form.addRow(tr("Outcome"), self.outcome)
        self.form.addRow(tr("Next step"), self.next_step)
        self.form.addRow(tr("Note"), self.body)
        self.form.addRow(tr("Amount"), money)
        self.form.addRow(tr("Expected close"), self.close_date)
        self._show_matches(False)
        self.error = QLabel()
        self.error.setObjectName("quick_error")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        for which, text in ((QDialogButtonBox.StandardButton.Save, "Save"),
                            (QDialogButtonBox.StandardButton.Cancel, "Cancel")):
            buttons.button(which).setText(tr(text))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.save)
        lay = QVBoxLayout(self)
        lay.setSpacing(8)
        lay.addLayout(kinds)
        lay.addLayout(self.form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.setMinimumWidth(560)
        if account is not None:
            self.set_match(AccountMatch(account[0], account[1], ""))
        self.kind_buttons[kind].setChecked(True)
        self.set_kind(kind)
        self.account.setFocus()

    # ------------------------------------------------------------ the kind
    def set_kind(self, kind: str) -> None:
        self.kind = kind
        tr = self.ctx.tr
        shown = {"call": {"subject", "when", "outcome", "next"},
                 "visit": {"subject", "when", "place", "outcome", "next"},
                 "task": {"subject", "when"}, "note": {"subject", "body"},
                 "deal": {"subject", "amount", "close"}}[kind]
        rows = {"subject": self.subject, "when": self.when, "place": self.place,
                "outcome": self.outcome, "next": self.next_step, "body": self.body,
                "amount": self.amount, "close": self.close_date}
        for name, widget in rows.items():
            self.form.setRowVisible(self._row_of(widget), name in shown)
        label = self.form.labelForField(self.when)
        if isinstance(label, QLabel):
            label.setText(tr({"visit": "Check-in time", "task": "Due"}.get(kind, "When")))
        label = self.form.labelForField(self.subject)
        if isinstance(label, QLabel):
            label.setText(tr("Deal title" if kind == "deal" else "Subject"))
        if kind == "task":
            self.when.setDateTime(_now_edit_value(days=1))
        elif kind in ("call", "visit"):
            self.when.setDateTime(_now_edit_value())
        self.adjustSize()

    def _row_of(self, widget: QWidget) -> int:
        if widget is self.amount:
            for row in range(self.form.rowCount()):
                item = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
                lay = item.layout() if item is not None else None
                if lay is not None and lay.indexOf(self.amount) >= 0:
                    return row
        pos: Any = self.form.getWidgetPosition(widget)
        return int(pos[0])

    # ------------------------------------------------------------ the account
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.account and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.matches.count():
                row = self.matches.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.matches.setCurrentRow(max(0, min(self.matches.count() - 1, row)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.matches.isVisible() \
                    and self.matches.currentItem() is not None:
                self._picked(self.matches.currentItem())
                return True
        return False

    def _typed(self, _text: str) -> None:
        self.match = None
        self.picked.clear()
        self.timer.start()

    def search_now(self) -> None:
        self.timer.stop()
        self._search()

    def _search(self) -> None:
        text = self.account.text().strip()
        self._asked = text
        if not text:
            self.matches.clear()
            self._show_matches(False)
            return

        def op(store: Store) -> list[AccountMatch]:
            return find_accounts(store, text)

        self.ctx.run(op, on_done=lambda found: self._found(text, found))

    def _found(self, text: str, found: list[AccountMatch]) -> None:
        if text != self._asked:
            return  # typed on meanwhile
        self.searches += 1
        self.matches.clear()
        for m in found:
            it = QListWidgetItem(icon("account"), f"{m.name}    {self._detail(m)}".rstrip())
            it.setData(Qt.ItemDataRole.UserRole, m)
            self.matches.addItem(it)
        if found:
            self.matches.setCurrentRow(0)
            self._show_matches(True)
            self.picked.clear()
        else:
            self._show_matches(False)
            self.picked.setText(self.ctx.tr("No account found for “{text}”.", text=text))

    def _show_matches(self, shown: bool) -> None:
        self.form.setRowVisible(self._row_of(self.matches), shown)
        self.adjustSize()

    def _picked(self, item: QListWidgetItem) -> None:
        m = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(m, AccountMatch):
            self.set_match(m)
            self.subject.setFocus()

    def set_match(self, m: AccountMatch) -> None:
        self.match = m
        self.account.setText(m.name)
        self.account.setCursorPosition(0)
        self._show_matches(False)
        self.picked.setText(self.ctx.tr("With {contact}", contact=m.contact)
                            if m.contact else self._detail(m))

    @staticmethod
    def _detail(m: AccountMatch) -> str:
        return " · ".join(p for p in (m.contact, m.region, pretty_phone(m.phone) if m.phone
                                      else "") if p)

    # ------------------------------------------------------------ saving
    def entry(self) -> QuickEntry:
        amount = parse_amount(self.amount.text()) if self.kind == "deal" else None
        return QuickEntry(
            kind=self.kind, account_id=self.match.account_id if self.match else None,
            subject=self.subject.text(),
            contact_id=self.match.contact_id if self.match else None,
            outcome=self.outcome.text(), next_step=self.next_step.text(),
            when=_aware(self.when.dateTime().toPython())
            if self.kind in ("call", "visit", "task") else None,
            place=self.place.text(), body=self.body.toPlainText(), amount=amount,
            currency=self.currency.currentText(),
            close_date=_date(self.close_date.date().toPython()) if self.kind == "deal" else None,
            lang=self.ctx.lang)

    def save(self) -> None:
        tr = self.ctx.tr
        try:
            entry = self.entry()
        except Exception as exc:
            self.fail(self.ctx.error_text(exc))
            return
        if entry.kind in ("call", "visit", "deal") and not entry.account_id:
            self.fail(tr("Choose the account first."))
            return
        if (entry.kind in ("task", "deal") and not entry.subject.strip()) or \
                (entry.kind == "note" and not (entry.subject.strip() or entry.body.strip())):
            self.fail(tr("Type what it is about."))
            return
        now = dt.datetime.now(dt.UTC)
        self.ctx.run(lambda store: add(store, entry, now), on_done=self._saved,
                     on_error=lambda e: self.fail(self.ctx.error_text(e)))

    def _saved(self, result: dict[str, Any]) -> None:
        self.added.emit(result)
        self.accept()

    def fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class QuickAddUi(QObject):
    """Quick add in one main window (`window.quickadd_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.dialog: QuickAddDialog | None = None
        self.mount()
        window.built.connect(self.mount)

    def mount(self) -> None:
        w = self.window
        action: QAction = w.make_action("quick_add", "Quick add…", self.open, "Ctrl+K")
        action.setIcon(icon("quick"))
        action.setToolTip(self.ctx.tr("Add a call, visit, task, note or deal (Ctrl+K)"))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.setIconText(self.ctx.tr("Quick add"))
        file = w.menu("&File")
        actions = file.actions()
        if actions:
            file.insertAction(actions[0], action)
        else:
            file.addAction(action)
        if w.main_toolbar is not None:
            w.main_toolbar.addSeparator()
            w.main_toolbar.addAction(action)

    def open(self, kind: str = "call") -> QuickAddDialog:
        account = None
        _deal, account_id = self.window.focused_ids()
        current = self.window.current_record()
        if account_id and current is not None and current[0] == "account":
            account = (account_id, str(current[1].get("name") or ""))
        dlg = QuickAddDialog(self.ctx, self.window, kind, account)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.added.connect(lambda r: self.window.show_message(self.ctx.tr(
            "Added: {subject}", subject=dlg.subject.text() or dlg.body.toPlainText()[:40])))
        self.dialog = dlg
        self.window.dialog = dlg
        dlg.open()
        return dlg


def install(window: MainWindow) -> QuickAddUi:
    ui = QuickAddUi(window)
    window.quickadd_ui = ui  # type: ignore[attr-defined]
    return ui
