"""`MainWindow`: the frame every feature is mounted in (see desktop.ui.features).

The window itself knows no feature. It owns the menu bar (File ▸ Settings…, Quit), the
status bar with the progress and Cancel of long work (`ctx.run_long`), the tabs and the
page stack, and two signals:

* `built`: menus and views were just (re)built, at start and after a language switch.
  `build()` clears the menu bar and makes new tabs and stack, so a feature connects to
  `built` and adds its menu, tabs, pages and Today sections again;
* `closing`: the window is closing and the store is about to shut down: stop timers
  and threads.

Features reach each other only through the window: `open_record(entity, id)`,
`current_record()`, `focused_ids()` and `add_today_section(widget)` are answered by the
record navigator (the records feature registers itself as `window.records_ui`), and
`stage_checks` is the list of pipeline checks the deal board applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.context import AppContext, OpHandle
from desktop.ui.common.settings_dialog import SettingsDialog

MESSAGE_SHOW_MS = 15000
Shortcut = QKeySequence | QKeySequence.StandardKey | str | None
StageCheck = Callable[..., Any]


class RecordNavigator(Protocol):
    """What the window asks of the feature that shows records (desktop.ui.records)."""

    def open_record(self, entity: str, record_id: str) -> None: ...
    def current_record(self) -> tuple[str, dict[str, Any]] | None: ...
    def focused_ids(self) -> tuple[str | None, str | None]: ...
    def add_today_section(self, widget: QWidget) -> None: ...


class MainWindow(QMainWindow):
    built = Signal()  # menus and views were (re)built; features add theirs again
    closing = Signal()  # before the store shuts down; features stop their work

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("main_window")
        self.resize(1280, 800)
        self.dialog: QWidget | None = None  # the dialog opened last (tests look at it)
        self.long_op: OpHandle | None = None
        self.records_ui: RecordNavigator | None = None
        # each feature's object in this window, once mounted (scripts and tests use them)
        self.capture_ui: QObject | None = None
        self.sync_ui: QObject | None = None
        self.followup_ui: QObject | None = None
        self.fields_ui: QObject | None = None
        self.leads_ui: QObject | None = None
        self.reports_ui: QObject | None = None
        self.stage_checks: list[StageCheck] = []  # the deal board's pipeline checks
        self.actions_by_name: dict[str, QAction] = {}
        self._menus: dict[str, QMenu] = {}
        self.main_toolbar: QToolBar | None = None  # features add their icon actions

        # status bar widgets live across language switches
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.cancel_long_op)
        self.cancel_button.hide()
        bar = self.statusBar()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

        ctx.error_shown.connect(self.show_message)
        ctx.store_failed.connect(self._store_failed)
        ctx.store_opening.connect(self._store_opening)
        ctx.store_ready.connect(self._store_opened)
        ctx.language_changed.connect(self.rebuild)
        ctx.op_started.connect(self._op_started)
        ctx.op_finished.connect(self._op_finished)
        ctx.progress_changed.connect(self._op_progress)
        self.build()

    # ------------------------------------------------------------ building
    def build(self) -> None:
        """(Re)create the menu bar, tabs and stack in the current language; then
        `built` lets every feature add its own."""
        tr = self.ctx.tr
        self.setWindowTitle(tr("FieldCRM"))
        self.cancel_button.setText(tr("Cancel"))
        self.menuBar().clear()
        self._menus = {}
        self.actions_by_name = {}
        file = self.menu("&File")
        file.addAction(self.make_action("settings", "Settings…", self.open_settings, "Ctrl+,"))
        file.addSeparator()
        file.addAction(self.make_action("quit", "Quit", self.close, QKeySequence.StandardKey.Quit))
        if self.main_toolbar is not None:
            self.removeToolBar(self.main_toolbar)
            self.main_toolbar.deleteLater()
        self.main_toolbar = QToolBar(tr("Toolbar"))
        self.main_toolbar.setObjectName("main_toolbar")
        self.main_toolbar.setMovable(False)
        self.main_toolbar.setIconSize(QSize(18, 18))
        self.main_toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(self.main_toolbar)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        central = QWidget()
        # the stack, and above it what features insert (the search results)
        self.central_layout = QVBoxLayout(central)
        self.central_layout.setContentsMargins(6, 0, 6, 0)
        self.central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)  # deletes the previous central widget
        self.built.emit()
        if self.ctx.open_error:
            self._store_failed(self.ctx.open_error)

    def menu(self, title_en: str) -> QMenu:
        """The menu-bar menu with this (English) title, added at the end if new."""
        menu = self._menus.get(title_en)
        if menu is None:
            menu = self.menuBar().addMenu(self.ctx.tr(title_en))
            self._menus[title_en] = menu
        return menu

    def make_action(self, name: str, text: str, slot: Callable[[], Any],
                    shortcut: Shortcut = None) -> QAction:
        """An action named `name` (in `actions_by_name` until the next build)."""
        a = QAction(self.ctx.tr(text), self)
        a.setObjectName(name)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(lambda _checked=False: slot())
        self.actions_by_name[name] = a
        return a

    def rebuild(self) -> None:
        """After a language switch: rebuild the views, keep the place."""
        index = self.tabs.currentIndex()
        self.build()
        self.tabs.setCurrentIndex(index)

    # ------------------------------------------------------------ navigation
    def show_tab(self, index: int) -> None:
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentIndex(index)

    def show_tabs(self) -> None:
        self.stack.setCurrentWidget(self.tabs)

    def open_record(self, entity: str, record_id: str) -> None:
        """Show any record: an account's page, or the edit dialog of anything else."""
        if self.records_ui is not None:
            self.records_ui.open_record(entity, record_id)

    def current_record(self) -> tuple[str, dict[str, Any]] | None:
        """(entity, record) selected in the view on screen, if any."""
        return None if self.records_ui is None else self.records_ui.current_record()

    def focused_ids(self) -> tuple[str | None, str | None]:
        """(deal id, account id) of what the rep is looking at."""
        return (None, None) if self.records_ui is None else self.records_ui.focused_ids()

    def add_today_section(self, widget: QWidget) -> None:
        """Put `widget` under the Today lists (again after each `built`)."""
        if self.records_ui is not None:
            self.records_ui.add_today_section(widget)

    # ------------------------------------------------------------ long work
    def cancel_long_op(self) -> None:
        if self.long_op is not None:
            self.long_op.cancel()

    def _op_started(self, op: OpHandle) -> None:
        self.long_op = op
        self.progress.setRange(0, 0)
        self.progress.setFormat(op.label)
        self.progress.show()
        self.cancel_button.show()

    def _op_progress(self, op: OpHandle, done: int, total: int, _text: str) -> None:
        if op is self.long_op and total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _op_finished(self, op: OpHandle) -> None:
        if op is self.long_op:
            self.long_op = None
            self.progress.hide()
            self.cancel_button.hide()
            if op.cancel_requested:
                self.show_message(self.ctx.tr("Stopped. What was already added is kept."))

    # ------------------------------------------------------------ messages
    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, MESSAGE_SHOW_MS)

    def _store_opening(self, _phase: str, percent: int) -> None:
        """The store is being encrypted (or re-encrypted) before it opens: a big book
        takes a minute, so say what is happening and how far."""
        if self.long_op is not None:
            return
        self.progress.setRange(0, 100)
        self.progress.setValue(percent)
        self.progress.show()
        self.statusBar().showMessage(
            self.ctx.tr("Encrypting your local data: {percent}%", percent=percent))

    def _store_opened(self) -> None:
        if self.long_op is None and self.progress.isVisible():
            self.progress.hide()
            self.statusBar().clearMessage()

    def _store_failed(self, message: str) -> None:
        self._store_opened()
        label = QLabel(self.ctx.tr("FieldCRM cannot open your data.") + "\n\n" + message)
        label.setObjectName("store_error")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("font-size: 16px; color: #c62828; padding: 40px;")
        self.setCentralWidget(label)

    def open_settings(self, page: str | None = None) -> SettingsDialog:
        """Settings, on the tab of `page` (a key of register_settings_page) if given."""
        dlg = SettingsDialog(self.ctx, self, page=page)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dlg
        dlg.open()
        return dlg

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        self.ctx.shutdown()
        super().closeEvent(event)
