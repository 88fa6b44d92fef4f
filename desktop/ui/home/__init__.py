"""The rep's home (toolbar Home, View ▸ Home, Ctrl+0): open activities overdue and due
today, deals expected to close in 14 days (per currency), this week's calls, visits and
notes against the weekly target, and the leads assigned to the rep and not contacted
yet. The numbers are desktop.home.home_numbers.

Also the rep's name on this computer (desktop.rep): asked once on first start, editable
with File ▸ Your name…; it is the owner of every record the rep creates.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.home import HomeNumbers, home_numbers, set_week_target
from desktop.rep import needs_user_name, set_user_name, signed_in, skip_user_name
from desktop.timezones import now_in
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import viewer_zone
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.icons import icon
from desktop.ui.common.window import MainWindow

if TYPE_CHECKING:
    from desktop.store import Changes, Store

register_catalog({
    "Home": "首页", "Hello, {name}": "{name}，你好", "Hello": "你好",
    "Overdue": "逾期", "Due today": "今日到期", "Deals closing in 14 days": "14 天内预计成交",
    "This week's calls, visits and notes": "本周电话、拜访和笔记",
    "Leads waiting": "待跟进线索",
    "Assigned to you, not contacted yet": "已分配给你、尚未联系",
    "open activities past their time": "已过时间的未完成事项",
    "open activities due before midnight": "今天午夜前到期的事项",
    "{n} deals": "{n} 个商机", "no amount": "无金额",
    "{done} of {target}": "{done} / {target}",
    "calls {call} · visits {visit} · notes {note}": "电话 {call} · 拜访 {visit} · 笔记 {note}",
    "Weekly target": "每周目标", "Open Today": "打开今天", "Open deals": "打开商机",
    "Your name…": "您的姓名…", "Your name": "您的姓名",
    "Your name on this computer. It is the owner of the accounts, deals and activities you "
    "create, so everyone can see who looks after what.":
        "您在本机使用的姓名。您创建的客户、商机和活动都以此为负责人，方便大家知道由谁跟进。",
    "This profile is signed in to a server as {name}: that name is the owner of your "
    "records and is changed on the server.":
        "此配置已以 {name} 登录服务器：该名称是您记录的负责人，需在服务器上修改。",
    "e.g. 张伟 or Wang Wei": "例如：张伟 或 Wang Wei",
    "Later": "以后再说",
    "Saved your name: {name}": "已保存姓名：{name}",
})

WATCHED = ("activity", "deal")
CARD_STYLE = ("#home_card { background: #ffffff; border: 1px solid #d0d7de; "
              "border-radius: 8px; }")


class Card(QFrame):
    """One number with its title and a line under it."""

    def __init__(self, name: str, icon_name: str) -> None:
        super().__init__()
        self.setObjectName("home_card")
        self.setProperty("card", name)
        self.setStyleSheet(CARD_STYLE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.icon = QLabel()
        self.icon.setPixmap(icon(icon_name).pixmap(28, 28))
        self.title = QLabel()
        self.title.setStyleSheet("color: #57606a; font-size: 14px; border: none;")
        self.title.setWordWrap(True)
        self.value = QLabel("—")
        self.value.setObjectName(f"home_{name}")
        self.value.setStyleSheet("font-size: 30px; font-weight: bold; border: none;")
        self.value.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName(f"home_{name}_detail")
        self.detail.setStyleSheet("color: #57606a; border: none;")
        self.detail.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 16, 12)
        self.body.setSpacing(6)
        self.body.addLayout(head)
        self.body.addWidget(self.value)
        self.body.addWidget(self.detail)


class HomePage(QWidget):
    go_today = Signal()
    go_deals = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("home")
        self.numbers: HomeNumbers | None = None
        self.user = ""
        self.greeting = QLabel()
        self.greeting.setObjectName("home_greeting")
        self.greeting.setStyleSheet("font-size: 22px; font-weight: bold;")
        self.date = QLabel()
        self.date.setStyleSheet("color: #57606a; font-size: 14px;")
        self.cards = {name: Card(name, ic) for name, ic in (
            ("overdue", "later"), ("due_today", "today"), ("closing", "deal"),
            ("week", "activity"), ("leads", "contact"))}
        self.cards["overdue"].value.setStyleSheet(
            "font-size: 30px; font-weight: bold; color: #b3261e; border: none;")
        self.week_bar = QProgressBar()
        self.week_bar.setObjectName("home_week_bar")
        self.week_bar.setTextVisible(False)
        self.week_bar.setMaximumHeight(10)
        self.cards["week"].body.insertWidget(2, self.week_bar)
        self.target = QSpinBox()
        self.target.setObjectName("home_week_target")
        self.target.setRange(1, 1000)
        self.target.editingFinished.connect(self._target_changed)
        self.target_label = QLabel()
        self.target_label.setStyleSheet("border: none;")
        trow = QHBoxLayout()
        trow.addWidget(self.target_label)
        trow.addWidget(self.target)
        trow.addStretch(1)
        self.cards["week"].body.addLayout(trow)
        self.today_btn = QPushButton(icon("today"), "")
        self.today_btn.clicked.connect(self.go_today)
        self.deals_btn = QPushButton(icon("deal"), "")
        self.deals_btn.clicked.connect(self.go_deals)
        self.cards["due_today"].body.addWidget(self.today_btn, 0, Qt.AlignmentFlag.AlignLeft)
        self.cards["closing"].body.addWidget(self.deals_btn, 0, Qt.AlignmentFlag.AlignLeft)
        grid = QGridLayout()
        grid.setSpacing(12)
        grid.addWidget(self.cards["overdue"], 0, 0)
        grid.addWidget(self.cards["due_today"], 0, 1)
        grid.addWidget(self.cards["closing"], 0, 2)
        grid.addWidget(self.cards["week"], 1, 0, 1, 2)
        grid.addWidget(self.cards["leads"], 1, 2)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.setSpacing(10)
        lay.addWidget(self.greeting)
        lay.addWidget(self.date)
        lay.addLayout(grid)
        lay.addStretch(1)
        ctx.operation_did_execute.connect(self._on_changes)
        self._texts()

    def _texts(self) -> None:
        tr = self.ctx.tr
        titles = {"overdue": "Overdue", "due_today": "Due today",
                  "closing": "Deals closing in 14 days",
                  "week": "This week's calls, visits and notes", "leads": "Leads waiting"}
        for name, text in titles.items():
            self.cards[name].title.setText(tr(text))
        self.today_btn.setText(tr("Open Today"))
        self.deals_btn.setText(tr("Open deals"))
        self.target_label.setText(tr("Weekly target"))
        self.greeting.setText(tr("Hello, {name}", name=self.user) if self.user else tr("Hello"))
        self.date.setText(now_in(viewer_zone()).date().isoformat())
        self.cards["leads"].value.setText("—")
        self.cards["leads"].detail.setText(tr("Assigned to you, not contacted yet"))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        zone = viewer_zone()

        def op(store: Store) -> tuple[HomeNumbers, str]:
            return home_numbers(store, dt.datetime.now(dt.UTC), zone, store.user), store.user

        self.ctx.run(op, on_done=lambda r: self.set_numbers(*r))

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.isVisible() and touches(changes, WATCHED):
            self.refresh()

    def set_numbers(self, n: HomeNumbers, user: str = "") -> None:
        self.numbers = n
        self.user = user
        tr = self.ctx.tr
        self._texts()
        c = self.cards
        c["overdue"].value.setText(str(n.overdue))
        c["overdue"].detail.setText(tr("open activities past their time"))
        c["due_today"].value.setText(str(n.due_today))
        c["due_today"].detail.setText(tr("open activities due before midnight"))
        c["closing"].value.setText(tr("{n} deals", n=n.closing_count))
        lines = [f"{cur} {total:,.0f}".strip() for cur, total in
                 sorted(n.closing_amounts.items(), key=lambda kv: -kv[1])]
        c["closing"].detail.setText("\n".join(lines) or tr("no amount"))
        c["week"].value.setText(tr("{done} of {target}", done=n.week_done,
                                   target=n.week_target))
        c["week"].detail.setText(tr("calls {call} · visits {visit} · notes {note}",
                                    **{k: n.week_by_kind.get(k, 0)
                                       for k in ("call", "visit", "note")}))
        self.week_bar.setRange(0, n.week_target)
        self.week_bar.setValue(min(n.week_done, n.week_target))
        self.target.blockSignals(True)
        self.target.setValue(n.week_target)
        self.target.blockSignals(False)
        c["leads"].value.setText("—" if n.leads_waiting is None else str(n.leads_waiting))

    def _target_changed(self) -> None:
        value = self.target.value()
        if self.numbers is not None and value != self.numbers.week_target:
            self.ctx.run(lambda store: set_week_target(store, value),
                         on_done=lambda _r: self.refresh())


class UserNameDialog(QDialog):
    """Ask (once, on first start) or change the rep's name."""

    def __init__(self, ctx: AppContext, current: str, locked: bool,
                 parent: QWidget | None = None, first: bool = False) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.first = first
        tr = ctx.tr
        self.setObjectName("user_name_dialog")
        self.setWindowTitle(tr("Your name"))
        text = (tr("This profile is signed in to a server as {name}: that name is the owner "
                   "of your records and is changed on the server.", name=current) if locked
                else tr("Your name on this computer. It is the owner of the accounts, deals "
                        "and activities you create, so everyone can see who looks after what."))
        self.note = QLabel(text)
        self.note.setWordWrap(True)
        self.name = QLineEdit(current)
        self.name.setObjectName("user_name")
        self.name.setPlaceholderText(tr("e.g. 张伟 or Wang Wei"))
        self.name.setReadOnly(locked)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        later = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if later is not None:
            later.setText(tr("Later") if first else tr("Cancel"))
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        if save is not None:
            save.setText(tr("Save"))
            save.setEnabled(not locked)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self._later)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.name)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.setMinimumWidth(440)
        self.name.setFocus()

    def save(self) -> None:
        name = self.name.text()

        def done(saved: str) -> None:
            parent = self.parentWidget()
            if isinstance(parent, MainWindow):
                parent.show_message(self.ctx.tr("Saved your name: {name}", name=saved))
            self.accept()

        self.ctx.run(lambda store: set_user_name(store, name), on_done=done,
                     on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(self.ctx.error_text(exc))
        self.error.show()

    def _later(self) -> None:
        if self.first:
            self.ctx.run(skip_user_name)
        self.reject()


class HomeUi(QObject):
    """The home page and the rep's name in one main window (`window.home_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.page: HomePage | None = None
        self.name_dialog: UserNameDialog | None = None
        self.mount()
        window.built.connect(self.mount)
        if self.ctx.is_ready:
            self._ask_once()
        else:
            self.ctx.store_ready.connect(self._ask_once)

    def mount(self) -> None:
        w = self.window
        self.page = HomePage(self.ctx)
        self.page.go_today.connect(lambda: w.show_tab(0))
        self.page.go_deals.connect(lambda: w.show_tab(3))
        w.stack.addWidget(self.page)
        home = w.make_action("home", "Home", self.show, "Ctrl+0")
        home.setIcon(icon("home"))
        _insert_first(w.menu("&View"), home)
        name = w.make_action("user_name", "Your name…", self.ask_name)
        name.setIcon(icon("user"))
        file = w.menu("&File")
        actions = file.actions()
        settings = next((a for a in actions if a.objectName() == "settings"), None)
        if settings is not None:
            file.insertAction(settings, name)
        else:
            file.addAction(name)
        if w.main_toolbar is not None:
            _insert_first(w.main_toolbar, home)

    def show(self) -> HomePage:
        assert self.page is not None
        self.window.stack.setCurrentWidget(self.page)
        return self.page

    def _ask_once(self) -> None:
        def op(store: Store) -> bool:
            return needs_user_name(store)

        self.ctx.run(op, on_done=lambda need: self.ask_name(first=True) if need else None)

    def ask_name(self, first: bool = False) -> None:
        def op(store: Store) -> tuple[str, bool]:
            return store.user, signed_in(store)

        self.ctx.run(op, on_done=lambda r: self._open_name(r[0], r[1], first))

    def _open_name(self, current: str, locked: bool, first: bool = False) -> None:
        if not shiboken6.isValid(self.window):
            return
        dlg = UserNameDialog(self.ctx, current, locked, self.window, first)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.name_dialog = dlg
        dlg.open()


def _insert_first(widget: QWidget, action: QAction) -> None:
    actions = widget.actions()
    if actions:
        widget.insertAction(actions[0], action)
    else:
        widget.addAction(action)


def install(window: MainWindow) -> HomeUi:
    ui = HomeUi(window)
    window.home_ui = ui  # type: ignore[attr-defined]
    return ui

