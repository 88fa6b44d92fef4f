"""Today's agenda: open activities grouped into Overdue, Today and Upcoming, each row with
its time, what it is, the account, the contact and the phone to call, and the actions
in place (desktop.followup.agenda does the work):

* Done… (D): the outcome, and a next step that becomes a task;
* Log call… (C) / Log visit… (V): what happened, with its outcome and next step (a visit
  with its check-in time and place);
* +1 day (+), or drag a row onto "Today" or "Upcoming";
* Open (Enter): the record; Call: the phone through the system (tel:).

It takes the place of Today's plain due list (the `today_slot` property).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDropEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import ValidationError
from desktop.followup.agenda import (
    GROUPS,
    Agenda,
    AgendaItem,
    complete,
    load_agenda,
    log_contact,
    next_step_due,
    reschedule,
    reschedule_to_group,
)
from desktop.followup.clock import parse_iso
from desktop.records_summary import tel_url
from desktop.timezones import now_in, wall
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import pretty_phone, viewer_zone
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.icons import icon
from desktop.ui.common.qt_time import wall_qdatetime

if TYPE_CHECKING:
    from desktop.store import Changes, Store

register_catalog({
    "Agenda": "日程",
    "Overdue ({n})": "逾期（{n}）", "Today ({n})": "今天（{n}）",
    "Upcoming 7 days ({n})": "未来 7 天（{n}）",
    "Nothing here.": "暂无。",
    "Time": "时间", "What": "事项", "Account": "客户", "Contact": "联系人", "Phone": "电话",
    "Done…": "完成…", "Log call…": "记录电话…", "Log visit…": "记录拜访…", "+1 day": "推迟一天",
    "Open": "打开", "Dial": "拨打",
    "Mark done with its outcome (D)": "填写结果并标记完成（D）",
    "Log a call with its outcome and next step (C)": "记录一次电话：结果和下一步（C）",
    "Log a visit with check-in, outcome and next step (V)":
        "记录一次拜访：签到时间、地点、结果和下一步（V）",
    "Move to the same time tomorrow (+), or drag onto Today or Upcoming":
        "推迟到明天同一时间（+），或拖到“今天”/“未来 7 天”",
    "Open the record (Enter)": "打开记录（回车）",
    "Call the phone number with the system's phone app": "用系统的电话应用拨打",
    "Done: {subject}": "完成：{subject}", "Log a call": "记录电话", "Log a visit": "记录拜访",
    "Outcome": "结果", "Next step": "下一步", "Next step due": "下一步时间",
    "Check-in time": "签到时间", "Place": "地点", "Subject": "主题",
    "What came of it, e.g. agreed to a trial order": "结果，例如：同意试单",
    "Optional: becomes a task, e.g. send the quote": "可选，将生成一个任务，例如：发送报价",
    "Where you checked in": "签到地点",
    "Select a row of the agenda first.": "请先在日程中选中一行。",
    "Marked done: {subject}": "已完成：{subject}", "Logged: {subject}": "已记录：{subject}",
    "Moved to {when}: {subject}": "已改到 {when}：{subject}",
    "No phone number for this row.": "这一行没有电话号码。",
    "Nothing on your agenda. Plan a call or a visit with Quick add (Ctrl+K).":
        "日程为空。可用快速添加（Ctrl+K）安排电话或拜访。",
})

ROLE = Qt.ItemDataRole.UserRole
WATCHED = ("activity", "account", "contact")
TITLES = {"overdue": "Overdue ({n})", "today": "Today ({n})",
          "upcoming": "Upcoming 7 days ({n})"}
DATETIME_FORMAT = "yyyy-MM-dd HH:mm"
GROUP_COLOURS = {"overdue": "#b3261e", "today": "#1f6feb", "upcoming": "#57606a"}


def when_text(item: AgendaItem, zone: dt.tzinfo) -> str:
    due = parse_iso(item.due_at)
    if due is None:
        return ""
    local = due.astimezone(zone)
    return local.strftime("%H:%M") if item.group == "today" else local.strftime("%m-%d %H:%M")


def _aware(value: object) -> dt.datetime:
    """A QDateTimeEdit's value (a naive wall time in the user's zone) as an aware UTC
    datetime. Raises ValidationError for a time the zone skips."""
    assert isinstance(value, dt.datetime)
    return wall(value, viewer_zone())


class AgendaTree(QTreeWidget):
    """The agenda's tree: keys act on the selected row; rows drop onto a group."""

    key_action = Signal(str)  # "done", "call", "visit", "later", "open"
    dropped = Signal(str, str)  # activity id, group

    KEYS: ClassVar[dict[Qt.Key, str]] = {
        Qt.Key.Key_D: "done", Qt.Key.Key_C: "call", Qt.Key.Key_V: "visit",
        Qt.Key.Key_Plus: "later", Qt.Key.Key_Equal: "later",
        Qt.Key.Key_Return: "open", Qt.Key.Key_Enter: "open"}

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = self.KEYS.get(Qt.Key(event.key()))
        if action is not None and not (event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)):
            self.key_action.emit(action)
            event.accept()
            return
        super().keyPressEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        target = self.itemAt(event.position().toPoint())
        source = self.currentItem()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()  # the tree never moves rows itself: the store does, then a reload
        if target is None or source is None:
            return
        group = (target.parent() or target).data(0, ROLE)
        item = source.data(0, ROLE)
        if isinstance(item, AgendaItem) and isinstance(group, str) and group != item.group:
            self.dropped.emit(item.id, group)


class OutcomeDialog(QDialog):
    """Done with an outcome, or a call / visit logged: outcome, next step and its due
    time; a visit also its check-in time and place."""

    submitted = Signal(dict)

    def __init__(self, ctx: AppContext, mode: str, subject: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.mode = ctx, mode
        tr = ctx.tr
        self.setObjectName(f"outcome_{mode}")
        self.setWindowTitle({"done": tr("Done: {subject}", subject=subject),
                             "call": tr("Log a call"), "visit": tr("Log a visit")}[mode])
        zone = viewer_zone()
        now = now_in(zone)
        form = QFormLayout()
        self.subject = QLineEdit(subject)
        self.at = QDateTimeEdit(wall_qdatetime(now.replace(second=0, microsecond=0)))
        self.at.setCalendarPopup(True)
        self.at.setDisplayFormat(DATETIME_FORMAT)
        self.place = QLineEdit()
        self.place.setPlaceholderText(tr("Where you checked in"))
        self.outcome = QLineEdit()
        self.outcome.setPlaceholderText(tr("What came of it, e.g. agreed to a trial order"))
        self.next_step = QLineEdit()
        self.next_step.setPlaceholderText(tr("Optional: becomes a task, e.g. send the quote"))
        self.next_due = QDateTimeEdit(wall_qdatetime(next_step_due(now, zone)))
        self.next_due.setCalendarPopup(True)
        self.next_due.setDisplayFormat(DATETIME_FORMAT)
        if mode != "done":
            form.addRow(tr("Subject"), self.subject)
        if mode == "visit":
            form.addRow(tr("Check-in time"), self.at)
            form.addRow(tr("Place"), self.place)
        form.addRow(tr("Outcome"), self.outcome)
        form.addRow(tr("Next step"), self.next_step)
        form.addRow(tr("Next step due"), self.next_due)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        for which, text in ((QDialogButtonBox.StandardButton.Ok, "OK"),
                            (QDialogButtonBox.StandardButton.Cancel, "Cancel")):
            buttons.button(which).setText(tr(text))
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.setMinimumWidth(460)
        self.outcome.setFocus()

    def values(self) -> dict[str, Any]:
        return {"subject": self.subject.text(), "outcome": self.outcome.text(),
                "next_step": self.next_step.text(),
                "next_due": _aware(self.next_due.dateTime().toPython()),
                "at": _aware(self.at.dateTime().toPython()) if self.mode == "visit" else None,
                "place": self.place.text()}

    def _submit(self) -> None:
        try:
            values = self.values()
        except ValidationError as exc:  # a time the clocks skip in the user's zone
            self.fail(self.ctx.error_text(exc))
            return
        self.submitted.emit(values)

    def fail(self, text: str) -> None:
        """Keep the dialog open with what was typed, and say what is wrong."""
        self.error.setText(text)
        self.error.show()


class AgendaView(QGroupBox):
    record_requested = Signal(str, str)  # entity, id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("agenda")
        self.setProperty("today_slot", "due")
        self.agenda = Agenda()
        self.zone = viewer_zone()
        self.dialog: OutcomeDialog | None = None
        self.loaded_once = False
        self.tree = AgendaTree()
        self.tree.setObjectName("agenda_tree")
        self.tree.setColumnCount(5)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setDragEnabled(True)
        self.tree.setAcceptDrops(True)
        self.tree.setDropIndicatorShown(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.key_action.connect(self.act)
        self.tree.dropped.connect(self.move_to_group)
        self.tree.itemActivated.connect(lambda *_: self.act("open"))
        self.tree.currentItemChanged.connect(lambda *_: self._enable())
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.setSpacing(6)
        for name, icon_name in (("done", "done"), ("call", "call"), ("visit", "visit"),
                                ("later", "later"), ("open", "open"), ("dial", "call")):
            b = QPushButton(icon(icon_name), "")
            b.setObjectName(f"agenda_{name}")
            b.clicked.connect(lambda _c=False, n=name: self.act(n))
            self.buttons[name] = b
            row.addWidget(b)
        row.addStretch(1)
        self.empty = QLabel()
        self.empty.setObjectName("agenda_empty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; padding: 8px;")
        self.empty.hide()
        lay = QVBoxLayout(self)
        lay.setSpacing(6)
        lay.addLayout(row)
        lay.addWidget(self.empty)
        lay.addWidget(self.tree, 1)
        self.setMinimumHeight(320)
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(self._texts)
        self._texts()

    def _texts(self) -> None:
        tr = self.ctx.tr
        self.setTitle(tr("Agenda"))
        self.tree.setHeaderLabels([tr("Time"), tr("What"), tr("Account"), tr("Contact"),
                                   tr("Phone")])
        texts = {"done": ("Done…", "Mark done with its outcome (D)"),
                 "call": ("Log call…", "Log a call with its outcome and next step (C)"),
                 "visit": ("Log visit…", "Log a visit with check-in, outcome and next step (V)"),
                 "later": ("+1 day", "Move to the same time tomorrow (+), or drag onto Today "
                                     "or Upcoming"),
                 "open": ("Open", "Open the record (Enter)"),
                 "dial": ("Dial", "Call the phone number with the system's phone app")}
        for name, (text, tip) in texts.items():
            self.buttons[name].setText(tr(text))
            self.buttons[name].setToolTip(tr(tip))
        self.empty.setText(tr("Nothing on your agenda. Plan a call or a visit with Quick add "
                              "(Ctrl+K)."))
        self.set_agenda(self.agenda)

    # ------------------------------------------------------------ loading
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded_once:
            self.refresh()

    def refresh(self) -> None:
        self.loaded_once = True
        zone = self.zone = viewer_zone()

        def op(store: Store) -> Agenda:
            return load_agenda(store, dt.datetime.now(dt.UTC), zone, store.user)

        self.ctx.run(op, on_done=self.set_agenda)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.loaded_once and touches(changes, WATCHED):
            self.refresh()

    def set_agenda(self, agenda: Agenda) -> None:
        keep = self.current()
        self.agenda = agenda
        tr = self.ctx.tr
        tree = self.tree
        tree.clear()
        select: QTreeWidgetItem | None = None
        for group in GROUPS:
            items = agenda.group(group)
            head = QTreeWidgetItem([tr(TITLES[group], n=len(items))])
            head.setData(0, ROLE, group)
            head.setFirstColumnSpanned(True)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setForeground(0, Qt.GlobalColor.black)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDropEnabled)
            tree.addTopLevelItem(head)
            head.setFirstColumnSpanned(True)
            for it in items:
                kind = self.ctx.translator.choice(it.kind)
                row = QTreeWidgetItem([when_text(it, self.zone), f"{kind} · {it.subject}",
                                       it.account, it.contact,
                                       pretty_phone(it.phone) if it.phone else ""])
                row.setData(0, ROLE, it)
                row.setIcon(1, icon(it.kind if it.kind in ("call", "visit", "task", "note")
                                    else "task"))
                row.setToolTip(1, it.subject)
                row.setToolTip(2, it.account)
                if group == "overdue":
                    row.setForeground(0, Qt.GlobalColor.darkRed)
                row.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                             | Qt.ItemFlag.ItemIsDragEnabled)
                head.addChild(row)
                if keep is not None and it.id == keep.id:
                    select = row
            head.setExpanded(True)
        self.empty.setVisible(not agenda.items())
        if select is None:
            select = next((row for row in self._rows()), None)
        if select is not None:
            tree.setCurrentItem(select)
        self._enable()

    def current(self) -> AgendaItem | None:
        item = self.tree.currentItem()
        data = item.data(0, ROLE) if item is not None else None
        return data if isinstance(data, AgendaItem) else None

    def _rows(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            if head is not None:
                out += [c for j in range(head.childCount()) if (c := head.child(j)) is not None]
        return out

    def select(self, activity_id: str) -> bool:
        for row in self._rows():
            data = row.data(0, ROLE)
            if isinstance(data, AgendaItem) and data.id == activity_id:
                self.tree.setCurrentItem(row)
                return True
        return False

    def _enable(self) -> None:
        cur = self.current()
        for name, b in self.buttons.items():
            b.setEnabled(cur is not None and (name != "dial" or bool(cur and cur.phone)))

    # ------------------------------------------------------------ actions
    def act(self, name: str) -> None:
        """Run one action on the selected row (the buttons, keys and tests come here)."""
        cur = self.current()
        tr = self.ctx.tr
        win = self.window()
        say = getattr(win, "show_message", None)
        if cur is None:
            if callable(say):
                say(tr("Select a row of the agenda first."))
            return
        if name == "open":
            self.record_requested.emit("activity", cur.id)
        elif name == "dial":
            url = tel_url(cur.phone)
            if url is None:
                if callable(say):
                    say(tr("No phone number for this row."))
                return
            QDesktopServices.openUrl(QUrl(url))
        elif name == "later":
            self.ctx.run(lambda store: reschedule(store, cur.id, 1),
                         on_done=lambda rec: self._said("Moved to {when}: {subject}", rec))
        elif name in ("done", "call", "visit"):
            self.open_dialog(name, cur)

    def move_to_group(self, activity_id: str, group: str) -> None:
        zone = self.zone
        self.ctx.run(lambda store: reschedule_to_group(store, activity_id, group,
                                                       dt.datetime.now(dt.UTC), zone),
                     on_done=lambda rec: self._said("Moved to {when}: {subject}", rec))

    def _said(self, text: str, rec: dict[str, Any]) -> None:
        due = parse_iso(rec.get("due_at"))
        when = due.astimezone(self.zone).strftime("%m-%d %H:%M") if due else ""
        say = getattr(self.window(), "show_message", None)
        if callable(say):
            say(self.ctx.tr(text, when=when, subject=rec.get("subject") or ""))

    def open_dialog(self, mode: str, cur: AgendaItem) -> OutcomeDialog:
        dlg = OutcomeDialog(self.ctx, mode, cur.subject if mode == "done" else "", self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.submitted.connect(lambda values: self._submit(dlg, mode, cur, values))
        self.dialog = dlg
        win = self.window()
        if hasattr(win, "dialog"):
            win.dialog = dlg
        dlg.open()
        return dlg

    def _submit(self, dlg: OutcomeDialog, mode: str, cur: AgendaItem,
                values: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC)
        lang = self.ctx.lang

        def op(store: Store) -> list[str]:
            if mode == "done":
                return complete(store, cur.id, values["outcome"], now, values["next_step"],
                                values["next_due"])
            return log_contact(store, mode, cur.account_id, values["outcome"], now,
                               subject=values["subject"], contact_id=cur.contact_id,
                               deal_id=cur.deal_id, next_step=values["next_step"],
                               next_due=values["next_due"], at=values["at"],
                               place=values["place"], lang=lang)

        def done(_ids: list[str]) -> None:
            dlg.accept()
            text = "Marked done: {subject}" if mode == "done" else "Logged: {subject}"
            say = getattr(self.window(), "show_message", None)
            if callable(say):
                say(self.ctx.tr(text, subject=values["subject"] or cur.subject))

        self.ctx.run(op, on_done=done, on_error=lambda e: dlg.fail(self.ctx.error_text(e)))
