"""The follow-up part of Today: overdue and due-today tasks, follow-up warnings, stalled
deals, and the week heat map of missed follow-ups. Self-contained: it loads its data on
the store worker and refreshes when records or reminders change.

Mount it with ``today_view.add_section(FollowupPanel(ctx))``; connect
``record_requested(entity, id)`` to the window's record opener and ``counts_changed``
to the tray tooltip (see ``desktop.followup.today.tooltip``).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.followup.service import scheduler_for
from desktop.followup.today import TodayData, stalled_text, today_data, tooltip
from desktop.store import Changes, Store
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.followup.heatmap import FollowupHeatMap

register_catalog({
    "Overdue ({n})": "逾期（{n}）",
    "Due today ({n})": "今日到期（{n}）",
    "Follow-up warnings ({n})": "跟进预警（{n}）",
    "Stalled deals ({n})": "停滞商机（{n}）",
    "Missed follow-ups this week": "本周错过的跟进",
    "Follow-up": "跟进",
})

WATCHED = ("activity", "account", "deal", "followup_reminder")
ROLE = Qt.ItemDataRole.UserRole


class FollowupPanel(QWidget):
    record_requested = Signal(str, str)  # entity, record id
    counts_changed = Signal(dict)  # {"overdue", "due_today", "warnings", "stalled"}

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data = TodayData()
        self.lists = {name: QListWidget()
                      for name in ("overdue", "due_today", "warnings", "stalled")}
        self.boxes: dict[str, QGroupBox] = {}
        grid = QGridLayout()
        for i, (name, lst) in enumerate(self.lists.items()):
            box = QGroupBox()
            lay = QVBoxLayout(box)
            lay.addWidget(lst)
            lst.itemActivated.connect(self._open)
            self.boxes[name] = box
            grid.addWidget(box, i // 2, i % 2)
        self.heat_title = QLabel()
        self.heatmap = FollowupHeatMap()
        outer = QVBoxLayout(self)
        outer.addLayout(grid)
        outer.addWidget(self.heat_title)
        outer.addWidget(self.heatmap)
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(lambda: self.set_data(self.data))
        self.set_data(self.data)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        lang = self.ctx.lang
        self.ctx.run(lambda store: _load(store, lang), on_done=self.set_data)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.isVisible() and touches(changes, WATCHED):
            self.refresh()

    def set_data(self, data: TodayData) -> None:
        self.data = data
        tr = self.ctx.tr
        counts = data.counts
        titles = {"overdue": "Overdue ({n})", "due_today": "Due today ({n})",
                  "warnings": "Follow-up warnings ({n})", "stalled": "Stalled deals ({n})"}
        for name, box in self.boxes.items():
            box.setTitle(tr(titles[name], n=counts[name]))
        self._fill("overdue", [(f"{i.due_local}  {i.title}", "activity", i.record_id)
                               for i in data.overdue])
        self._fill("due_today", [(f"{i.due_local}  {i.title}", "activity", i.record_id)
                                 for i in data.due_today])
        self._fill("warnings", [(p.headline(self.ctx.lang, data.settings), p.entity,
                                 p.record_id)
                                for p in data.warnings])
        now = dt.datetime.now(dt.UTC)
        self._fill("stalled", [(stalled_text(p, now, self.ctx.lang), p.entity, p.record_id)
                               for p in data.stalled])
        self.lists["overdue"].setStyleSheet("color: #b3261e;")
        self.heat_title.setText(tr("Missed follow-ups this week"))
        self.heatmap.set_data(data.heatmap, data.heat_days or [""] * 7)
        self.setToolTip(tooltip(counts, self.ctx.lang))
        self.counts_changed.emit(counts)

    def _fill(self, name: str, rows: list[tuple[str, str, str]]) -> None:
        lst = self.lists[name]
        lst.clear()
        for text, entity, rid in rows:
            item = QListWidgetItem(text)
            item.setData(ROLE, (entity, rid))
            lst.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        entity, rid = item.data(ROLE)
        self.record_requested.emit(entity, rid)


def _load(store: Store, lang: str) -> TodayData:
    return today_data(scheduler_for(store, lang=lang))
