"""Records in the main window: the Today, Accounts, Contacts, Deals (board), Activities
and Payments tabs, the search box, the account page, the record dialogs, delete-with-undo,
CSV import and demo data (File menu), the Edit and View menus.

`install(window)` (desktop.ui.records) makes one `RecordsUi`, `window.records_ui`. It
builds its views into the window's tabs and stack whenever the window (re)builds them
(`window.built`, also after a language switch), and is the window's record navigator:
`window.open_record`, `current_record` and `focused_ids` come here.

Other features add a widget under the Today lists with `window.add_today_section(w)`
(again after each `built`), or, for a widget made anew each time the views are built,
`register_today_section(factory)` before the window is built.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from desktop.schema import ENTITIES
from desktop.ui.common.context import AppContext, OpHandle, OpProgress
from desktop.ui.common.icons import icon
from desktop.ui.common.window import MainWindow
from desktop.ui.records.account_page import AccountPage
from desktop.ui.records.deal_board import DealBoard
from desktop.ui.records.index_progress import IndexProgress
from desktop.ui.records.payment_form import PaymentDialog
from desktop.ui.records.payment_list import PaymentListView
from desktop.ui.records.record_dialog import RecordDialog
from desktop.ui.records.record_list import RecordListView
from desktop.ui.records.search_panel import SearchPanel
from desktop.ui.records.today_view import TodayView

if TYPE_CHECKING:
    from desktop.store import SearchHit, Store

SectionFactory = Callable[[AppContext, MainWindow], QWidget]
TODAY_SECTIONS: list[SectionFactory] = []
UNDO_SHOW_MS = 15000
DEMO_ACCOUNTS = 1000
TAB_ENTITIES = ("activity", "account", "contact", "deal", "activity", "payment")  # Ctrl+N
TAB_TITLES = ("Today", "Accounts", "Contacts", "Deals", "Activities", "Payments")
TAB_ICONS = ("today", "account", "contact", "deal", "activity", "payment")


def register_today_section(factory: SectionFactory) -> None:
    """Add a widget under the Today lists. The factory runs each time the window builds
    its views (also after a language switch)."""
    TODAY_SECTIONS.append(factory)


class RecordsUi(QObject):
    """The record views of one main window (`window.records_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.undo_stack: list[tuple[str, str, str]] = []  # entity, id, title
        self.last_import: Any = None
        self.toolbar: QToolBar | None = None
        self.search: SearchPanel | None = None
        self._stack: QStackedWidget | None = None  # the window's stack the page is in
        # the undo button lives in the status bar across language switches
        self.undo_button = QPushButton()
        self.undo_button.setObjectName("undo_button")
        self.undo_button.clicked.connect(self.undo_delete)
        self.undo_button.hide()
        window.statusBar().addPermanentWidget(self.undo_button)
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SHOW_MS)
        self._undo_timer.timeout.connect(self.undo_button.hide)
        window.records_ui = self
        self.index_progress = IndexProgress(window)  # "Preparing pinyin search: 62%"
        self.build()
        window.built.connect(self.build)
        if not window.isVisible():  # the window opens with the search box focused
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Show:
            self.window.removeEventFilter(self)
            if self.search is not None:
                self.search.box.setFocus()
        return False

    # ------------------------------------------------------------ building
    def build(self) -> None:
        """(Re)create the views, the search toolbar and the menus in the current language."""
        w, ctx, tr = self.window, self.ctx, self.ctx.tr
        reopen = None  # the account page on screen before a rebuild is shown again
        old_page: AccountPage | None = getattr(self, "account_page", None)
        if (self._stack is not None and old_page is not None and shiboken6.isValid(self._stack)
                and self._stack.currentWidget() is old_page):
            reopen = old_page.account_id
        self.undo_button.setText(tr("Undo"))
        if self.search is not None:
            self.search.deleteLater()
        self.search = SearchPanel(ctx)
        self.search.setParent(w)
        self.search.hit_activated.connect(self.open_hit)
        if self.toolbar is not None:
            w.removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
        self.toolbar = QToolBar(tr("Search"))
        self.toolbar.setObjectName("search_toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.search.box)
        w.addToolBar(self.toolbar)

        self.today = TodayView(ctx)
        for factory in TODAY_SECTIONS:
            self.today.add_section(factory(ctx, w))
        self.accounts = RecordListView(ctx, "account")
        self.contacts = RecordListView(ctx, "contact")
        self.board = DealBoard(ctx)
        self.board.stage_checks = w.stage_checks  # the window's list: features add to it
        self.activities = RecordListView(ctx, "activity")
        self.payments = PaymentListView(ctx)
        # Today scrolls rather than squeeze its lists when sections are added under them.
        today_scroll = QScrollArea()
        today_scroll.setObjectName("today_scroll")
        today_scroll.setWidgetResizable(True)
        today_scroll.setFrameShape(QFrame.Shape.NoFrame)
        today_scroll.setWidget(self.today)
        for widget, title, icon_name in zip((today_scroll, self.accounts, self.contacts,
                                             self.board, self.activities, self.payments),
                                            TAB_TITLES,
                                            TAB_ICONS, strict=True):
            w.tabs.addTab(widget, icon(icon_name), tr(title))
        for lst in (self.accounts, self.contacts, self.activities):
            lst.new_requested.connect(lambda e=lst.entity: self.new_record(e))
            lst.edit_requested.connect(lambda rec, e=lst.entity: self.edit_record(e, rec))
            lst.delete_requested.connect(lambda rec, e=lst.entity: self.delete_record(e, rec))
        self.payments.new_requested.connect(lambda: self.new_record("payment"))
        self.payments.edit_requested.connect(lambda rec: self.edit_record("payment", rec))
        self.payments.delete_requested.connect(lambda rec: self.delete_record("payment", rec))
        self.accounts.open_requested.connect(lambda rec: self.open_account(rec["id"]))
        self.board.edit_requested.connect(lambda rec: self.edit_record("deal", rec))
        self.board.delete_requested.connect(lambda rec: self.delete_record("deal", rec))
        self.today.record_requested.connect(self.edit_record)

        self.account_page = AccountPage(ctx)
        page = self.account_page
        page.back_requested.connect(w.show_tabs)
        page.edit_requested.connect(lambda rec: self.edit_record("account", rec))
        page.delete_requested.connect(lambda rec: self.delete_record("account", rec))
        page.new_requested.connect(lambda e, preset: self.new_record(e, preset))
        page.record_requested.connect(self.edit_record)
        w.stack.addWidget(page)
        self._stack = w.stack
        w.central_layout.insertWidget(0, self.search.results)
        self._build_menus()
        if reopen:
            self.open_account(reopen)

    def _build_menus(self) -> None:
        w = self.window
        file = w.menu("&File")
        first = file.actions()[0]  # Settings…: New, Import and Demo go above it
        for action in (
                w.make_action("new", "New…", self.new_for_current_view,
                              QKeySequence.StandardKey.New),
                w.make_action("import", "Import accounts from CSV…", self.choose_csv),
                w.make_action("demo", "Add demo data (1,000 accounts)", self.add_demo_data)):
            file.insertAction(first, action)
        edit = w.menu("&Edit")
        edit.addAction(w.make_action("undo", "Undo delete", self.undo_delete,
                                     QKeySequence.StandardKey.Undo))
        delete = w.make_action("delete", "Delete", self.delete_selected,
                               QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        edit.addAction(delete)
        w.stack.addAction(delete)
        edit.addAction(w.make_action("find", "Search", self.focus_search,
                                     QKeySequence.StandardKey.Find))
        view = w.menu("&View")
        for i, title in enumerate(TAB_TITLES):
            view.addAction(w.make_action(f"tab{i + 1}", title, partial(w.show_tab, i),
                                         f"Ctrl+{i + 1}"))
        view.addSeparator()
        view.addAction(w.make_action("refresh", "Refresh", self.refresh,
                                     QKeySequence.StandardKey.Refresh))
        bar = w.main_toolbar
        if bar is not None:  # the window's toolbar: places, then New and Refresh
            for i in (0, 1, 3):
                action = w.actions_by_name[f"tab{i + 1}"]
                action.setIcon(icon(TAB_ICONS[i]))
                bar.addAction(action)
            bar.addSeparator()
            for name, icon_name in (("new", "add"), ("refresh", "refresh")):
                w.actions_by_name[name].setIcon(icon(icon_name))
                bar.addAction(w.actions_by_name[name])

    # ------------------------------------------------------------ navigation
    def focus_search(self) -> None:
        assert self.search is not None
        self.search.box.setFocus()
        self.search.box.selectAll()

    def open_account(self, account_id: str) -> None:
        self.account_page.show_account(account_id)
        self.window.stack.setCurrentWidget(self.account_page)

    def showing_account_page(self) -> bool:
        return self.window.stack.currentWidget() is self.account_page

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
        if self.showing_account_page():
            self.account_page.reload()
            return
        widget = self.window.tabs.currentWidget()
        if widget is not None and widget.objectName() == "today_scroll":
            widget = self.today
        reload = getattr(widget, "refresh", None)
        if callable(reload):
            reload()

    def current_view_entity(self) -> str:
        if self.showing_account_page():
            return "activity"
        index = self.window.tabs.currentIndex()
        return TAB_ENTITIES[index] if 0 <= index < len(TAB_ENTITIES) else "account"

    # ------------------------------------------------------------ records
    def new_for_current_view(self) -> None:
        preset = None
        if self.showing_account_page() and self.account_page.account_id:
            preset = {"account_id": self.account_page.account_id}
        self.new_record(self.current_view_entity(), preset)

    def new_record(self, entity: str,
                   preset: dict[str, Any] | None = None) -> RecordDialog | PaymentDialog:
        if entity == "payment":
            return self._show_payment(PaymentDialog(self.ctx, None, self.window, preset=preset))
        return self._show_dialog(RecordDialog(self.ctx, entity, None, self.window, preset=preset))

    def edit_record(self, entity: str, rec: dict[str, Any]) -> RecordDialog | PaymentDialog:
        if entity == "payment":
            return self._show_payment(PaymentDialog(self.ctx, rec, self.window))
        return self._show_dialog(RecordDialog(self.ctx, entity, rec, self.window))

    def _show_payment(self, dlg: PaymentDialog) -> PaymentDialog:
        """The payment form: finance and admin write, others read it."""
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.saved.connect(lambda _rec: self.window.show_message(self.ctx.tr("Payment saved.")))
        self.window.dialog = dlg
        dlg.open()
        return dlg

    def _show_dialog(self, dlg: RecordDialog) -> RecordDialog:
        if dlg.ent.name == "deal":
            dlg.stage_checks = tuple(self.board.stage_checks)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.saved.connect(lambda rec: self.window.show_message(
            self.ctx.tr("Saved “{title}”.", title=rec.get(dlg.ent.title_field) or "")))
        dlg.delete_requested.connect(lambda rec: self.delete_record(dlg.ent.name, rec))
        self.window.dialog = dlg
        dlg.open()
        return dlg

    def current_record(self) -> tuple[str, dict[str, Any]] | None:
        """(entity, record) selected in the view on screen, if any."""
        if self.showing_account_page():
            acc = self.account_page.data.get("account")
            return ("account", acc) if acc else None
        widget = self.window.tabs.currentWidget()
        if isinstance(widget, RecordListView | PaymentListView):
            rec = widget.current_record()
            return (widget.entity, rec) if rec else None
        if widget is self.board:
            rec = self.board.current_record()
            return ("deal", rec) if rec else None
        return None

    def focused_ids(self) -> tuple[str | None, str | None]:
        """(deal id, account id) of what the rep is looking at: a deal open in its
        dialog, the account page on screen (its record may still be loading), or the
        record selected in the current view."""
        dialog = self.window.dialog
        if (isinstance(dialog, RecordDialog) and shiboken6.isValid(dialog)
                and dialog.isVisible() and dialog.ent.name == "deal" and dialog.record):
            return dialog.record["id"], dialog.record.get("account_id")
        if self.showing_account_page() and self.account_page.account_id:
            return None, self.account_page.account_id
        current = self.current_record()
        if current is None:
            return None, None
        entity, rec = current
        if entity == "deal":
            return rec["id"], rec.get("account_id")
        if entity == "account":
            return None, rec["id"]
        return None, rec.get("account_id")

    def add_today_section(self, widget: QWidget) -> None:
        self.today.add_section(widget)

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
                self.window.show_tabs()
            self.window.show_message(self.ctx.tr(
                "Deleted “{title}”. Press Undo (Ctrl+Z) to bring it back.", title=title))
            self.undo_button.show()
            self._undo_timer.start()

        self.ctx.run(lambda store: store.repo(entity).delete(rid), on_done=deleted,
                     initiator=self.window)

    def undo_delete(self) -> None:
        if not self.undo_stack:
            self.window.show_message(self.ctx.tr("Nothing to undo."))
            return
        entity, rid, title = self.undo_stack.pop()
        if not self.undo_stack:
            self.undo_button.hide()

        def restored(_rec: object) -> None:
            self.window.show_message(self.ctx.tr("Restored “{title}”.", title=title))

        self.ctx.run(lambda store: store.repo(entity).restore(rid), on_done=restored,
                     initiator=self.window)

    # ------------------------------------------------------------ long work
    def add_demo_data(self, accounts: int = DEMO_ACCOUNTS) -> OpHandle:
        lang = "zh" if self.ctx.lang.startswith("zh") else "en"  # demo data in the UI's

        def op(store: Store, progress: OpProgress) -> dict[str, int]:
            from desktop.demo_op import add_demo

            return add_demo(store, progress, accounts, lang=lang)

        def done(counts: dict[str, int]) -> None:
            self.window.show_message(self.ctx.tr("Added {n} demo accounts.",
                                                 n=counts["accounts"]))

        return self.ctx.run_long(op, self.ctx.tr("Adding demo data"), on_done=done)

    def choose_csv(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _filter = QFileDialog.getOpenFileName(
            self.window, self.ctx.tr("Import accounts from CSV…"), "", "CSV (*.csv)")
        if path:
            self.import_csv(Path(path))

    def import_csv(self, path: Path) -> OpHandle:
        """Import accounts from a CSV file in the background (progress, cancel)."""
        def op(store: Store, progress: OpProgress) -> Any:
            from desktop.importing import import_csv

            return import_csv(store, progress, path)

        def done(result: Any) -> None:
            tr = self.ctx.tr
            text = tr("Imported {n} accounts.", n=f"{result.imported:,}")
            if result.skipped_count:
                line, reason = result.skipped[0]
                text += " " + tr("Skipped {n} rows (first: line {line}: {reason}).",
                                 n=result.skipped_count, line=line, reason=reason)
            self.last_import = result
            self.window.show_message(text)

        return self.ctx.run_long(op, self.ctx.tr("Importing accounts"), on_done=done)
