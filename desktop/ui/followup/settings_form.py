"""Settings page: follow-up thresholds (golden 72 hours, task lead time, stalled days
per stage), quiet hours, the manager who gets review tasks, and how many kinds of
evidence make a valid follow-up. Mount it next to PipelineRulesEditor in settings."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QTime
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
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import timezones
from desktop.followup.pipeline import stage_label
from desktop.followup.service import apply_settings
from desktop.followup.settings import FollowupSettings, load_settings
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
})
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
         "Asia/Seoul", "Asia/Dubai", "Asia/Kolkata", "Europe/London", "Europe/Paris",
         "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Chicago",
         "America/Los_Angeles", "America/Toronto", "America/Sao_Paulo", "Australia/Sydney",
         "UTC")


class FollowupSettingsForm(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current = FollowupSettings()
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
        self.required.setRange(1, 4)
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
        self.form = QFormLayout()
        self.labels = [QLabel() for _ in range(9)]
        rows: list[QWidget | QHBoxLayout] = [self.warn, self.overdue, self.lead, self.quiet_start,
                                             self.quiet_end, self.manager, self.required,
                                             self.zone]
        for label, field in zip(self.labels, rows, strict=False):
            self.form.addRow(label, field)
        self.form.addRow(self.labels[8], self.stalled_row)
        self.save_btn = QPushButton()
        self.save_btn.clicked.connect(self.save)
        self.status = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.save_btn)
        bottom.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addLayout(bottom)
        lay.addStretch(1)
        ctx.language_changed.connect(self._texts)
        self._texts()
        self.set_settings(self.current)

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

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ctx.run(load_settings, on_done=self.set_settings)

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
        return replace(
            self.current, golden_warn_hours=self.warn.value(),
            golden_overdue_hours=self.overdue.value(), task_lead_minutes=self.lead.value(),
            quiet_start=self.quiet_start.time().toString("HH:mm"),
            quiet_end=self.quiet_end.time().toString("HH:mm"),
            manager=self.manager.text().strip(), required_criteria=self.required.value(),
            time_zone=self.chosen_zone(),
            stalled_days={stage: float(spin.value()) for stage, spin in self.stalled.items()})

    def save(self) -> None:
        new = self.edited()

        def op(store: Store) -> FollowupSettings:
            return apply_settings(store, new)

        self.ctx.run(op, on_done=self._saved,
                     on_error=lambda exc: self.status.setText(self.ctx.error_text(exc)))

    def _saved(self, s: FollowupSettings) -> None:
        set_viewer_zone(s.time_zone)
        self.set_settings(s)
        self.status.setText(self.ctx.tr("Saved."))
