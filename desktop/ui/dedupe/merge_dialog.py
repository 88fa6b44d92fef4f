"""Merge two duplicates (issue 15): pick the record that stays, then field by field the
value it keeps (preselected: the newer non-empty one, desktop.dedupe.merge.choose)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.schema import ENTITIES, MERGED_INTO, is_server_only
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.store import Store
    from desktop.ui.common.context import AppContext

register_catalog({
    "Merge duplicates": "合并重复记录", "Keep this record": "保留此记录", "Merge": "合并",
    "Field": "字段", "Merged “{name}”.": "已合并“{name}”。",
    "The other record becomes a tombstone that points here; its contacts, deals, activities, "
    "contracts and attachments move to the record kept.":
        "另一条记录将被标记为已合并并指向保留的记录；其联系人、商机、活动、合同和附件会移到保留的记录下。",
})


def load_pair(entity: str, a: str, b: str) -> Any:
    """Store op: both records and the default choice of each field."""
    def op(store: Store) -> dict[str, Any]:
        from desktop.dedupe.merge import choose
        from desktop.store.rows import clocks_of

        repo = store.repo(entity)
        rows = {rid: store.conn.execute(f'SELECT * FROM "{entity}" WHERE id = ?', (rid,)).fetchone()
                for rid in (a, b)}
        recs = {rid: repo.get(rid) for rid in (a, b)}
        clocks = {rid: clocks_of(repo.entity, rows[rid]) for rid in (a, b)}
        # the default survivor: the older record (usually the one others already refer to)
        return {"records": recs,
                "from_b": choose(entity, recs[a], clocks[a], recs[b], clocks[b]),
                "from_a": choose(entity, recs[b], clocks[b], recs[a], clocks[a])}
    return op


class MergeDialog(QDialog):
    merged = Signal(dict)

    def __init__(self, ctx: AppContext, entity: str, data: dict[str, Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("merge_dialog")
        self.ctx, self.entity = ctx, entity
        tr = ctx.tr
        self.setWindowTitle(tr("Merge duplicates"))
        self.resize(760, 520)
        self.records: dict[str, dict[str, Any]] = data["records"]
        self.a, self.b = list(self.records)
        # survivor -> taken from other
        self.defaults = {self.a: data["from_b"], self.b: data["from_a"]}
        ent = ENTITIES[entity]
        self.fields = [f for f in ent.fields if f.name not in (MERGED_INTO, "owner")
                       and not is_server_only(f)  # never taken (desktop.dedupe.merge)
                       and (self.records[self.a].get(f.name) or self.records[self.b].get(f.name))]
        grid = QGridLayout()
        grid.addWidget(QLabel(f"<b>{tr('Field')}</b>"), 0, 0)
        self.survivor = QButtonGroup(self)
        for col, rid in ((1, self.a), (2, self.b)):
            rb = QRadioButton(tr("Keep this record"))
            rb.setObjectName(f"keep_{col}")
            rb.setChecked(rid == self.a)
            rb.toggled.connect(self._survivor_changed)
            self.survivor.addButton(rb, col)
            grid.addWidget(rb, 0, col)
        self.choice: dict[str, QButtonGroup] = {}
        for row, f in enumerate(self.fields, start=1):
            grid.addWidget(QLabel(f.label(ctx.lang)), row, 0)
            group = QButtonGroup(self)
            for col, rid in ((1, self.a), (2, self.b)):
                value = self.records[rid].get(f.name)
                text = (", ".join(value) if isinstance(value, list)
                        else ("" if value is None else str(value)))
                rb = QRadioButton(text or "—")
                rb.setObjectName(f"{f.name}_{col}")
                group.addButton(rb, col)
                grid.addWidget(rb, row, col)
            self.choice[f.name] = group
        host = QWidget()
        host.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(host)
        note = QLabel(tr("The other record becomes a tombstone that points here; its contacts, "
                         "deals, activities, contracts and attachments move to the record kept."))
        note.setWordWrap(True)
        self.message = QLabel()
        self.message.setStyleSheet("color: #c62828;")
        self.message.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr("Merge"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        buttons.accepted.connect(self.do_merge)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._survivor_changed()

    def keep_drop(self) -> tuple[str, str]:
        return (self.a, self.b) if self.survivor.checkedId() == 1 else (self.b, self.a)

    def _survivor_changed(self, *_args: object) -> None:
        keep, _drop = self.keep_drop()
        taken = self.defaults[keep]
        keep_col = 1 if keep == self.a else 2
        for name, group in self.choice.items():
            group.button(3 - keep_col if name in taken else keep_col).setChecked(True)

    def take(self) -> tuple[list[str], list[str]]:
        """(fields from the dropped record, fields kept from the survivor)."""
        keep, _drop = self.keep_drop()
        keep_col = 1 if keep == self.a else 2
        taken = [n for n, g in self.choice.items() if g.checkedId() != keep_col]
        return taken, [n for n in self.choice if n not in taken]

    def do_merge(self) -> None:
        from desktop.dedupe.merge import merge

        keep, drop = self.keep_drop()
        take, keep_own = self.take()
        entity = self.entity
        self.ok.setEnabled(False)

        def op(store: Store) -> dict[str, Any]:
            return merge(store, entity, keep, drop, take, keep_own=keep_own).as_json()

        self.ctx.run(op, on_done=self._done, on_error=self._failed, initiator=self)

    def _done(self, result: dict[str, Any]) -> None:
        self.merged.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        self.message.setText(str(exc))
        self.message.show()
