"""The status bar tells a server that went silent apart from no connection (issue 27)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QMainWindow

from desktop.sync.errors import ServerNotAnsweringError
from desktop.sync.status import State, SyncStatus


def test_status_bar_says_server_not_answering_and_offers_sync_now(qtbot: Any, ctx: Any) -> None:
    from desktop.ui.sync.status import SyncStatusWidget

    win = QMainWindow()
    qtbot.addWidget(win)
    w = SyncStatusWidget(ctx)
    win.statusBar().addPermanentWidget(w)
    win.show()
    now = time.time()
    w.show_status(SyncStatus(state=State.NOT_ANSWERING, pending=3, last_fresh=now - 60,
                             message=ServerNotAnsweringError().message))
    assert w.text(now).startswith("Server not answering · 3 pending")


def test_in_chinese(qtbot: Any, make_ctx: Any) -> None:
    from desktop.ui.sync.status import SyncStatusWidget

    w = SyncStatusWidget(make_ctx("zh"))
    qtbot.addWidget(w)
    w.show_status(SyncStatus(state=State.NOT_ANSWERING, pending=1))
    assert w.text().startswith("服务器无响应 · 1 条待上传")
