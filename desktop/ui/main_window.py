"""The main window: Today, Accounts, Contacts, Deals (board), Activities, the search
box, the account page, delete-with-undo, progress of long work, shortcuts.

Other UI modules can add tabs with `register_tab(title_en, factory)` before the window
is built (see desktop.ui.app: modules named desktop/ui/ext_*.py are imported and their
`install(window)` is called), and widgets to the status bar with
`window.statusBar().addPermanentWidget(w)`.

An extension installed after the window was built hooks two signals: `built` (menus and
views were just rebuilt, e.g. after a language switch: add your menu and Today section
again; `build()` clears the menu bar) and `closing` (the window is closing and the store
is about to shut down: stop your timers and threads).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop.schema import ENTITIES
from desktop.ui.account_page import AccountPage
from desktop.ui.context import AppContext, OpHandle, OpProgress
from desktop.ui.deal_board import DealBoard
from desktop.ui.record_dialog import RecordDialog
from desktop.ui.record_list import RecordListView
from desktop.ui.search_panel import SearchPanel
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.today_view import TodayView

if TYPE_CHECKING:
    from desktop.store import SearchHit, Store

TabFactory = Callable[[AppContext, "MainWindow"], QWidget]
EXTRA_TABS: list[tuple[str, TabFactory]] = []
TODAY_SECTIONS: list[TabFactory] = []
UNDO_SHOW_MS = 15000
DEMO_ACCOUNTS = 1000
TAB_ENTITIES = ("activity", "account", "contact", "deal", "activity")  # Ctrl+N per tab


def register_tab(title_en: str, factory: TabFactory) -> None:
    """Add a tab after the five built-in ones (title translated via the catalog)."""
    EXTRA_TABS.append((title_en, factory))


def register_today_section(factory: TabFactory) -> None:
    """Add a widget under the Today lists (e.g. the follow-up panel). The factory runs
    each time the window builds its views (also after a language switch)."""
    TODAY_SECTIONS.append(factory)


class MainWindow(QMainWindow):
    built = Signal()  # menus and views were (re)built; extensions add theirs again
    closing = Signal()  # before the store shuts down; extensions stop their work

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("main_window")
        self.resize(1280, 800)
        self.dialog: QWidget | None = None  # the dialog opened last (tests look at it)
        self.undo_stack: list[tuple[str, str, str]] = []  # entity, id, title
        self.long_op: OpHandle | None = None
        self.last_import: Any = None

        # status bar widgets live across language switches
        self.undo_button = QPushButton()
        self.undo_button.setObjectName("undo_button")
        self.undo_button.clicked.connect(self.undo_delete)
        self.undo_button.hide()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.cancel_long_op)
        self.cancel_button.hide()
        bar = self.statusBar()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.undo_button)
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SHOW_MS)
        self._undo_timer.timeout.connect(self.undo_button.hide)

        ctx.error_shown.connect(self.show_message)
        ctx.store_failed.connect(self._store_failed)
        ctx.language_changed.connect(self.rebuild)
        ctx.op_started.connect(self._op_started)
        ctx.op_finished.connect(self._op_finished)
        ctx.progress_changed.connect(self._op_progress)
        self.toolbar: QToolBar | None = None
        self.build()

    # ------------------------------------------------------------ building
    def build(self) -> None:
        """(Re)create menus, toolbar and views in the current language."""
        ctx, tr = self.ctx, self.ctx.tr
        self.setWindowTitle(tr("FieldCRM"))
        self.undo_button.setText(tr("Undo"))
        self.cancel_button.setText(tr("Cancel"))

        old_search = getattr(self, "search", None)
        if old_search is not None:
            old_search.deleteLater()
        self.search = SearchPanel(ctx)
        self.search.setParent(self)
        self.search.hit_activated.connect(self.open_hit)
        if self.toolbar is not None:
            self.removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
        self.toolbar = QToolBar(tr("Search"))
        self.toolbar.setObjectName("search_toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.search.box)
        self.addToolBar(self.toolbar)

        self.today = TodayView(ctx)
        for factory in TODAY_SECTIONS:
            self.today.add_section(factory(ctx, self))
        self.accounts = RecordListView(ctx, "account")
        self.contacts = RecordListView(ctx, "contact")
        self.board = DealBoard(ctx)
        self.activities = RecordListView(ctx, "activity")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        # Today scrolls rather than squeeze its lists when sections are added under them.
        today_scroll = QScrollArea()
        today_scroll.setObjectName("today_scroll")
        today_scroll.setWidgetResizable(True)
        today_scroll.setFrameShape(QFrame.Shape.NoFrame)
        today_scroll.setWidget(self.today)
        for widget, title in ((today_scroll, "Today"), (self.accounts, "Accounts"),
                              (self.contacts, "Contacts"), (self.board, "Deals"),
                              (self.activities, "Activities")):
            self.tabs.addTab(widget, tr(title))
        for title, factory in EXTRA_TABS:
            self.tabs.addTab(factory(ctx, self), tr(title))
        for lst in (self.accounts, self.contacts, self.activities):
            lst.new_requested.connect(lambda e=lst.entity: self.new_record(e))
            lst.edit_requested.connect(lambda rec, e=lst.entity: self.edit_record(e, rec))
            lst.delete_requested.connect(lambda rec, e=lst.entity: self.delete_record(e, rec))
        self.accounts.open_requested.connect(lambda rec: self.open_account(rec["id"]))
        self.board.edit_requested.connect(lambda rec: self.edit_record("deal", rec))
        self.board.delete_requested.connect(lambda rec: self.delete_record("deal", rec))
        self.today.record_requested.connect(self.edit_record)

        self.account_page = AccountPage(ctx)
        self.account_page.back_requested.connect(self.show_tabs)
        self.account_page.edit_requested.connect(lambda rec: self.edit_record("account", rec))
        self.account_page.delete_requested.connect(lambda rec: self.delete_record("account", rec))
        self.account_page.new_requested.connect(lambda e, preset: self.new_record(e, preset))
        self.account_page.record_requested.connect(self.edit_record)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.account_page)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.search.results)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)  # deletes the previous central widget
        self._build_menus()
        if ctx.open_error:
            self._store_failed(ctx.open_error)
        self.built.emit()

    def _build_menus(self) -> None:
        tr = self.ctx.tr
        bar = self.menuBar()
        bar.clear()
        self.actions_by_name: dict[str, QAction] = {}

        def act(menu: Any, name: str, text: str, slot: Callable[[], Any],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None) -> QAction:
            a = QAction(tr(text), self)
            a.setObjectName(name)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(lambda _checked=False: slot())
            menu.addAction(a)
            self.actions_by_name[name] = a
            return a

        file = bar.addMenu(tr("&File"))
        act(file, "new", "New…", self.new_for_current_view, QKeySequence.StandardKey.New)
        act(file, "import", "Import accounts from CSV…", self.choose_csv)
        act(file, "demo", "Add demo data (1,000 accounts)", self.add_demo_data)
        act(file, "settings", "Settings…", self.open_settings, "Ctrl+,")
        file.addSeparator()
        act(file, "quit", "Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu(tr("&Edit"))
        act(edit, "undo", "Undo delete", self.undo_delete, QKeySequence.StandardKey.Undo)
        delete = act(edit, "delete", "Delete", self.delete_selected, QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.stack.addAction(delete)
        act(edit, "find", "Search", self.focus_search, QKeySequence.StandardKey.Find)
        view = bar.addMenu(tr("&View"))
        for i, title in enumerate(("Today", "Accounts", "Contacts", "Deals", "Activities")):
            act(view, f"tab{i + 1}", title, partial(self.show_tab, i), f"Ctrl+{i + 1}")
        view.addSeparator()
        act(view, "refresh", "Refresh", self.refresh, QKeySequence.StandardKey.Refresh)

    def rebuild(self) -> None:
        """After a language switch: rebuild the views, keep the place."""
        index = self.tabs.currentIndex()
        account = self.account_page.account_id if self.stack.currentWidget() is self.account_page else None
        self.build()
        self.tabs.setCurrentIndex(index)
        if account:
            self.open_account(account)

    # ------------------------------------------------------------ navigation
    def show_tab(self, index: int) -> None:
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentIndex(index)

    def show_tabs(self) -> None:
        self.stack.setCurrentWidget(self.tabs)

    def focus_search(self) -> None:
        self.search.box.setFocus()
        self.search.box.selectAll()

    def open_account(self, account_id: str) -> None:
        self.account_page.show_account(account_id)
        self.stack.setCurrentWidget(self.account_page)

    def open_hit(self, hit: SearchHit) -> None:
        if hit.entity == "account":
            self.open_account(hit.id)
            return

        def op(store: Store) -> dict[str, Any]:
            return store.repo(hit.entity).get(hit.id)

        def opened(rec: dict[str, Any]) -> None:
            if rec.get("account_id"):
                self.open_account(rec["account_id"])
            self.edit_record(hit.entity, rec)

        self.ctx.run(op, on_done=opened)

    def open_record(self, entity: str, record_id: str) -> None:
        """Show any record: an account's page, or the edit dialog of anything else."""
        if entity == "account":
            self.open_account(record_id)
            return
        def opened(rec: dict[str, Any]) -> None:
            self.edit_record(entity, rec)

        self.ctx.run(lambda store: store.repo(entity).get(record_id), on_done=opened)

    def refresh(self) -> None:
        if self.stack.currentWidget() is self.account_page:
            self.account_page.reload()
            return
        widget = self.tabs.currentWidget()
        if widget is not None and widget.objectName() == "today_scroll":
            widget = self.today
        reload = getattr(widget, "refresh", None)
        if callable(reload):
            reload()

    def current_view_entity(self) -> str:
        if self.stack.currentWidget() is self.account_page:
            return "activity"
        index = self.tabs.currentIndex()
        return TAB_ENTITIES[index] if index < len(TAB_ENTITIES) else "account"

    # ------------------------------------------------------------ records
    def new_for_current_view(self) -> None:
        preset = None
        if self.stack.currentWidget() is self.account_page and self.account_page.account_id:
            preset = {"account_id": self.account_page.account_id}
        self.new_record(self.current_view_entity(), preset)

    def new_record(self, entity: str, preset: dict[str, Any] | None = None) -> RecordDialog:
        dlg = RecordDialog(self.ctx, entity, None, self, preset=preset)
        return self._show_dialog(dlg)

    def edit_record(self, entity: str, rec: dict[str, Any]) -> RecordDialog:
        dlg = RecordDialog(self.ctx, entity, rec, self)
        return self._show_dialog(dlg)

    def _show_dialog(self, dlg: RecordDialog) -> RecordDialog:
        if dlg.ent.name == "deal":
            dlg.stage_checks = tuple(self.board.stage_checks)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.saved.connect(lambda rec: self.show_message(
            self.ctx.tr("Saved “{title}”.", title=rec.get(dlg.ent.title_field) or "")))
        dlg.delete_requested.connect(lambda rec: self.delete_record(dlg.ent.name, rec))
        self.dialog = dlg
        dlg.open()
        return dlg

    def current_record(self) -> tuple[str, dict[str, Any]] | None:
        if self.stack.currentWidget() is self.account_page:
            acc = self.account_page.data.get("account")
            return ("account", acc) if acc else None
        widget = self.tabs.currentWidget()
        if isinstance(widget, RecordListView):
            rec = widget.current_record()
            return (widget.entity, rec) if rec else None
        if widget is self.board:
            rec = self.board.current_record()
            return ("deal", rec) if rec else None
        return None

    def delete_selected(self) -> None:
        current = self.current_record()
        if current is not None:
            self.delete_record(*current)

    def delete_record(self, entity: str, rec: dict[str, Any]) -> None:
        rid = rec["id"]
        title = str(rec.get(ENTITIES[entity].title_field) or "")

        def deleted(_result: object) -> None:
            self.undo_stack.append((entity, rid, title))
            if entity == "account" and self.account_page.account_id == rid:
                self.show_tabs()
            self.show_message(self.ctx.tr("Deleted “{title}”. Press Undo (Ctrl+Z) to bring it back.",
                                          title=title))
            self.undo_button.show()
            self._undo_timer.start()

        self.ctx.run(lambda store: store.repo(entity).delete(rid), on_done=deleted, initiator=self)

    def undo_delete(self) -> None:
        if not self.undo_stack:
            self.show_message(self.ctx.tr("Nothing to undo."))
            return
        entity, rid, title = self.undo_stack.pop()
        if not self.undo_stack:
            self.undo_button.hide()

        def restored(_rec: object) -> None:
            self.show_message(self.ctx.tr("Restored “{title}”.", title=title))

        self.ctx.run(lambda store: store.repo(entity).restore(rid), on_done=restored, initiator=self)

    # ------------------------------------------------------------ long work
    def add_demo_data(self, accounts: int = DEMO_ACCOUNTS) -> OpHandle:
        def op(store: Store, progress: OpProgress) -> dict[str, int]:
            from desktop.ui.demo_op import add_demo

            return add_demo(store, progress, accounts)

        def done(counts: dict[str, int]) -> None:
            self.show_message(self.ctx.tr("Added {n} demo accounts.", n=counts["accounts"]))

        return self.ctx.run_long(op, self.ctx.tr("Adding demo data"), on_done=done)

    def choose_csv(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _filter = QFileDialog.getOpenFileName(
            self, self.ctx.tr("Import accounts from CSV…"), "", "CSV (*.csv)")
        if path:
            self.import_csv(Path(path))

    def import_csv(self, path: Path) -> OpHandle:
        """Import accounts from a CSV file in the background (progress, cancel)."""
        def op(store: Store, progress: OpProgress) -> Any:
            from desktop.ui.import_op import import_csv

            return import_csv(store, progress, path)

        def done(result: Any) -> None:
            text = self.ctx.tr("Imported {n} accounts.", n=f"{result.imported:,}")
            if result.skipped_count:
                line, reason = result.skipped[0]
                text += " " + self.ctx.tr("Skipped {n} rows (first: line {line}: {reason}).",
                                          n=result.skipped_count, line=line, reason=reason)
            self.last_import = result
            self.show_message(text)

        return self.ctx.run_long(op, self.ctx.tr("Importing accounts"), on_done=done)

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
        self.statusBar().showMessage(text, UNDO_SHOW_MS)

    def _store_failed(self, message: str) -> None:
        label = QLabel(self.ctx.tr("FieldCRM cannot open your data.") + "\n\n" + message)
        label.setObjectName("store_error")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("font-size: 16px; color: #c62828; padding: 40px;")
        self.setCentralWidget(label)

    def open_settings(self) -> SettingsDialog:
        dlg = SettingsDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dlg
        dlg.open()
        return dlg

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        self.ctx.shutdown()
        super().closeEvent(event)
