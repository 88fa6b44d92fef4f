"""Duplicate candidates in the record dialog (issue 15): as the rep types a name, phone,
email or credit code, probable duplicates appear under the form with their reasons.
"Open the existing one" opens it instead; Save asks "Save anyway" first, or refuses
where the duplicate rule blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.i18n import register_catalog

# a desktop.ui.records.record_dialog.RecordDialog (features do not import each other)
RecordDialog = Any

if TYPE_CHECKING:
    from desktop.store import Store

register_catalog({
    "Possible duplicates of this record:": "可能与以下记录重复：",
    "Open the existing one": "打开已有记录",
    "Save anyway": "仍然保存",
    "This is probably a duplicate. Open the existing one, or save anyway.":
        "这很可能是重复记录。请打开已有记录，或仍然保存。",
    "This is probably a duplicate, and the duplicate rule does not allow saving it. "
    "Open the existing one instead.":
        "这很可能是重复记录，查重规则不允许保存。请改为打开已有记录。",
    "{score}% · {reasons}": "{score}% · {reasons}",
    "name": "名称", "phone": "电话", "uscc": "信用代码", "email": "邮箱",
})

WATCHED = {
    "account": ("name", "phone", "uscc"),
    "contact": ("name", "phones", "email", "account_id"),
}
DEBOUNCE_MS = 250  # a check after the rep pauses typing, not on every key


class DuplicatePanel(QWidget):
    """Lives in one RecordDialog; checks on the store worker (desktop.dedupe.service)."""

    def __init__(self, dialog: RecordDialog) -> None:
        super().__init__(dialog)
        self.setObjectName("duplicate_panel")
        self.dialog = dialog
        self.ctx = dialog.ctx
        self.entity = dialog.ent.name
        self.candidates: list[Any] = []
        self.blocks = False
        self.confirmed = False  # "Save anyway" pressed for these candidates
        self._gen = 0
        self._asked_at_save = False
        tr = self.ctx.tr
        self.title = QLabel(tr("Possible duplicates of this record:"))
        self.title.setStyleSheet("font-weight: bold; color: #b26a00;")
        self.list = QListWidget()
        self.list.setObjectName("duplicate_list")
        self.list.setMaximumHeight(110)
        self.list.itemDoubleClicked.connect(lambda _item: self.open_existing())
        self.open_button = QPushButton(tr("Open the existing one"))
        self.open_button.setObjectName("open_existing")
        self.open_button.clicked.connect(self.open_existing)
        self.anyway_button = QPushButton(tr("Save anyway"))
        self.anyway_button.setObjectName("save_anyway")
        self.anyway_button.clicked.connect(self.save_anyway)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.anyway_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.hide()
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self.check)
        for name in WATCHED[self.entity]:
            ed = dialog.editors.get(name)
            if ed is not None:
                signal = (getattr(ed.widget, "textChanged", None)
                          or getattr(ed.widget, "editTextChanged", None))
                if signal is not None:
                    signal.connect(self._edited)
        # Save goes through the panel first (desktop.ui.record_dialog.DIALOG_HOOKS)
        dialog.buttons.accepted.disconnect(dialog.save)
        dialog.buttons.accepted.connect(self.save_requested)
        if dialog.record is None and any(dialog.editors[n].raw() for n in WATCHED[self.entity]
                                         if n in dialog.editors):
            self.timer.start()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in WATCHED[self.entity]:
            ed = self.dialog.editors.get(name)
            if ed is None:
                continue
            try:
                out[name] = ed.value(self.dialog.ent)
            except Exception:  # half-typed: check with what is valid so far
                out[name] = ed.raw() if name == "name" else None
        return out

    def _edited(self, *_args: object) -> None:
        self.confirmed = False
        self.timer.start()

    def check(self, then_save: bool = False) -> None:
        from desktop.dedupe import rules
        from desktop.dedupe.service import check

        self._gen += 1
        gen = self._gen
        values = self.values()
        entity = self.entity
        exclude = self.dialog.record["id"] if self.dialog.record else None
        if not str(values.get("name") or "").strip() and not any(
                v for k, v in values.items() if k not in ("name", "account_id")):
            self.show_candidates(gen, (False, []))
            if then_save:
                self.dialog.save()
            return

        def op(store: Store) -> tuple[bool, list[Any]]:
            rule = rules.rule_for(store, entity)
            return rule.blocks, check(store, entity, values, threshold=rule.threshold,
                                      exclude_id=exclude, refresh_limit=5000)

        def done(result: tuple[bool, list[Any]]) -> None:
            self.show_candidates(gen, result)
            if then_save and gen == self._gen:
                self.save_requested()

        self.ctx.run(op, on_done=done)

    def show_candidates(self, gen: int, result: tuple[bool, list[Any]]) -> None:
        if gen != self._gen:
            return  # an older check answered after a newer one was asked
        self.blocks, self.candidates = result
        tr = self.ctx.tr
        self.list.clear()
        for c in self.candidates:
            reasons = "、".join(tr(r) for r in c.reasons) if self.ctx.lang == "zh" else \
                ", ".join(c.reasons)
            item = QListWidgetItem(
                f"{c.name}    "
                f"{tr('{score}% · {reasons}', score=f'{c.score:g}', reasons=reasons)}")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.list.addItem(item)
        if self.candidates:
            self.list.setCurrentRow(0)
        self.anyway_button.setVisible(not self.blocks)
        self.setVisible(bool(self.candidates))

    def open_existing(self) -> None:
        item = self.list.currentItem() or self.list.item(0)
        window = self.dialog.parent()
        if item is None or window is None or not hasattr(window, "open_record"):
            return
        record_id = item.data(Qt.ItemDataRole.UserRole)
        self.dialog.reject()
        window.open_record(self.entity, record_id)

    def save_anyway(self) -> None:
        if self.blocks:
            return
        self.confirmed = True
        self.dialog.save()

    def save_requested(self) -> None:
        """Save pressed: check once more (what was typed last may not be checked yet);
        without candidates save, else ask, or refuse where the rule blocks."""
        if self.timer.isActive() or not self._asked_at_save:
            self.timer.stop()
            self._asked_at_save = True
            self.check(then_save=True)
            return
        self._asked_at_save = False
        if not self.candidates or self.confirmed:
            self.dialog.save()
            return
        tr = self.ctx.tr
        msg = self.dialog.message
        msg.setText(tr("This is probably a duplicate, and the duplicate rule does not allow "
                       "saving it. Open the existing one instead.") if self.blocks else
                    tr("This is probably a duplicate. Open the existing one, or save anyway."))
        msg.show()


def attach(dialog: RecordDialog) -> DuplicatePanel | None:
    """DIALOG_HOOKS entry: accounts and contacts get the panel above the buttons."""
    if dialog.ent.name not in WATCHED:
        return None
    panel = DuplicatePanel(dialog)
    layout = dialog.layout()
    layout.insertWidget(layout.indexOf(dialog.message), panel)
    dialog.duplicate_panel = panel
    return panel
