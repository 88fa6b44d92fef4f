"""The Custom fields page: every definition this device holds, in a table; admins add
(a form), edit labels and choices, retire and restore. The work is done by
desktop.store.fielddefs on the store worker; the server checks it again on push."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.schema import (
    CUSTOM_FIELD_ENTITIES,
    CUSTOM_FIELD_TYPES,
    ENTITIES,
    FieldDefError,
    Role,
)
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

register_catalog({
    "Add field…": "添加字段…", "Edit…": "编辑…", "Retire": "停用", "Restore": "恢复",
    "Record type": "记录类型", "Label": "标签", "Name": "名称", "Type": "类型",
    "Choices": "选项", "Status": "状态", "In use": "使用中", "Retired (values kept)":
    "已停用（值保留）", "Label (Chinese)": "标签（中文）", "Label (English)": "标签（英文）",
    "Required on the form": "表单必填", "Searchable": "可搜索",
    "Separate choices with commas": "多个选项用逗号分隔", "New custom field": "新建自定义字段",
    "Edit custom field": "编辑自定义字段",
    "No custom fields yet.\nAn administrator adds them here or with "
    "`fieldcrm-server fields add`; every device receives them at its next sync.":
    "还没有自定义字段。\n管理员可在此处或用 `fieldcrm-server fields add` 添加，"
    "各设备下次同步时即可收到。",
    "Only administrators can change custom fields. You see the fields this computer has "
    "received.": "只有管理员可以修改自定义字段。这里显示本机已收到的字段。",
    "Signed in as {user} (administrator): new fields reach every device at its next sync; "
    "adding one changes no existing record.":
    "以 {user}（管理员）身份登录：新字段会在各设备下次同步时送达；添加字段不会改动已有记录。",
    "Text": "文本", "Number": "数字", "Date": "日期", "Choice": "单选", "List": "多值",
})
# The reasons desktop.schema.check_field_def gives, in Chinese (by pattern: they name fields)
ZH_REASONS = (
    (re.compile(r"^(\w+) already has a field named '(.+)'\.$"), "已有名为“{1}”的字段。"),
    (re.compile(r"^'(.*)' is a reserved name"), "“{0}”是保留名称，请换一个。"),
    (re.compile(r"^'(.*)' is not a valid field name"),
     "“{0}”不是有效的字段名：以 cf_ 开头，随后是小写字母，再接最多 39 个小写字母、数字或下划线。"),
    (re.compile(r"^A choice field needs at least one choice"), "单选字段至少需要一个选项。"),
    (re.compile(r"^The choices repeat a value"), "选项有重复：每个选项都必须不同。"),
    (re.compile(r"^Choice '(.*)' may be in use"),
     "选项“{0}”可能正在使用，不能删除；请添加新选项。"),
    (re.compile(r"^(\w+) already has (\d+) custom fields"), "自定义字段已达上限（{1} 个）。"),
)
TYPE_NAMES = {"text": "Text", "number": "Number", "date": "Date", "choice": "Choice",
              "list": "List"}
COLUMNS = ("Record type", "Label", "Name", "Type", "Choices", "Status")


def load_rows(store: Any) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """Worker op: the definitions and (user, role) this profile is signed in with."""
    from desktop.store.fielddefs import definitions
    from desktop.sync.auth import load_account

    account = load_account(store)
    return definitions(store.conn), None if account is None else (account.username,
                                                                   account.role)


class FieldForm(QDialog):
    """Add a field, or edit one's labels, choices and flags."""

    def __init__(self, ctx: AppContext, defn: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.defn = defn
        tr = ctx.tr
        self.setObjectName("field_form")
        self.setWindowTitle(tr("Edit custom field" if defn else "New custom field"))
        self.setMinimumWidth(460)
        self.entity = QComboBox()
        for e in CUSTOM_FIELD_ENTITIES:
            self.entity.addItem(ENTITIES[e].label(ctx.lang), e)
        self.name = QLineEdit()
        self.name.setPlaceholderText("cf_lead_source_detail")
        self.type = QComboBox()
        for t in CUSTOM_FIELD_TYPES:
            self.type.addItem(tr(TYPE_NAMES[t]), t)
        self.label_zh = QLineEdit()
        self.label_en = QLineEdit()
        self.choices = QLineEdit()
        self.choices.setPlaceholderText(tr("Separate choices with commas"))
        self.required = QCheckBox(tr("Required on the form"))
        self.searchable = QCheckBox(tr("Searchable"))
        form = QFormLayout()
        for text, w in (("Record type", self.entity), ("Name", self.name), ("Type", self.type),
                        ("Label (Chinese)", self.label_zh), ("Label (English)", self.label_en),
                        ("Choices", self.choices)):
            form.addRow(tr(text), w)
        form.addRow("", self.required)
        form.addRow("", self.searchable)
        self.message = QLabel()
        self.message.setObjectName("field_form_message")
        self.message.setStyleSheet("color: #c62828;")
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addWidget(self.buttons)
        if defn is not None:
            self.entity.setCurrentIndex(max(0, self.entity.findData(defn.get("entity"))))
            self.name.setText(str(defn.get("name") or ""))
            self.type.setCurrentIndex(max(0, self.type.findData(defn.get("type"))))
            for w in (self.entity, self.name, self.type):
                w.setEnabled(False)  # a type changes on the server, after a preview
            self.label_zh.setText(str(defn.get("label_zh") or ""))
            self.label_en.setText(str(defn.get("label_en") or ""))
            self.choices.setText(", ".join(defn.get("choices") or ()))
            self.required.setChecked(bool(defn.get("required")))
            self.searchable.setChecked(bool(defn.get("searchable")))

    def values(self) -> dict[str, Any]:
        choices = [c.strip() for c in self.choices.text().replace("，", ",").split(",")
                   if c.strip()]
        return {"entity": self.entity.currentData(), "name": self.name.text().strip(),
                "type": self.type.currentData(), "label_zh": self.label_zh.text().strip(),
                "label_en": self.label_en.text().strip(), "choices": choices,
                "required": self.required.isChecked(),
                "searchable": self.searchable.isChecked()}

    def save(self) -> None:
        from desktop.store.fielddefs import add_definition, update_definition

        values = self.values()
        if self.defn is None:
            def op(store: Any) -> Any:
                return add_definition(store, values)
        else:
            record_id = self.defn["id"]
            changes = {k: values[k] or None for k in ("label_zh", "label_en", "choices")}
            changes |= {"required": values["required"], "searchable": values["searchable"]}

            def op(store: Any) -> Any:
                return update_definition(store, record_id, changes)
        self.ctx.run(op, on_done=lambda _rec: self.accept(), on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(reason_text(exc, self.ctx) or self.ctx.error_text(exc))
        self.message.show()


def reason_text(exc: BaseException, ctx: AppContext) -> str | None:
    """A definition's refusal in the UI language (None: not one of those)."""
    if not isinstance(exc, FieldDefError):
        return None
    if ctx.lang != "zh":
        return exc.message
    for pattern, zh in ZH_REASONS:
        m = pattern.match(exc.message)
        if m:
            return zh.format(*m.groups())
    return None


class FieldsPage(QWidget):
    """The definitions, with Add / Edit / Retire-Restore for admins."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("fields_page")
        self.rows: list[dict[str, Any]] = []
        self.account: tuple[str, str] | None = None
        self.form: FieldForm | None = None
        tr = ctx.tr
        self.note = QLabel()
        self.note.setObjectName("fields_access")
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("fields_table")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(1, 220)
        self.table.setColumnWidth(2, 200)
        self.table.setColumnWidth(4, 200)
        self.table.itemSelectionChanged.connect(self._selection)
        self.empty = QLabel(tr("No custom fields yet.\nAn administrator adds them here or with "
                               "`fieldcrm-server fields add`; every device receives them at "
                               "its next sync."))
        self.empty.setObjectName("fields_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; font-size: 15px; padding: 40px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.add_btn = QPushButton(tr("Add field…"))
        self.edit_btn = QPushButton(tr("Edit…"))
        self.retire_btn = QPushButton(tr("Retire"))
        self.add_btn.clicked.connect(self.add)
        self.edit_btn.clicked.connect(self.edit)
        self.retire_btn.clicked.connect(self.toggle_retired)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.edit_btn)
        buttons.addWidget(self.retire_btn)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.stack, 1)
        lay.addLayout(buttons)
        ctx.operation_did_execute.connect(self._changes)
        self._show_access()

    # ------------------------------------------------------------ loading
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        self.ctx.run(load_rows, on_done=self._loaded)

    def _changes(self, changes: Any, _initiator: object) -> None:
        from desktop.ui.common.changes import touches

        if self.isVisible() and touches(changes, ["field_def"]):
            self.reload()

    def _loaded(self, result: tuple[list[dict[str, Any]], tuple[str, str] | None]) -> None:
        self.rows, self.account = result
        tr, lang = self.ctx.tr, self.ctx.lang
        self.table.setRowCount(len(self.rows))
        for i, d in enumerate(self.rows):
            label = d.get("label_zh") if lang == "zh" else d.get("label_en")
            cells = (ENTITIES[d["entity"]].label(lang) if d.get("entity") in ENTITIES else "",
                     label or d.get("name") or "", d.get("name") or "",
                     tr(TYPE_NAMES.get(str(d.get("type")), str(d.get("type")))),
                     ", ".join(d.get("choices") or ()),
                     tr("Retired (values kept)" if d.get("retired") else "In use"))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(text))
                if d.get("retired"):
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(i, j, item)
        self.stack.setCurrentWidget(self.table if self.rows else self.empty)
        self._show_access()

    # ------------------------------------------------------------ access
    @property
    def is_admin(self) -> bool:
        return self.account is not None and self.account[1] == Role.ADMIN.value

    def _show_access(self) -> None:
        tr = self.ctx.tr
        if self.is_admin:
            assert self.account is not None
            self.note.setText(tr("Signed in as {user} (administrator): new fields reach every "
                                 "device at its next sync; adding one changes no existing "
                                 "record.", user=self.account[0]))
            self.note.setStyleSheet("color: #57606a; padding: 4px;")
        else:
            self.note.setText(tr("Only administrators can change custom fields. You see the "
                                 "fields this computer has received."))
            self.note.setStyleSheet("background: #fff8c5; border: 1px solid #d4a72c; "
                                    "border-radius: 4px; padding: 6px; color: #4d2d00;")
        for b in (self.add_btn, self.edit_btn, self.retire_btn):
            b.setVisible(self.is_admin)
        self._selection()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows and self.rows else None

    def _selection(self) -> None:
        d = self.selected()
        self.edit_btn.setEnabled(d is not None)
        self.retire_btn.setEnabled(d is not None)
        self.retire_btn.setText(self.ctx.tr("Restore" if d and d.get("retired") else "Retire"))

    # ------------------------------------------------------------ actions
    def add(self) -> FieldForm:
        self.form = FieldForm(self.ctx, None, self)
        self.form.accepted.connect(self.reload)
        self.form.open()
        return self.form

    def edit(self) -> FieldForm | None:
        d = self.selected()
        if d is None:
            return None
        self.form = FieldForm(self.ctx, d, self)
        self.form.accepted.connect(self.reload)
        self.form.open()
        return self.form

    def toggle_retired(self) -> None:
        from desktop.store.fielddefs import set_retired

        d = self.selected()
        if d is None:
            return
        record_id, retire = d["id"], not d.get("retired")
        self.ctx.run(lambda store: set_retired(store, record_id, retire),
                     on_done=lambda _rec: self.reload())
