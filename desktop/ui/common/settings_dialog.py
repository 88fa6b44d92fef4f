"""Settings: the UI language (follow the system, English, 中文), and the pages features
add (`register_settings_page`, e.g. the capture feature's Speech models), one tab each.
A feature's page acts at once (it has no OK of its own); OK applies the general tab."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.context import AppContext

PageFactory = Callable[[AppContext, QWidget], QWidget]
# key -> (title in English, translated by ctx.tr; factory), in the order registered
SETTINGS_PAGES: dict[str, tuple[str, PageFactory]] = {}


def register_settings_page(key: str, title: str, factory: PageFactory) -> None:
    """Add a tab to Settings: `factory(ctx, parent)` builds it each time the dialog opens
    (register `title`'s Chinese with register_catalog)."""
    SETTINGS_PAGES[key] = (title, factory)


class SettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 page: str | None = None) -> None:
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
        general = QWidget()
        gv = QVBoxLayout(general)
        gv.addLayout(form)
        gv.addWidget(note)
        gv.addStretch(1)
        layout = QVBoxLayout(self)
        self.pages: dict[str, QWidget] = {}
        self.tabs: QTabWidget | None = None
        if SETTINGS_PAGES:
            self.tabs = QTabWidget()
            self.tabs.setObjectName("settings_tabs")
            self.tabs.addTab(general, ctx.tr("General"))
            for key, (title, factory) in SETTINGS_PAGES.items():
                widget = factory(ctx, self)
                widget.setObjectName(f"settings_page_{key}")
                self.pages[key] = widget
                self.tabs.addTab(widget, ctx.tr(title))
                if key == page:
                    self.tabs.setCurrentWidget(widget)
            layout.addWidget(self.tabs, 1)
            self.resize(760, 560)
        else:
            layout.addWidget(general, 1)
            self.resize(460, 220)
        layout.addWidget(buttons)

    def apply(self) -> None:
        self.ctx.set_language(str(self.language.currentData()))
        self.accept()
