"""Settings page: the rep's own follow-up settings (task lead time, stalled days per
stage, quiet hours, time zone, the manager who gets review tasks) and, below them, what
counts as a valid follow-up: the admin's synced rule (desktop.followup.rule: criteria,
how many kinds of evidence, the golden rule's hours). Others see the rule read-only,
with a line saying the admin sets it; an admin edits it here (or `fieldcrm followup-rule
set`). Mount it next to PipelineRulesEditor in settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import timezones
from desktop.followup import rule as rules
from desktop.followup.pipeline import stage_label
from desktop.followup.service import apply_settings
from desktop.followup.settings import Criterion, FollowupSettings, load_settings
from desktop.schema import Role
from desktop.store import Store
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import set_viewer_zone
from desktop.ui.common.i18n import register_catalog

register_catalog({
    "Warn after (hours without follow-up)": "预警时间（未跟进小时数）",
    "Overdue after (hours)": "逾期时间（小时）",
    "Remind before a task is due (minutes)": "任务到期前提醒（分钟）",
    "Quiet hours from": "免打扰开始", "Quiet hours until": "免打扰结束",
    "Manager (gets the review task)": "主管（接收复核任务）",
    "Kinds of evidence needed": "有效跟进所需证据种类",
    "Stalled after (days in stage)": "停滞判定（在阶段中的天数）",
    "Save": "保存", "Saved.": "已保存。",
    "Time zone (times are shown and typed in it)": "时区（时间按此显示和输入）",
    "System ({zone})": "跟随系统（{zone}）",
    "What counts as a valid follow-up": "有效跟进的标准",
    "Your administrator sets what counts as a valid follow-up, the same for everyone "
    "(the reminders and every report); it reaches this computer at each sync.":
        "有效跟进的标准由管理员统一设定（提醒和所有报表都按此计算），每次同步时更新到本机。",
    "You are an administrator: the rule you save here reaches every device at its next "
    "sync, and every report counts by it.":
        "您是管理员：在此保存的规则会在下次同步时发送到所有设备，所有报表都按此计算。",
    "Criterion": "条件", "Activity kind": "活动类型", "At least (seconds)": "至少（秒）",
    "Needs an attachment": "需要附件", "Outcome starts with": "结果以此开头",
    "Add criterion": "添加条件", "Remove criterion": "删除条件",
    "Call of 90 s or more": "通话满 90 秒", "Visit with a photo": "拜访并附照片",
    "Customer replied": "客户有回复", "Quote sent": "已发报价",
    "Call": "电话", "Visit": "拜访", "Note": "备注", "Task": "任务",
})
# The built-in criteria and the activity kinds, shown in the reader's language; the rule
# keeps the names (an admin's new criterion is shown as typed).
CRITERION_LABELS = {"call_90s": "Call of 90 s or more", "visit_photo": "Visit with a photo",
                    "customer_reply": "Customer replied", "quote_sent": "Quote sent"}
KIND_LABELS = {"call": "Call", "visit": "Visit", "note": "Note", "task": "Task"}
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
         "Asia/Seoul", "Asia/Dubai", "Asia/Kolkata", "Europe/London", "Europe/Paris",
         "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Chicago",
         "America/Los_Angeles", "America/Toronto", "America/Sao_Paulo", "Australia/Sydney",
         "UTC")
CRITERIA_COLUMNS = ("Criterion", "Activity kind", "At least (seconds)", "Needs an attachment",
                    "Outcome starts with")


@dataclass(frozen=True)
class Loaded:
    """What the form shows: the settings in force, the rule, and may this user edit it."""

    settings: FollowupSettings
    rule: rules.FollowupRule
    admin: bool


def load_form(store: Store) -> Loaded:
    """Worker op: the settings, the admin's rule and whether this profile is an admin's."""
    from desktop.sync.auth import load_account

    account = load_account(store)
    return Loaded(load_settings(store), rules.current_rule(store),
                  account is not None and account.role == Role.ADMIN.value)


def save_form(store: Store, settings: FollowupSettings, rule: dict[str, Any] | None) -> Loaded:
    """Worker op: the personal settings, and the rule when an admin changed it (both are
    checked before anything is written). Raises ValidationError."""
    if rule is not None:
        now = rules.current_rule(store)
        crit = rules.parse_criteria(rule["criteria"])
        if (crit, rule["required_criteria"], rule["golden_warn_hours"],
                rule["golden_overdue_hours"]) != (now.criteria, now.required_criteria,
                                                   now.golden_warn_hours,
                                                   now.golden_overdue_hours):
            with store.write():
                rules.set_rule(store, criteria=crit, required_criteria=rule["required_criteria"],
                               golden_overdue_hours=rule["golden_overdue_hours"],
                               golden_warn_hours=rule["golden_warn_hours"])
                apply_settings(store, settings)
            return load_form(store)
    apply_settings(store, settings)
    return load_form(store)


class FollowupSettingsForm(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current = FollowupSettings()
        self.rule = rules.FollowupRule()
        self.admin = False
        self.warn, self.overdue = QDoubleSpinBox(), QDoubleSpinBox()
        for box in (self.warn, self.overdue):
            box.setRange(1, 24 * 30)
            box.setDecimals(0)
        self.lead = QSpinBox()
        self.lead.setRange(0, 24 * 60)
        self.quiet_start, self.quiet_end = QTimeEdit(), QTimeEdit()
        for t in (self.quiet_start, self.quiet_end):
            t.setDisplayFormat("HH:mm")
        self.manager = QLineEdit()
        self.required = QSpinBox()
        self.required.setRange(1, rules.MAX_CRITERIA)
        self.zone = QComboBox()
        self.zone.setObjectName("followup_time_zone")
        self.zone.setEditable(True)  # any IANA name may be typed
        self.stalled: dict[str, QSpinBox] = {}
        self.stalled_row = QHBoxLayout()
        self.stalled_labels: dict[str, QLabel] = {}
        for stage in ("lead", "qualified", "proposal", "negotiation", "legal_review"):
            spin = QSpinBox()
            spin.setRange(1, 365)
            self.stalled[stage] = spin
            self.stalled_labels[stage] = QLabel()
            self.stalled_row.addWidget(self.stalled_labels[stage])
            self.stalled_row.addWidget(spin)
        # the rep's own settings
        self.form = QFormLayout()
        self.labels = [QLabel() for _ in range(9)]
        personal: tuple[tuple[int, QWidget], ...] = (
            (2, self.lead), (3, self.quiet_start), (4, self.quiet_end), (5, self.manager),
            (7, self.zone))
        for i, field in personal:
            self.form.addRow(self.labels[i], field)
        self.form.addRow(self.labels[8], self.stalled_row)
        # the admin's rule
        self.rule_title = QLabel()
        self.rule_title.setStyleSheet("font-weight: bold; padding-top: 8px;")
        self.rule_note = QLabel()
        self.rule_note.setObjectName("followup_rule_note")
        self.rule_note.setWordWrap(True)
        self.rule_form = QFormLayout()
        ruled: tuple[tuple[int, QWidget], ...] = (
            (0, self.warn), (1, self.overdue), (6, self.required))
        for i, field in ruled:
            self.rule_form.addRow(self.labels[i], field)
        self.criteria = QTableWidget(0, len(CRITERIA_COLUMNS))
        self.criteria.setObjectName("followup_criteria")
        self.criteria.verticalHeader().setVisible(False)
        self.criteria.horizontalHeader().setStretchLastSection(True)
        self.criteria.setMinimumHeight(140)
        self.add_btn, self.remove_btn = QPushButton(), QPushButton()
        self.add_btn.clicked.connect(lambda: self._add_row(Criterion("")))
        self.remove_btn.clicked.connect(self._remove_row)
        crit_buttons = QHBoxLayout()
        crit_buttons.addWidget(self.add_btn)
        crit_buttons.addWidget(self.remove_btn)
        crit_buttons.addStretch(1)
        self.save_btn = QPushButton()
        self.save_btn.clicked.connect(self.save)
        self.status = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.save_btn)
        bottom.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.rule_title)
        lay.addWidget(self.rule_note)
        lay.addLayout(self.rule_form)
        lay.addWidget(self.criteria)
        lay.addLayout(crit_buttons)
        lay.addLayout(bottom)
        lay.addStretch(1)
        ctx.language_changed.connect(self._texts)
        self._texts()
        self.set_loaded(Loaded(self.current, self.rule, False))

    def _texts(self) -> None:
        tr = self.ctx.tr
        for label, text in zip(self.labels, (
                "Warn after (hours without follow-up)", "Overdue after (hours)",
                "Remind before a task is due (minutes)", "Quiet hours from", "Quiet hours until",
                "Manager (gets the review task)", "Kinds of evidence needed",
                "Time zone (times are shown and typed in it)",
                "Stalled after (days in stage)"), strict=True):
            label.setText(tr(text))
        self._fill_zones(self.current.time_zone)
        for stage, lab in self.stalled_labels.items():
            lab.setText(stage_label(stage, self.ctx.lang))
        self.save_btn.setText(tr("Save"))
        self.rule_title.setText(tr("What counts as a valid follow-up"))
        self.criteria.setHorizontalHeaderLabels([tr(c) for c in CRITERIA_COLUMNS])
        self.add_btn.setText(tr("Add criterion"))
        self.remove_btn.setText(tr("Remove criterion"))
        self._show_access()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ctx.run(load_form, on_done=self.set_loaded)

    def set_loaded(self, got: Loaded) -> None:
        self.rule, self.admin = got.rule, got.admin
        self.set_settings(got.settings)
        self.criteria.setRowCount(0)
        for c in got.rule.criteria:
            self._add_row(c)
        self._show_access()

    def _show_access(self) -> None:
        tr = self.ctx.tr
        if self.admin:
            self.rule_note.setText(tr("You are an administrator: the rule you save here reaches "
                                      "every device at its next sync, and every report counts "
                                      "by it."))
            self.rule_note.setStyleSheet("color: #57606a; padding: 4px;")
        else:
            self.rule_note.setText(tr("Your administrator sets what counts as a valid follow-up, "
                                      "the same for everyone (the reminders and every report); "
                                      "it reaches this computer at each sync."))
            self.rule_note.setStyleSheet("background: #fff8c5; border: 1px solid #d4a72c; "
                                         "border-radius: 4px; padding: 6px; color: #4d2d00;")
        for box in (self.warn, self.overdue, self.required):
            box.setEnabled(self.admin)
        self.criteria.setEditTriggers(QTableWidget.EditTrigger.AllEditTriggers if self.admin
                                      else QTableWidget.EditTrigger.NoEditTriggers)
        for r in range(self.criteria.rowCount()):
            item = self.criteria.item(r, 3)
            if item is not None:
                flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
                item.setFlags(flags if self.admin else flags & ~Qt.ItemFlag.ItemIsUserCheckable
                              & ~Qt.ItemFlag.ItemIsEnabled)
        self.add_btn.setVisible(self.admin)
        self.remove_btn.setVisible(self.admin)

    def _add_row(self, c: Criterion) -> None:
        r = self.criteria.rowCount()
        self.criteria.insertRow(r)
        self.criteria.setItem(r, 0, self._label_item(c.name, CRITERION_LABELS))
        self.criteria.setItem(r, 1, self._label_item(c.kind, KIND_LABELS))
        self.criteria.setItem(r, 2, QTableWidgetItem(str(c.min_duration_s or "")))
        attach = QTableWidgetItem()
        attach.setCheckState(Qt.CheckState.Checked if c.needs_attachment
                             else Qt.CheckState.Unchecked)
        self.criteria.setItem(r, 3, attach)
        self.criteria.setItem(r, 4, QTableWidgetItem(", ".join(c.outcomes)))

    def _label_item(self, value: str, labels: dict[str, str]) -> QTableWidgetItem:
        """A cell showing `value`'s label; the value itself rides along until edited."""
        shown = self.ctx.tr(labels[value]) if value in labels else value
        item = QTableWidgetItem(shown)
        item.setData(Qt.ItemDataRole.UserRole, (value, shown))
        return item

    def _remove_row(self) -> None:
        row = self.criteria.currentRow()
        if row >= 0:
            self.criteria.removeRow(row)

    def edited_criteria(self) -> list[dict[str, Any]]:
        """The table's criteria as the rule's JSON shape (checked when saved)."""
        out: list[dict[str, Any]] = []
        for r in range(self.criteria.rowCount()):
            def cell(col: int, row: int = r) -> str:
                item = self.criteria.item(row, col)
                if item is None:
                    return ""
                kept = item.data(Qt.ItemDataRole.UserRole)
                if isinstance(kept, (tuple, list)) and kept[1] == item.text():
                    return str(kept[0])  # a label shown for a name, not edited
                return item.text().strip()
            attach = self.criteria.item(r, 3)
            seconds = cell(2)
            if not any((cell(0), cell(1), seconds, cell(4))):
                continue  # an empty row
            out.append({
                "name": cell(0), "kind": cell(1),
                "min_duration_s": int(seconds) if seconds.isdigit() else (seconds or 0),
                "needs_attachment": attach is not None and (
                    attach.checkState() == Qt.CheckState.Checked),
                "outcomes": [o.strip() for o in cell(4).replace("，", ",").split(",")
                             if o.strip()]})
        return out

    def set_settings(self, s: FollowupSettings) -> None:
        self.current = s
        self.warn.setValue(s.golden_warn_hours)
        self.overdue.setValue(s.golden_overdue_hours)
        self.lead.setValue(s.task_lead_minutes)
        self.quiet_start.setTime(QTime.fromString(s.quiet_start, "HH:mm"))
        self.quiet_end.setTime(QTime.fromString(s.quiet_end, "HH:mm"))
        self.manager.setText(s.manager)
        self.required.setValue(s.required_criteria)
        for stage, spin in self.stalled.items():
            spin.setValue(int(s.stalled_days.get(stage, 14)))
        self._fill_zones(s.time_zone)

    def _fill_zones(self, chosen: str) -> None:
        system = timezones.zone_name(timezones.system_zone()) or "UTC"
        self.zone.clear()
        self.zone.addItem(self.ctx.tr("System ({zone})", zone=system), "")
        for name in (*ZONES, *([chosen] if chosen and chosen not in ZONES else [])):
            self.zone.addItem(f"{name}  {timezones.city(name, self.ctx.lang)}", name)
        self.zone.setCurrentIndex(max(0, self.zone.findData(chosen)))

    def chosen_zone(self) -> str:
        data = self.zone.currentData()
        if self.zone.currentText() == self.zone.itemText(self.zone.currentIndex()):
            return str(data or "")
        return self.zone.currentText().strip().split()[0] if self.zone.currentText().strip() else ""

    def edited(self) -> FollowupSettings:
        """The personal settings as edited (the rule's fields are the rule's)."""
        return replace(
            self.current, task_lead_minutes=self.lead.value(),
            quiet_start=self.quiet_start.time().toString("HH:mm"),
            quiet_end=self.quiet_end.time().toString("HH:mm"),
            manager=self.manager.text().strip(), time_zone=self.chosen_zone(),
            stalled_days={stage: float(spin.value()) for stage, spin in self.stalled.items()})

    def edited_rule(self) -> dict[str, Any] | None:
        """The rule as an admin edited it; None for anyone else."""
        if not self.admin:
            return None
        return {"criteria": self.edited_criteria(), "required_criteria": self.required.value(),
                "golden_warn_hours": self.warn.value(),
                "golden_overdue_hours": self.overdue.value()}

    def save(self) -> None:
        new, rule = self.edited(), self.edited_rule()

        def op(store: Store) -> Loaded:
            return save_form(store, new, rule)

        self.ctx.run(op, on_done=self._saved,
                     on_error=lambda exc: self.status.setText(self.ctx.error_text(exc)))

    def _saved(self, got: Loaded) -> None:
        set_viewer_zone(got.settings.time_zone)
        self.set_loaded(got)
        self.status.setText(self.ctx.tr("Saved."))
