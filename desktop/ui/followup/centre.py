"""The in-app notification centre: every reminder, in every state, because the OS may
suppress notifications. Open, snooze or mark done from here; opening marks it acted on,
showing the centre marks delivered reminders seen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.followup.scheduler import PendingReminder
from desktop.followup.service import scheduler_for
from desktop.followup.settings import FollowupSettings
from desktop.store import Changes, Store
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import local_time
from desktop.ui.common.i18n import register_catalog

register_catalog({
    "Reminder": "提醒", "When": "时间", "State": "状态", "Recipient": "接收人",
    "Open": "打开", "Snooze 1 h": "稍后提醒（1 小时）", "Mark done": "标记完成",
    "scheduled": "已计划", "delivered": "已送达", "seen": "已查看", "acted": "已处理",
    "snoozed": "已推迟", "Notifications": "通知中心",
})

ROLE = Qt.ItemDataRole.UserRole


class NotificationCentre(QWidget):
    record_requested = Signal(str, str)  # entity, record id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.items: list[PendingReminder] = []
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemActivated.connect(lambda *_: self.open_selected())
        self.open_btn, self.snooze_btn, self.done_btn = QPushButton(), QPushButton(), QPushButton()
        self.open_btn.clicked.connect(self.open_selected)
        self.snooze_btn.clicked.connect(lambda: self._act("snooze"))
        self.done_btn.clicked.connect(lambda: self._act("done"))
        buttons = QHBoxLayout()
        for b in (self.open_btn, self.snooze_btn, self.done_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tree)
        lay.addLayout(buttons)
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(lambda: self.set_items(self.items))
        self.set_items([])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh(mark_seen=True)

    def refresh(self, mark_seen: bool = False) -> None:
        lang = self.ctx.lang

        def load(store: Store) -> tuple[list[PendingReminder], FollowupSettings]:
            sched = scheduler_for(store, lang=lang)
            if mark_seen:
                seen = [p.key for p in sched.all_reminders() if p.state == "delivered"]
                if seen:
                    sched.mark_seen(seen)
            return sched.all_reminders(), sched.settings  # settings: the golden lines' hours

        self.ctx.run(load, on_done=lambda got: self.set_items(*got), initiator=self)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and self.isVisible() and (
                touches(changes, ("followup_reminder", "activity"))):
            self.refresh()

    def set_items(self, items: list[PendingReminder],
                  rule: FollowupSettings | None = None) -> None:
        tr = self.ctx.tr
        self.items = items
        self.tree.setHeaderLabels([tr("Reminder"), tr("When"), tr("State"), tr("Recipient")])
        self.open_btn.setText(tr("Open"))
        self.snooze_btn.setText(tr("Snooze 1 h"))
        self.done_btn.setText(tr("Mark done"))
        self.tree.clear()
        for p in items:
            row = QTreeWidgetItem([p.headline(self.ctx.lang, rule),
                                   local_time(p.fire_at),
                                   tr(p.state), p.owner or ""])
            row.setData(0, ROLE, p.key)
            if p.urgent:
                row.setForeground(0, Qt.GlobalColor.darkRed)
            self.tree.addTopLevelItem(row)
        for col in range(4):
            self.tree.resizeColumnToContents(col)

    def _selected(self) -> PendingReminder | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        key = item.data(0, ROLE)
        return next((p for p in self.items if p.key == key), None)

    def open_selected(self) -> None:
        p = self._selected()
        if p is None:
            return
        self.ctx.run(lambda store: scheduler_for(store).mark_acted(p.key), initiator=self,
                     on_done=lambda _r: self.refresh())
        self.record_requested.emit(p.entity, p.record_id)

    def _act(self, action: str) -> None:
        p = self._selected()
        if p is None:
            return

        def op(store: Store) -> None:
            sched = scheduler_for(store)
            if action == "snooze":
                sched.snooze(p.key, 60)
            else:
                sched.mark_done(p.key)

        self.ctx.run(op, on_done=lambda _r: self.refresh(), initiator=self)
