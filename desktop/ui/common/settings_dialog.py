"""Settings: the UI language (follow the system, English, 中文)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.context import AppContext


class SettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("settings_dialog")
        self.setWindowTitle(ctx.tr("Settings"))
        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem(ctx.tr("Follow the system"), "auto")
        self.language.addItem("English", "en")
        self.language.addItem("中文（简体）", "zh")
        self.language.setCurrentIndex(max(self.language.findData(ctx.settings.language), 0))
        profile = QLabel(str(ctx.profile))
        profile.setWordWrap(True)
        form = QFormLayout()
        form.addRow(ctx.tr("Language"), self.language)
        form.addRow(ctx.tr("Profile folder"), profile)
        note = QLabel(ctx.tr("Your data stays on this computer; it is sent to your company's "
                             "server only when you sync."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #666;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ctx.tr("OK"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(ctx.tr("Cancel"))
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.resize(460, 220)

    def apply(self) -> None:
        self.ctx.set_language(str(self.language.currentData()))
        self.accept()
