"""The Custom fields menu entry and its window (desktop.ui.fields)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.window import MainWindow
from desktop.ui.fields.page import FieldsPage

register_catalog({"Custom fields…": "自定义字段…", "Custom fields": "自定义字段"})


class FieldsUi(QObject):
    """Custom fields mounted in one main window (`window.fields_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.page: FieldsPage | None = None
        self.action = QAction(window)
        self.action.setObjectName("fields_page")
        self.action.triggered.connect(lambda _checked=False: self.show_page())
        self.mount()
        window.built.connect(self.mount)
        window.closing.connect(self.shutdown)

    def mount(self) -> None:
        self.action.setText(self.ctx.tr("Custom fields…"))
        self.window.menu("&File").addAction(self.action)
        if self.page is not None:
            self.page.setWindowTitle(self.ctx.tr("Custom fields"))

    def show_page(self) -> FieldsPage:
        if self.page is None:
            self.page = FieldsPage(self.ctx)
            self.page.setWindowTitle(self.ctx.tr("Custom fields"))
            self.page.resize(980, 480)
        self.page.show()
        self.page.raise_()
        self.page.activateWindow()
        self.page.reload()
        return self.page

    def shutdown(self) -> None:
        if self.page is not None:
            self.page.close()
