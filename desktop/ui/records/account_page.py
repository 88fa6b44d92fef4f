"""An account's page: its fields, its contacts, its deals and a timeline of activities."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import NotFoundError
from desktop.schema import ENTITIES
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import amount, display_value, local_time, pretty_phone
from desktop.ui.common.widgets import ElidingList

if TYPE_CHECKING:
    from desktop.store import Changes, Store

ACCOUNT_DETAIL_FIELDS = ("uscc", "industry", "region", "address", "lifecycle", "owner",
                         "tags", "phone")
TIMELINE_LIMIT = 500
RELATED = ("account", "contact", "deal", "activity")


def timeline_key(act: dict[str, Any]) -> str:
    return str(act.get("done_at") or act.get("due_at") or act.get("created_at") or "")


def load_account(account_id: str) -> Callable[[Store], dict[str, Any]]:
    """Worker op: the account with its contacts, deals and newest-first activities."""
    def op(store: Store) -> dict[str, Any]:
        account = store.repo("account").get(account_id)
        contacts = sorted(store.repo("contact").find(account_id=account_id),
                          key=lambda r: str(r.get("name") or ""))
        deals = sorted(store.repo("deal").find(account_id=account_id),
                       key=lambda r: str(r.get("title") or ""))
        acts = sorted(store.repo("activity").find(account_id=account_id),
                      key=timeline_key, reverse=True)[:TIMELINE_LIMIT]
        return {"account": account, "contacts": contacts, "deals": deals, "activities": acts}
    return op


class ElidedLabel(QLabel):
    """A one-line label that elides long text with "…" and shows it all as a tooltip."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self.full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 50)
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, width))


class AccountPage(QWidget):
    back_requested = Signal()
    edit_requested = Signal(dict)
    delete_requested = Signal(dict)
    new_requested = Signal(str, dict)  # entity, preset values
    record_requested = Signal(str, dict)  # entity, record (edit a contact/deal/activity)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("account_page")
        self.account_id: str | None = None
        self.data: dict[str, Any] = {}
        tr = ctx.tr

        self.back = QPushButton(tr("← Back"))
        self.back.clicked.connect(self.back_requested)
        self.title = ElidedLabel()
        self.title.setObjectName("account_title")
        self.title.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.edit = QPushButton(tr("Edit…"))
        self.edit.clicked.connect(lambda: self.edit_requested.emit(self.data.get("account", {})))
        self.delete = QPushButton(tr("Delete"))
        self.delete.clicked.connect(
            lambda: self.delete_requested.emit(self.data.get("account", {})))
        head = QHBoxLayout()
        head.addWidget(self.back)
        head.addWidget(self.title, 1)
        head.addWidget(self.edit)
        head.addWidget(self.delete)

        self.fields_box = QGroupBox(tr("Details"))
        self.fields_form = QFormLayout(self.fields_box)
        self.field_labels: dict[str, ElidedLabel] = {}
        ent = ENTITIES["account"]
        names = list(ACCOUNT_DETAIL_FIELDS) + [f.name for f in ent.custom_fields]
        for name in names:
            lab = ElidedLabel()
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.field_labels[name] = lab
            self.fields_form.addRow(ent.field(name).label(ctx.lang), lab)

        self.contacts = self._section_list("contacts")
        self.deals = self._section_list("deals")
        self.timeline = self._section_list("timeline")
        self.contacts.itemActivated.connect(lambda it: self._open("contact", it))
        self.deals.itemActivated.connect(lambda it: self._open("deal", it))
        self.timeline.itemActivated.connect(lambda it: self._open("activity", it))

        grid = QGridLayout()
        grid.addWidget(self.fields_box, 0, 0)
        grid.addWidget(self._section(tr("Contacts"), self.contacts, "contact",
                                     tr("Add contact")), 0, 1)
        grid.addWidget(self._section(tr("Deals"), self.deals, "deal", tr("Add deal")), 1, 0)
        grid.addWidget(self._section(tr("Timeline"), self.timeline, "activity",
                                     tr("Log activity")), 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.message = QLabel()
        self.message.setStyleSheet("color: #c62828;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.message)
        layout.addLayout(grid, 1)
        ctx.operation_did_execute.connect(self._on_changes)

    def _section_list(self, name: str) -> QListWidget:
        w = ElidingList()
        w.setObjectName(f"account_{name}")
        w.setTextElideMode(Qt.TextElideMode.ElideRight)
        w.setWordWrap(False)
        return w

    def _section(self, title: str, lst: QListWidget, entity: str, add_text: str) -> QGroupBox:
        box = QGroupBox(title)
        add = QPushButton(add_text)
        add.clicked.connect(
            lambda: self.new_requested.emit(entity, {"account_id": self.account_id}))
        lay = QVBoxLayout(box)
        lay.addWidget(lst, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(add)
        lay.addLayout(row)
        return box

    # ------------------------------------------------------------ loading
    def show_account(self, account_id: str) -> None:
        self.account_id = account_id
        self.reload()

    def reload(self) -> None:
        if self.account_id is None:
            return
        wanted = self.account_id
        self.ctx.run(load_account(wanted), on_done=lambda d: self._loaded(wanted, d),
                     on_error=lambda e: self._failed(wanted, e))

    def _failed(self, wanted: str, exc: BaseException) -> None:
        if wanted != self.account_id:
            return
        if isinstance(exc, NotFoundError):
            self.back_requested.emit()  # deleted meanwhile
            return
        self.message.setText(self.ctx.error_text(exc))
        self.message.show()

    def _loaded(self, wanted: str, data: dict[str, Any]) -> None:
        if wanted != self.account_id:
            return  # another account was opened meanwhile
        self.message.hide()
        self.data = data
        tr = self.ctx.translator
        acc = data["account"]
        self.title.set_full_text(str(acc.get("name") or ""))
        ent = ENTITIES["account"]
        for name, lab in self.field_labels.items():
            lab.set_full_text(display_value(ent.field(name), acc.get(name), tr) or "—")
        self._fill(self.contacts, [
            (c, " · ".join(p for p in (c.get("name"), c.get("title"),
                                       pretty_phone((c.get("phones") or [""])[0]),
                                       c.get("email")) if p))
            for c in data["contacts"]],
            self.ctx.tr("No contacts yet. Add the people you meet here."))
        self._fill(self.deals, [
            (d, " · ".join(p for p in (d.get("title"), tr.choice(d.get("stage")),
                                       amount(d.get("amount"), d.get("currency"))) if p))
            for d in data["deals"]], self.ctx.tr("No deals yet."))
        self._fill(self.timeline, [(a, self.timeline_text(a)) for a in data["activities"]],
                   self.ctx.tr("Nothing logged yet. Log calls, visits and notes here."))

    def timeline_text(self, act: dict[str, Any]) -> str:
        when = local_time(timeline_key(act))
        kind = self.ctx.translator.choice(act.get("kind"))
        done = "✓ " if act.get("done_at") else ""
        body = str(act.get("body") or "").replace("\n", " ")
        text = f"{when}  {done}{kind} · {act.get('subject') or ''}"
        return f"{text} — {body}" if body else text

    def _fill(self, lst: QListWidget, items: list[tuple[dict[str, Any], str]], empty: str) -> None:
        lst.clear()
        for rec, text in items:
            it = QListWidgetItem(text)
            it.setData(Qt.ItemDataRole.UserRole, rec)
            it.setToolTip(text)
            lst.addItem(it)
        if not items:
            it = QListWidgetItem(empty)
            it.setFlags(Qt.ItemFlag.NoItemFlags)
            lst.addItem(it)

    def _open(self, entity: str, item: QListWidgetItem) -> None:
        rec = item.data(Qt.ItemDataRole.UserRole)
        if rec:
            self.record_requested.emit(entity, rec)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.account_id and self.isVisible() and touches(changes, RELATED):
            self.reload()
