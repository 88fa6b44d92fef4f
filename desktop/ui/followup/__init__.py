"""Follow-up in the running app: the Today panel, reminders (OS notification, tray or
status bar, and the notification centre), the Follow-up menu (notifications, pipeline
rules, settings) and the pipeline check on the deal board. desktop.ui.followup.mount
does the work.

Start-up stays fast: once the store is open, the follow-up libraries load on the store
worker thread, behind the first pages already asked for, and follow-up is mounted when
that is done.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import shiboken6

from desktop.ui.common.deferred import mount_when_ready
from desktop.ui.common.window import MainWindow

if TYPE_CHECKING:
    from desktop.ui.followup.mount import FollowupUi

log = logging.getLogger(__name__)


def install(window: MainWindow) -> None:
    mount_when_ready(window, _warm, mount_now)


def _warm(_store: Any) -> None:
    """On the store worker: load the (Qt-free) follow-up libraries off the UI thread."""
    import desktop.followup.service
    import desktop.followup.today  # noqa: F401

    with contextlib.suppress(ImportError):  # without it the notifier uses the tray
        import desktop_notifier  # noqa: F401  (the notifier needs it a moment later)


def mount_now(window: MainWindow) -> FollowupUi | None:
    """Mount follow-up in `window` (once); returns its FollowupUi, or None when it cannot."""
    if not shiboken6.isValid(window):
        return None
    existing = getattr(window, "followup_ui", None)
    if existing is not None:
        return existing
    try:
        from desktop.ui.followup import mount

        return mount.install(window)
    except Exception:
        log.exception("follow-up could not be mounted; the app runs without it")
        return None
