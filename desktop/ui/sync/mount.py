"""Mount sync in the main window: `install(window)` (desktop.ui.sync calls it once the
store is open) adds the status-bar item, the new-version banner, a "Sync" menu (Sign in…,
Sync now, Conflicts…, Sync problems…) and starts the engine when the profile is signed in.
The engine is stopped when the window closes."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.window import MainWindow
from desktop.ui.sync.conflicts import ConflictsView
from desktop.ui.sync.login import LoginDialog
from desktop.ui.sync.problems import SyncProblemsView
from desktop.ui.sync.status import SyncController, SyncStatusWidget
from desktop.ui.sync.update_banner import UpdateBanner

register_catalog({"&Sync": "同步(&S)", "Sign in…": "登录…", "Conflicts…": "冲突…",
                  "Sync problems…": "同步问题…"})


class SyncUi(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        ctx = window.ctx
        self.ctx = ctx
        self.controller = SyncController(ctx)
        self.status = SyncStatusWidget(ctx, self.controller)
        window.statusBar().addPermanentWidget(self.status)
        self.banner = UpdateBanner(ctx, window)  # a newer FieldCRM exists (or is required)
        self.controller.status_changed.connect(self.banner.show_status)
        self._views: dict[str, QWidget] = {}
        tr = ctx.tr
        menu = window.menuBar().addMenu(tr("&Sync"))
        self.actions: dict[str, QAction] = {}
        for name, text, slot in (
                ("sync_login", "Sign in…", self.sign_in),
                ("sync_now", "Sync now", self.controller.sync_now),
                ("sync_conflicts", "Conflicts…", lambda: self.show_view("conflicts")),
                ("sync_problems", "Sync problems…", lambda: self.show_view("problems"))):
            a = QAction(tr(text), window)
            a.setObjectName(name)
            a.triggered.connect(lambda _checked=False, s=slot: s())
            menu.addAction(a)
            self.actions[name] = a
        window.destroyed.connect(self.controller.shutdown)

    def sign_in(self) -> LoginDialog:
        dlg = LoginDialog(self.ctx, self.window)
        dlg.signed_in.connect(lambda _account: self.controller.start())
        dlg.open()
        return dlg

    def show_view(self, which: str) -> QWidget:
        view = self._views.get(which)
        if view is None:
            kind = ConflictsView if which == "conflicts" else SyncProblemsView
            view = kind(self.ctx, self.controller)
            view.setWindowTitle(
                self.ctx.tr("Conflicts" if which == "conflicts" else "Sync problems"))
            view.resize(820, 480)
            self._views[which] = view
        else:
            view.refresh()  # type: ignore[attr-defined]
        view.show()
        view.raise_()
        return view

    def shutdown(self) -> None:
        self.controller.shutdown()
        # The views are top-level windows owned by this object, not by Qt: delete them
        # here, while Qt still runs, rather than leave them to the interpreter's exit.
        for v in self._views.values():
            v.close()
            v.deleteLater()
        self._views.clear()


def install(window: MainWindow) -> SyncUi:
    ui = SyncUi(window)
    window.sync_ui = ui
    return ui
