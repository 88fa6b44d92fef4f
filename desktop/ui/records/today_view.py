"""Today: what is due or overdue, what was done today, deals expected to close soon.

Other views (e.g. a follow-up agenda) can add themselves with `add_section(widget)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.followup.agenda import day_start
from desktop.schema import to_utc_iso
from desktop.timezones import now_in
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import amount, local_time, viewer_zone
from desktop.ui.common.widgets import ElidingList
from desktop.ui.records.lazy_model import attach_account_names

if TYPE_CHECKING:
    from desktop.store import Changes, Store

TODAY_LIMIT = 200
CLOSING_DAYS = 14
WATCHED = ("activity", "deal", "account")


def day_bounds(now: dt.datetime | None = None,
               zone: dt.tzinfo | None = None) -> tuple[str, str]:
    """Start and end of the user's day (in `zone`, default the user's setting), as UTC
    ISO strings; a day of 23 or 25 hours when the clocks change."""
    tz = zone or viewer_zone()
    today = now_in(tz, now).date()
    return (to_utc_iso(day_start(today, tz)),
            to_utc_iso(day_start(today + dt.timedelta(days=1), tz)))


def load_today(now: dt.datetime | None = None,
               zone: dt.tzinfo | None = None) -> Callable[[Store], dict[str, Any]]:
    tz = zone or viewer_zone()
    start, end = day_bounds(now, tz)
    today = now_in(tz, now).date()
    until = (today + dt.timedelta(days=CLOSING_DAYS)).isoformat()

    def op(store: Store) -> dict[str, Any]:
        acts = store.repo("activity")
        due = acts.page(limit=TODAY_LIMIT,
                        where="done_at IS NULL AND due_at IS NOT NULL AND due_at < ?",
                        params=(end,))
        done = acts.page(limit=TODAY_LIMIT, where="done_at >= ? AND done_at < ?",
                         params=(start, end))
        deals = store.repo("deal").page(
            limit=TODAY_LIMIT, where="close_date >= ? AND close_date <= ? AND "
                                     "(stage IS NULL OR stage NOT IN ('won', 'lost'))",
            params=(today.isoformat(), until))
        due.sort(key=lambda r: str(r.get("due_at")))
        done.sort(key=lambda r: str(r.get("done_at")), reverse=True)
        deals.sort(key=lambda r: str(r.get("close_date")))
        for rows in (due, done, deals):
            attach_account_names(store, rows)
        return {"due": due, "done": done, "closing": deals, "start": start}
    return op


class TodayView(QWidget):
    record_requested = Signal(str, dict)  # entity, record

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("today")
        tr = ctx.tr
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.due = self._list("today_due")
        self.done = self._list("today_done")
        self.closing = self._list("today_closing")
        self.due.itemActivated.connect(lambda it: self._open("activity", it))
        self.done.itemActivated.connect(lambda it: self._open("activity", it))
        self.closing.itemActivated.connect(lambda it: self._open("deal", it))
        self.empty = QLabel(tr("Nothing is due today.\nLog a visit or a call in Activities "
                               "(Ctrl+5, then Ctrl+N) and give it a due time to see it here."))
        self.empty.setObjectName("empty_today")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; font-size: 15px; padding: 30px;")
        self.empty.hide()
        cols = QHBoxLayout()
        self.due_box = self._box(tr("Due and overdue"), self.due)
        self.cols = cols
        cols.addWidget(self.due_box, 2)
        right = QVBoxLayout()
        right.addWidget(self._box(tr("Done today"), self.done))
        right.addWidget(self._box(tr("Deals expected to close in 14 days"), self.closing))
        cols.addLayout(right, 1)
        self.sections = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.empty)
        layout.addLayout(cols, 1)
        layout.addLayout(self.sections)
        self.loaded_once = False
        self.agenda: QWidget | None = None
        ctx.operation_did_execute.connect(self._on_changes)

    def add_section(self, widget: QWidget) -> None:
        """Add another view under the built-in lists. A widget whose `today_slot`
        property is "due" (the follow-up agenda) takes the place of the due list."""
        if widget.property("today_slot") == "due":
            self.due_box.hide()
            self.cols.insertWidget(0, widget, 2)
            self.agenda = widget
            return
        self.sections.addWidget(widget)

    def _list(self, name: str) -> QListWidget:
        w = ElidingList()
        w.setObjectName(name)
        w.setTextElideMode(Qt.TextElideMode.ElideRight)
        return w

    def _box(self, title: str, lst: QListWidget) -> QGroupBox:
        box = QGroupBox(title)
        QVBoxLayout(box).addWidget(lst)
        return box

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded_once:
            self.refresh()

    def refresh(self) -> None:
        self.loaded_once = True
        self.ctx.run(load_today(), on_done=self._loaded)

    def _loaded(self, data: dict[str, Any]) -> None:
        tr = self.ctx.translator
        start = str(data["start"])
        today = now_in(viewer_zone()).strftime("%Y-%m-%d")
        self.heading.setText(self.ctx.tr("Today, {date}", date=today))
        self._fill(self.due, "activity", [
            (a, ("⚠ " if str(a.get("due_at")) < start else "")
             + f"{local_time(a.get('due_at'))}  {tr.choice(a.get('kind'))} · {a.get('subject')}"
             + (f" — {a['_account']}" if a.get("_account") else "")) for a in data["due"]])
        self._fill(self.done, "activity", [
            (a, f"{local_time(a.get('done_at'))}  {tr.choice(a.get('kind'))} · {a.get('subject')}")
            for a in data["done"]])
        self._fill(self.closing, "deal", [
            (d, f"{d.get('close_date')}  {d.get('title')} · "
                f"{amount(d.get('amount'), d.get('currency'))}"
                + (f" — {d['_account']}" if d.get("_account") else ""))
            for d in data["closing"]])
        self.empty.setVisible(self.agenda is None
                              and not (data["due"] or data["done"] or data["closing"]))

    def _fill(self, lst: QListWidget, _entity: str,
              items: list[tuple[dict[str, Any], str]]) -> None:
        lst.clear()
        for rec, text in items:
            it = QListWidgetItem(text)
            it.setToolTip(text)
            it.setData(Qt.ItemDataRole.UserRole, rec)
            lst.addItem(it)

    def _open(self, entity: str, item: QListWidgetItem) -> None:
        rec = item.data(Qt.ItemDataRole.UserRole)
        if rec:
            self.record_requested.emit(entity, rec)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.loaded_once and touches(changes, WATCHED):
            self.refresh()
