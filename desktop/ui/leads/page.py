"""The Leads tab: a list (mine, the pool, all) and the actions on the selected lead."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import ValidationError
from desktop.schema import ENTITIES, LEAD_OUTCOMES
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import local_time
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.window import MainWindow

CONTEXT = "leads"
register_catalog({
    "Leads": "线索", "My leads": "我的线索", "The pool": "公海", "All leads": "全部线索",
    "Add lead…": "新建线索…", "New lead": "新建线索", "Claim": "领取", "Give back": "退回公海",
    "Log contact": "记录联系", "Convert": "转化", "Save": "保存", "Cancel": "取消",
    "Claim asked: the server decides at the next sync.": "已申请领取：下次同步时由服务器决定。",
    "Returned to the pool at the next sync.": "下次同步时退回公海。",
    "Converted: account, contact and deal made (existing records linked).":
    "已转化：已建立客户、联系人和商机（已有记录直接关联）。",
    "Your claim on {name} was not granted: {reason}": "您对“{name}”的领取未成功：{reason}",
    "Select a lead first.": "请先选择一条线索。",
    "(hidden until claimed)": "（领取后可见）",
    "Escalation": "升级提醒",
    "New": "新线索", "Assigned": "已分配", "Contacted": "已联系", "Qualified": "合格",
    "Disqualified": "不合格", "Converted": "已转化", "Pool": "公海",
    "Reached": "已接通", "No answer": "无人接听", "Busy": "占线", "Wrong number": "号码错误",
    "Not interested": "无意向", "reminded": "已提醒", "retry 1": "待第 1 次重拨",
    "retry 2": "待第 2 次重拨", "retry 3": "待第 3 次重拨",
    "Assignment rules…": "分配规则…", "Assignment rules": "线索分配规则", "Add rule": "添加规则",
    "Remove rule": "删除规则",
    "Rules are tried from the top; the first that fits a lead decides. Lists: separate "
    "with commas. They reach the server at the next sync.":
    "规则自上而下匹配，第一条符合的规则决定分配。列表项用逗号分隔。下次同步时送达服务器。",
}, context=CONTEXT)
register_catalog({"Leads": "线索"})
# The reasons server.leads gives for a refused claim, in Chinese (by pattern: they name people)
ZH_REASONS = (
    (re.compile(r"^(.+) has this lead: their claim reached the server first\.$"),
     "{0} 已领取此线索：其申请先到达服务器。"),
    (re.compile(r"^This lead no longer exists\.$"), "此线索已不存在。"),
    (re.compile(r"^Only the lead's owner can return it to the pool\.$"),
     "只有负责人可以将线索退回公海。"),
    (re.compile(r"^This lead is not in the pool\.$"), "此线索不在公海中。"),
    (re.compile(r"^You already have (\d+) open leads, your limit\.$"),
     "您已有 {0} 条在跟线索，已达上限。"),
    (re.compile(r"^You have claimed (\d+) leads today, the daily limit\.$"),
     "您今天已领取 {0} 条线索，已达每日上限。"),
    # desktop.leads.service.save_rules
    (re.compile(r"^Every rule needs a name\.$"), "每条规则都需要名称。"),
    (re.compile(r"^Two rules have the same name\.$"), "有两条规则同名。"),
    (re.compile(r"^Rule '(.*)' names no team and no reps\.$"),
     "规则“{0}”既没有指定团队，也没有指定销售。"),
)
COLUMNS = ("name", "company", "status", "owner", "phone", "assigned_at", "last_outcome",
           "escalation")
VIEWS = (("mine", "My leads"), ("pool", "The pool"), ("all", "All leads"))


class AddLeadDialog(QDialog):
    """Name, company, phone, email, region, source: the server assigns it on sync."""

    FIELDS = ("name", "company", "phone", "email", "region", "source")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("add_lead")
        self.setWindowTitle(self._t("New lead"))
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        lead = ENTITIES["lead"]
        for name in self.FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"lead_{name}")
            self.edits[name] = edit
            form.addRow(lead.field(name).label(ctx.lang), edit)
        self.message = QLabel()
        self.message.setStyleSheet("color: #c62828;")
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self._t("Save"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self._t("Cancel"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addWidget(buttons)

    def _t(self, text: str) -> str:
        return self.ctx.translator.translate(CONTEXT, text)

    def save(self) -> None:
        from desktop.leads import service

        values = {k: e.text().strip() or None for k, e in self.edits.items()}
        self.ctx.run(lambda store: service.add(store, values), on_done=lambda _r: self.accept(),
                     on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(self.ctx.error_text(exc))
        self.message.show()


RULE_COLUMNS = ("name", "regions", "sources", "products", "min_budget", "max_budget", "team",
                "reps", "active")
LIST_FIELDS = ("regions", "sources", "products", "reps")


class RulesDialog(QDialog):
    """An admin edits the assignment rules: one row per rule, in the order tried."""

    def __init__(self, ctx: AppContext, rules: list[dict[str, Any]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("lead_rules")
        self.setWindowTitle(self._t("Assignment rules"))
        self.resize(980, 360)
        self.ids: list[str | None] = []
        ent = ENTITIES["lead_rule"]
        self.table = QTableWidget(0, len(RULE_COLUMNS))
        self.table.setObjectName("lead_rules_table")
        self.table.setHorizontalHeaderLabels([ent.field(c).label(ctx.lang) for c in RULE_COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for rule in rules:
            self.add_row(rule)
        add, remove = QPushButton(self._t("Add rule")), QPushButton(self._t("Remove rule"))
        add.setObjectName("lead_rule_add")
        remove.setObjectName("lead_rule_remove")
        add.clicked.connect(lambda _c=False: self.add_row({"active": True}))
        remove.clicked.connect(lambda _c=False: self.remove_row())
        hint = QLabel(self._t("Rules are tried from the top; the first that fits a lead "
                              "decides. Lists: separate with commas. They reach the server "
                              "at the next sync."))
        hint.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("lead_rules_message")
        self.message.setStyleSheet("color: #c62828;")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self._t("Save"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self._t("Cancel"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(hint)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(self.message)
        lay.addWidget(buttons)

    def _t(self, text: str) -> str:
        return self.ctx.translator.translate(CONTEXT, text)

    def add_row(self, rule: dict[str, Any]) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.ids.append(rule.get("id"))
        for c, key in enumerate(RULE_COLUMNS):
            value = rule.get(key)
            if key == "active":
                item = QTableWidgetItem()
                item.setCheckState(Qt.CheckState.Checked if value is not False
                                   else Qt.CheckState.Unchecked)
            else:
                text = ", ".join(value or ()) if key in LIST_FIELDS else (
                    "" if value is None else f"{value:g}" if isinstance(value, float)
                    else str(value))
                item = QTableWidgetItem(text)
            self.table.setItem(r, c, item)

    def remove_row(self) -> None:
        r = self.table.currentRow()
        if 0 <= r < self.table.rowCount():
            self.table.removeRow(r)
            del self.ids[r]

    def values(self) -> list[dict[str, Any]]:
        out = []
        for r in range(self.table.rowCount()):
            rule: dict[str, Any] = {"id": self.ids[r]}
            for c, key in enumerate(RULE_COLUMNS):
                item = self.table.item(r, c)
                if key == "active":
                    rule[key] = item is not None and item.checkState() == Qt.CheckState.Checked
                    continue
                text = item.text().strip() if item is not None else ""
                if key in LIST_FIELDS:
                    rule[key] = [p.strip() for p in text.replace("，", ",").split(",")
                                 if p.strip()] or None
                else:
                    rule[key] = text or None
            out.append(rule)
        return out

    def save(self) -> None:
        from desktop.leads import service

        rows = self.values()
        self.ctx.run(lambda store: service.save_rules(store, rows),
                     on_done=lambda _r: self.accept(), on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(reason_text(self.ctx, str(exc)) if isinstance(
            exc, ValidationError) else self.ctx.error_text(exc))


def reason_text(ctx: AppContext, text: str) -> str:
    """A refusal (the server's, or a rule check's) in the UI language."""
    if ctx.lang == "zh":
        for pattern, zh in ZH_REASONS:
            m = pattern.match(text)
            if m:
                return zh.format(*m.groups())
    return text


class LeadsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("leads_page")
        self.rows: list[dict[str, Any]] = []
        self.told: set[str] = set()  # claims whose refusal was shown
        self.dialog: AddLeadDialog | None = None
        t = self._t
        self.view = QComboBox()
        self.view.setObjectName("leads_view")
        for key, text in VIEWS:
            self.view.addItem(t(text), key)
        self.view.currentIndexChanged.connect(lambda _i: self.reload())
        self.buttons: dict[str, QPushButton] = {}
        top = QHBoxLayout()
        top.addWidget(self.view)
        top.addStretch(1)
        for key, text, slot in (("add", "Add lead…", self.add),
                                ("claim", "Claim", lambda: self._act("claim")),
                                ("release", "Give back", lambda: self._act("release")),
                                ("convert", "Convert", lambda: self._act("convert"))):
            b = QPushButton(t(text))
            b.setObjectName(f"lead_{key}")
            b.clicked.connect(lambda _c=False, s=slot: s())
            self.buttons[key] = b
            top.addWidget(b)
        rules = QPushButton(t("Assignment rules…"))
        rules.setObjectName("lead_rules_button")
        rules.clicked.connect(lambda _c=False: self.edit_rules())
        rules.hide()  # admins only (see _show)
        self.buttons["rules"] = rules
        top.addWidget(rules)
        self.rules_dialog: RulesDialog | None = None
        self.role = ""
        self.outcome = QComboBox()
        self.outcome.setObjectName("lead_outcome")
        for o in LEAD_OUTCOMES:
            self.outcome.addItem(t(o.replace("_", " ").capitalize()), o)
        contact = QPushButton(t("Log contact"))
        contact.setObjectName("lead_contact")
        contact.clicked.connect(lambda _c=False: self._act("contact"))
        self.buttons["contact"] = contact
        top.addWidget(self.outcome)
        top.addWidget(contact)
        lead = ENTITIES["lead"]
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("leads_table")
        self.table.setHorizontalHeaderLabels([
            t("Escalation") if c == "escalation" else lead.field(c).label(ctx.lang)
            for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.message = QLabel()
        self.message.setObjectName("leads_message")
        self.message.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.message)
        ctx.operation_did_execute.connect(self._changed)

    def _t(self, text: str, **values: Any) -> str:
        return self.ctx.translator.translate(CONTEXT, text, **values)

    def _changed(self, changes: Any, _initiator: object) -> None:
        touched = getattr(changes, "entities", None)
        if touched is None or {"lead", "lead_claim", "*"} & set(touched):
            self.reload()

    def reload(self) -> None:
        from desktop.leads import service

        view = self.view.currentData() or "mine"

        def load(store: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
            from desktop.sync.auth import load_account

            rows = service.list_leads(store, view=view, limit=500)
            lost = [{**c, "name": store.repo("lead").get(c["lead_id"])["name"]}
                    for c in store.repo("lead_claim").find(result="lost")
                    if c.get("owner") == store.user]
            account = load_account(store)
            return rows, lost, account.role if account is not None else ""

        self.ctx.run(load, on_done=self._show)

    def edit_rules(self) -> None:
        from desktop.leads import service

        def opened(rules: list[dict[str, Any]]) -> None:
            self.rules_dialog = RulesDialog(self.ctx, rules, self)
            self.rules_dialog.open()

        self.ctx.run(service.rules, on_done=opened)

    def _show(self, got: tuple[list[dict[str, Any]], list[dict[str, Any]], str]) -> None:
        rows, lost, self.role = got
        self.buttons["rules"].setVisible(self.role == "admin")
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, rec in enumerate(rows):
            for c, key in enumerate(COLUMNS):
                item = QTableWidgetItem(self._cell(rec, key))
                if key == "owner":  # who had it, which rule, when
                    item.setToolTip("\n".join(rec.get("assignments") or ()))
                self.table.setItem(r, c, item)
        fresh = [c for c in lost if c["id"] not in self.told]
        if fresh:
            self.told.update(c["id"] for c in fresh)
            self.message.setText("\n".join(self._t("Your claim on {name} was not granted: "
                                                   "{reason}", name=c["name"],
                                                   reason=self.reason(c.get("reason") or ""))
                                           for c in fresh))

    def reason(self, text: str) -> str:
        return reason_text(self.ctx, text)

    def _cell(self, rec: dict[str, Any], key: str) -> str:
        value = rec.get(key)
        if key in ("phone",) and not value and rec.get("status") == "pool":
            return self._t("(hidden until claimed)")
        if value in (None, ""):
            return ""
        if key == "assigned_at":
            return local_time(str(value))
        if key in ("status", "last_outcome", "escalation"):
            text = str(value)
            return self._t(text.replace("_", " ").capitalize() if key != "escalation" else text)
        return str(value)

    def selected(self) -> dict[str, Any] | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def add(self) -> AddLeadDialog:
        self.dialog = AddLeadDialog(self.ctx, self)
        self.dialog.open()
        return self.dialog

    def _act(self, action: str) -> None:
        from desktop.leads import service

        lead = self.selected()
        if lead is None:
            self.message.setText(self._t("Select a lead first."))
            return
        lead_id = lead["id"]
        outcome = self.outcome.currentData()
        done = {"claim": "Claim asked: the server decides at the next sync.",
                "release": "Returned to the pool at the next sync.",
                "convert": "Converted: account, contact and deal made (existing records "
                           "linked).", "contact": ""}[action]

        def op(store: Any) -> Any:
            if action == "contact":
                return service.contact(store, lead_id, outcome)
            return getattr(service, action)(store, lead_id)

        self.ctx.run(op, on_done=lambda _r: self.message.setText(self._t(done) if done else ""),
                     on_error=lambda exc: self.message.setText(self.ctx.error_text(exc)))


class LeadsUi(QObject):
    """The Leads tab in one main window (`window.leads_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.page: LeadsPage | None = None
        self.mount()
        window.built.connect(self.mount)
        if not self.ctx.is_ready:
            self.ctx.store_ready.connect(self._ready)

    def mount(self) -> None:
        self.page = LeadsPage(self.ctx)
        self.window.tabs.addTab(self.page, self.ctx.tr("Leads"))
        if self.ctx.is_ready:
            self.page.reload()

    def _ready(self) -> None:
        if self.page is not None:
            self.page.reload()
