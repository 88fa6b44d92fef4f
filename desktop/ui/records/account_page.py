"""An account's page: a head (back, name, edit, delete) and tabs — Overview (its fields and
a summary), Contacts, Deals, Activities, Contracts, Files — each a table with actions on
the selected row: open it (Enter or double-click), and per tab: call and email a contact
(tel:/mailto: links the system opens), mark an activity done, add a record to the
account. The data is desktop.records_summary.account_bundle, loaded on the store worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import NotFoundError
from desktop.records_summary import account_bundle, mailto_url, tel_url
from desktop.schema import ENTITIES, EXTERNAL_IDS, to_utc_iso
from desktop.store.visibility import unreadable_in
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import amount, display_value, local_time, pretty_phone
from desktop.ui.common.icons import icon
from desktop.visibility import HIDDEN

if TYPE_CHECKING:
    from desktop.store import Changes, Store


ACCOUNT_DETAIL_FIELDS = ("uscc", "industry", "region", "address", "lifecycle", "owner",
                         "tags", "phone", EXTERNAL_IDS)
TIMELINE_LIMIT = 500
RELATED = ("account", "contact", "deal", "activity", "contract", "attachment")
ROLE = Qt.ItemDataRole.UserRole


def timeline_key(act: dict[str, Any]) -> str:
    return str(act.get("done_at") or act.get("due_at") or act.get("created_at") or "")


def load_account(account_id: str) -> Callable[[Store], dict[str, Any]]:
    """Worker op: the account with everything on its tabs."""
    def op(store: Store) -> dict[str, Any]:
        return account_bundle(store, account_id)
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


class RecordTable(QTableWidget):
    """A tab's table: one record per row (in ROLE of column 0), an empty line when none."""

    def __init__(self, name: str, entity: str) -> None:
        super().__init__()
        self.entity = entity
        self.setObjectName(f"account_{name}")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        self.horizontalHeader().setHighlightSections(False)
        self.records: list[dict[str, Any]] = []

    def count(self) -> int:
        return len(self.records)

    def fill(self, headers: list[str], rows: list[tuple[dict[str, Any], list[str]]],
             empty: str, stretch: int = 0) -> None:
        self.clear()
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.records = [rec for rec, _cells in rows]
        self.setRowCount(max(1, len(rows)))
        head = self.horizontalHeader()
        for col in range(len(headers)):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch if col == stretch
                                      else QHeaderView.ResizeMode.ResizeToContents)
        if not rows:
            item = QTableWidgetItem(empty)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.setItem(0, 0, item)
            self.setSpan(0, 0, 1, len(headers))
            return
        for r, (rec, cells) in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c == 0:
                    item.setData(ROLE, rec)
                self.setItem(r, c, item)
        self.selectRow(0)

    def current(self) -> dict[str, Any] | None:
        row = self.currentRow()
        return self.records[row] if 0 <= row < len(self.records) else None


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
        self.last_action: tuple[str, str, Any] | None = None
        self.last_url = ""
        tr = ctx.tr

        self.back = QPushButton(tr("← Back"))
        self.back.clicked.connect(self.back_requested)
        self.title = ElidedLabel()
        self.title.setObjectName("account_title")
        self.title.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.edit = QPushButton(icon("edit"), tr("Edit…"))
        self.edit.clicked.connect(lambda: self.edit_requested.emit(self.data.get("account", {})))
        self.delete = QPushButton(icon("delete"), tr("Delete"))
        self.delete.clicked.connect(
            lambda: self.delete_requested.emit(self.data.get("account", {})))
        head = QHBoxLayout()
        head.addWidget(self.back)
        head.addWidget(self.title, 1)
        head.addWidget(self.edit)
        head.addWidget(self.delete)

        # Overview: the fields, and a summary beside them
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
        self.summary_box = QGroupBox(tr("Summary"))
        self.summary_form = QFormLayout(self.summary_box)
        self.summary: dict[str, QLabel] = {}
        for key, label in (("open_deals", "Open deals"), ("next_due", "Next due"),
                           ("last_contact", "Last contact")):
            value = QLabel("—")
            value.setObjectName(f"summary_{key}")
            self.summary[key] = value
            self.summary_form.addRow(tr(label), value)
        overview = QWidget()
        ov = QHBoxLayout(overview)
        ov.addWidget(self.fields_box, 3)
        ov.addWidget(self.summary_box, 2, Qt.AlignmentFlag.AlignTop)

        self.contacts = RecordTable("contacts", "contact")
        self.deals = RecordTable("deals", "deal")
        self.timeline = RecordTable("timeline", "activity")
        self.contracts = RecordTable("contracts", "contract")
        self.files = RecordTable("files", "attachment")
        self.tables = {"contacts": self.contacts, "deals": self.deals,
                       "activities": self.timeline, "contracts": self.contracts,
                       "files": self.files}
        self.buttons: dict[str, QPushButton] = {}
        self.tabs = QTabWidget()
        self.tabs.setObjectName("account_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(overview, icon("account"), tr("Overview"))
        tab_actions = {
            "contacts": [("add_contact", "add", "Add contact"), ("open", "open", "Open"),
                         ("dial", "call", "Dial"), ("email", "email", "Email")],
            "deals": [("add_deal", "add", "Add deal"), ("open", "open", "Open")],
            "activities": [("log", "add", "Log activity"), ("open", "open", "Open"),
                           ("done", "done", "Mark done")],
            "contracts": [("open", "open", "Open")],
            "files": [("open", "open", "Open")]}
        tab_icons = {"contacts": "contact", "deals": "deal", "activities": "activity",
                     "contracts": "contract", "files": "file"}
        for name, table in self.tables.items():
            page = QWidget()
            lay = QVBoxLayout(page)
            row = QHBoxLayout()
            row.setSpacing(6)
            for action, icon_name, text in tab_actions[name]:
                b = QPushButton(icon(icon_name), tr(text))
                b.setObjectName(f"{name}_{action}")
                b.clicked.connect(lambda _c=False, n=name, a=action: self.act(n, a))
                self.buttons[f"{name}_{action}"] = b
                row.addWidget(b)
            row.addStretch(1)
            lay.addLayout(row)
            lay.addWidget(table, 1)
            table.itemActivated.connect(lambda _it, n=name: self.act(n, "open"))
            table.itemSelectionChanged.connect(self._enable)
            self.tabs.addTab(page, icon(tab_icons[name]), "")
        self._tab_titles()

        self.message = QLabel()
        self.message.setStyleSheet("color: #c62828;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        ctx.operation_did_execute.connect(self._on_changes)

    def _tab_titles(self) -> None:
        tr = self.ctx.tr
        for i, (name, title) in enumerate((("contacts", "Contacts ({n})"),
                                           ("deals", "Deals ({n})"),
                                           ("activities", "Activities ({n})"),
                                           ("contracts", "Contracts ({n})"),
                                           ("files", "Files ({n})")), start=1):
            self.tabs.setTabText(i, tr(title, n=self.tables[name].count()))

    def show_tab(self, name: str) -> None:
        order = ["overview", *self.tables]
        self.tabs.setCurrentIndex(order.index(name))

    # ------------------------------------------------------------ loading
    def show_account(self, account_id: str) -> None:
        if account_id != self.account_id:
            self.tabs.setCurrentIndex(0)
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
        t, tr = self.ctx.translator, self.ctx.tr
        acc = data["account"]
        self.title.set_full_text(str(acc.get("name") or ""))
        ent = ENTITIES["account"]
        hidden = {n for n, how in unreadable_in(self.ctx.profile, "account").items()
                  if how == HIDDEN}  # fields this user may not read: not there at all
        for name, lab in self.field_labels.items():
            lab.set_full_text(display_value(ent.field(name), acc.get(name), t) or "—")
            # ids in other systems: a row only for an account that has some
            self.fields_form.setRowVisible(lab, name not in hidden and (
                name != EXTERNAL_IDS or bool(acc.get(name))))
        done = [a for a in data["activities"] if a.get("done_at")]
        self.summary["open_deals"].setText(str(data["open_deals"]))
        self.summary["next_due"].setText(local_time(data["next_due"]) or "—")
        self.summary["last_contact"].setText(
            (local_time(done[0]["done_at"]) + "  " + str(done[0].get("subject") or ""))
            if done else "—")
        self.contacts.fill(
            [tr("Name"), tr("Title"), tr("Phone"), tr("Email"), tr("WeChat")],
            [(c, [str(c.get("name") or ""), str(c.get("title") or ""),
                  pretty_phone((c.get("phones") or [""])[0]) if c.get("phones") else "",
                  str(c.get("email") or ""), str(c.get("wechat") or "")])
             for c in data["contacts"]],
            tr("No contacts yet. Add the people you meet here."))
        self.deals.fill(
            [tr("Deal"), tr("Stage"), tr("Amount"), tr("Expected close"), tr("Owner")],
            [(d, [str(d.get("title") or ""), t.choice(d.get("stage")),
                  amount(d.get("amount"), d.get("currency")), str(d.get("close_date") or ""),
                  str(d.get("owner") or "")]) for d in data["deals"]],
            tr("No deals yet."))
        self.timeline.fill(
            [tr("When"), tr("Kind"), tr("Subject"), tr("Outcome"), tr("Done")],
            [(a, [local_time(timeline_key(a)), t.choice(a.get("kind")),
                  str(a.get("subject") or ""), str(a.get("outcome") or ""),
                  "✓" if a.get("done_at") else ""]) for a in data["activities"]],
            tr("Nothing logged yet. Log calls, visits and notes here."), stretch=2)
        self.contracts.fill(
            [tr("Contract No."), tr("Party A"), tr("Party B"), tr("Amount"), tr("Signed")],
            [(c, [str(c.get("contract_no") or ""), str(c.get("party_a_name") or ""),
                  str(c.get("party_b_name") or ""), amount(c.get("amount"), c.get("currency")),
                  str(c.get("sign_date") or "")]) for c in data["contracts"]],
            tr("No contracts yet. Capture a contract (Capture menu) to see it here."), stretch=1)
        self.files.fill(
            [tr("File name"), tr("Type"), tr("Size")],
            [(f, [str(f.get("file_name") or ""), str(f.get("mime_type") or ""),
                  f"{int(f.get('size') or 0) / 1024:,.0f} KB" if f.get("size") else ""])
             for f in data["files"]], tr("No files yet."))
        self._tab_titles()
        self._enable()

    def _enable(self) -> None:
        for key, b in self.buttons.items():
            name, action = key.split("_", 1)
            if action in ("add_contact", "add_deal", "log"):
                continue
            rec = self.tables[name].current()
            ok = rec is not None
            if action == "dial":
                ok = ok and bool(rec and rec.get("phones"))
            elif action == "email":
                ok = ok and bool(rec and rec.get("email"))
            elif action == "done":
                ok = ok and not (rec and rec.get("done_at"))
            b.setEnabled(ok)

    # ------------------------------------------------------------ actions
    def act(self, tab: str, action: str) -> None:
        """One action of a tab on its selected row (the buttons and tests come here)."""
        table = self.tables[tab]
        preset = {"account_id": self.account_id}
        if action == "add_contact":
            self.new_requested.emit("contact", preset)
            return
        if action == "add_deal":
            self.new_requested.emit("deal", preset)
            return
        if action == "log":
            self.new_requested.emit("activity", preset)
            return
        rec = table.current()
        if rec is None:
            return
        if action == "open":
            self.record_requested.emit(table.entity, rec)
        elif action == "dial":
            url = tel_url((rec.get("phones") or [""])[0])
            self._open_url(url, "No phone number.")
        elif action == "email":
            self._open_url(mailto_url(str(rec.get("email") or "")), "No email address.")
        elif action == "done":
            if rec.get("done_at"):
                self._say("This activity is already done.")
                return
            now = to_utc_iso(dt.datetime.now(dt.UTC))
            rid = rec["id"]
            self.ctx.run(lambda store: store.repo("activity").update(rid, {"done_at": now}))
        self.last_action = (tab, action, rec.get("id"))

    def _open_url(self, url: str | None, missing: str) -> None:
        if url is None:
            self._say(missing)
            return
        self.last_url = url
        QDesktopServices.openUrl(QUrl(url))

    def _say(self, text: str) -> None:
        say = getattr(self.window(), "show_message", None)
        if callable(say):
            say(self.ctx.tr(text))

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.account_id and self.isVisible() and touches(changes, RELATED):
            self.reload()
