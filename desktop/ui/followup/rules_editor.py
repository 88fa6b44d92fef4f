"""Settings page for admins: the pipeline rules (stage, what it requires, from which
amount, the message shown when a move is blocked). Saved as synced records."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.followup.pipeline import PipelineRule, load_rules, save_rules, stage_label
from desktop.schema import STAGES
from desktop.store import Store
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

register_catalog({
    "Name": "名称", "Stage": "阶段", "Requires": "要求", "From amount": "金额下限",
    "Message when blocked": "受阻提示", "Add rule": "添加规则", "Remove rule": "删除规则",
    "Save rules": "保存规则", "Pipeline rules": "销售流程规则",
    "Requirements: field:<deal field>, contract, from:<stage>; separate with commas.":
        "要求写法：field:<商机字段>、contract（合同）、from:<阶段>；用逗号分隔。",
    "Saved.": "已保存。",
})

COLUMNS = ("Name", "Stage", "Requires", "From amount", "Message when blocked")


class PipelineRulesEditor(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rules: list[PipelineRule] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.hint = QLabel()
        self.status = QLabel()
        self.add_btn, self.remove_btn, self.save_btn = QPushButton(), QPushButton(), QPushButton()
        self.add_btn.clicked.connect(self.add_rule)
        self.remove_btn.clicked.connect(self.remove_rule)
        self.save_btn.clicked.connect(self.save)
        buttons = QHBoxLayout()
        for b in (self.add_btn, self.remove_btn, self.save_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(self.hint)
        lay.addLayout(buttons)
        ctx.language_changed.connect(self._texts)
        self._texts()

    def _texts(self) -> None:
        tr = self.ctx.tr
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.hint.setText(tr("Requirements: field:<deal field>, contract, from:<stage>; "
                             "separate with commas."))
        self.add_btn.setText(tr("Add rule"))
        self.remove_btn.setText(tr("Remove rule"))
        self.save_btn.setText(tr("Save rules"))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ctx.run(load_rules, on_done=self.set_rules)

    def set_rules(self, rules: list[PipelineRule]) -> None:
        self.rules = list(rules)
        self.table.setRowCount(0)
        for r in rules:
            self._append(r)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)

    def _append(self, r: PipelineRule) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        zh = self.ctx.lang == "zh"
        values = (r.name, r.stage, ", ".join(r.requires),
                  "" if r.min_amount is None else f"{r.min_amount:,.0f}",
                  r.message_zh if zh else r.message_en)
        for col, v in enumerate(values):
            if col == 1:
                combo = QComboBox()
                for stage in STAGES:
                    combo.addItem(stage_label(stage, self.ctx.lang), stage)
                combo.setCurrentIndex(max(0, combo.findData(v)))
                self.table.setCellWidget(row, col, combo)
            item = QTableWidgetItem(v)
            if col == 0:
                item.setData(Qt.ItemDataRole.UserRole, r)  # the stored rule (id, other language)
            self.table.setItem(row, col, item)

    def add_rule(self) -> None:
        self._append(PipelineRule("", STAGES[0], ()))

    def remove_rule(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)

    def edited_rules(self) -> list[PipelineRule]:
        out = []
        zh = self.ctx.lang == "zh"
        for row in range(self.table.rowCount()):
            cell = [(self.table.item(row, c).text() if self.table.item(row, c) else "").strip()  # type: ignore[union-attr]
                    for c in range(len(COLUMNS))]
            combo = self.table.cellWidget(row, 1)
            if isinstance(combo, QComboBox):
                cell[1] = str(combo.currentData())
            first = self.table.item(row, 0)
            old = first.data(Qt.ItemDataRole.UserRole) if first is not None else None
            amount = float(cell[3].replace(",", "")) if cell[3] else None
            msg_en = old.message_en if old else PipelineRule("", "", ()).message_en
            msg_zh = old.message_zh if old else PipelineRule("", "", ()).message_zh
            if zh:
                msg_zh = cell[4] or msg_zh
            else:
                msg_en = cell[4] or msg_en
            out.append(PipelineRule(cell[0] or cell[1], cell[1],
                                    tuple(c.strip() for c in cell[2].split(",") if c.strip()),
                                    amount, msg_en, msg_zh, id=old.id if old else None))
        return out

    def save(self) -> None:
        try:
            rules = self.edited_rules()
        except ValueError:
            self.status.setText(self.ctx.tr("From amount") + ": ?")
            return

        def op(store: Store) -> list[PipelineRule]:
            save_rules(store, rules)
            return load_rules(store)

        self.ctx.run(op, on_done=self._saved,
                     on_error=lambda exc: self.status.setText(self.ctx.error_text(exc)))

    def _saved(self, rules: list[PipelineRule]) -> None:
        self.set_rules(rules)
        self.status.setText(self.ctx.tr("Saved."))
