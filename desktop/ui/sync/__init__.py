"""Sync in the running app: desktop.ui.sync.mount adds the status-bar item and the Sync
menu and starts the engine when the profile is signed in; this module mounts it,
keeps the menu through language switches and stops the engine when the window closes.

Start-up stays fast: sync needs httpx, the protocol models and the session code (about
0.2 s of imports). They are loaded on the store worker thread once the store is open,
behind the first pages already asked for, and sync is mounted when that is done.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import shiboken6

from desktop.ui.common.deferred import mount_when_ready
from desktop.ui.common.window import MainWindow

if TYPE_CHECKING:
    from desktop.ui.sync.mount import SyncUi

log = logging.getLogger(__name__)

# The Sync menu's actions as desktop.ui.sync.mount makes them (name, English text).
MENU = (("sync_login", "Sign in…"), ("sync_now", "Sync now"),
        ("sync_conflicts", "Conflicts…"), ("sync_problems", "Sync problems…"))


def install(window: MainWindow) -> None:
    mount_when_ready(window, _warm, mount_now)


def _warm(_store: Any) -> None:
    """On the store worker: load sync's (Qt-free) libraries off the UI thread."""
    import desktop.sync.engine
    import desktop.sync.session  # noqa: F401


def mount_now(window: MainWindow) -> SyncUi | None:
    """Mount sync in `window` (once); returns its SyncUi, or None when it cannot."""
    if not shiboken6.isValid(window):
        return None
    existing = getattr(window, "sync_ui", None)
    if existing is not None:
        return existing
    try:
        from PySide6.QtCore import QCoreApplication

        from desktop.ui.sync import mount

        ui = mount.install(window)
    except Exception:
        log.exception("sync could not be mounted; the app runs without it")
        return None
    window.closing.connect(ui.shutdown)
    app = QCoreApplication.instance()
    if app is not None:  # quitting without closing the window (e.g. the start-up probe)
        app.aboutToQuit.connect(ui.shutdown)
    window.built.connect(lambda: _add_menu(window, ui))
    return ui


def _add_menu(window: MainWindow, ui: SyncUi) -> None:
    """After the window rebuilt its menus (language switch): the Sync menu again."""
    tr = window.ctx.tr
    menu = window.menuBar().addMenu(tr("&Sync"))
    for name, text in MENU:
        action = ui.actions[name]
        action.setText(tr(text))
        menu.addAction(action)
