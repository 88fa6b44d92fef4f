"""Sync UI: status bar item, sign-in dialog (against a real loopback server), Conflicts
and Sync problems views. Screenshots go to screenshots/sync_*.png."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from PySide6.QtWidgets import QMainWindow

from desktop.sync.status import Progress, State, SyncStatus
from tests.ui.helpers import settle, shot


def test_status_bar_shows_state_counts_and_freshness(qtbot: Any, ctx: Any) -> None:
    from desktop.ui.sync.status import SyncStatusWidget

    win = QMainWindow()
    qtbot.addWidget(win)
    w = SyncStatusWidget(ctx)
    win.statusBar().addPermanentWidget(w)
    win.resize(900, 120)
    win.show()
    now = time.time()
    w.show_status(SyncStatus(state=State.IDLE, pending=2, parked=1, last_fresh=now - 0.4,
                             live=True))
    text = w.text(now)
    assert text.startswith("Online · 2 pending · 1 sync problem(s) · synced ")
    assert text.endswith(", 0.4 s ago")
    qtbot.wait(50)
    shot(win, "sync_status_online")
    w.show_status(SyncStatus(state=State.OFFLINE, pending=5, last_fresh=now - 300))
    assert w.text(now).startswith("Offline · 5 pending") and "5 min ago" in w.text(now)
    w.show_status(SyncStatus(state=State.SYNCING, progress=Progress(120_000, 300_000)))
    assert w.progress.isVisible() and w.progress.value() == 120_000
    qtbot.wait(50)
    shot(win, "sync_status_first_sync")


def _make_conflict(store: Any) -> str:
    rec = store.repo("account").create({"name": "华信科技", "industry": "软件"})
    store.repo("account").update(rec["id"], {"industry": "互联网"})
    store.apply_remote([{"entity": "account", "record_id": rec["id"], "fields": {
        "industry": {"value": "制造业", "hlc": "9999999999999-0000-other"}}}])
    return str(rec["id"])


def test_conflicts_view_side_by_side_and_keep_mine(qtbot: Any, ctx: Any) -> None:
    from desktop.ui.sync.conflicts import ConflictsView

    qtbot.waitUntil(lambda: ctx.is_ready, timeout=10000)
    rid = ctx.run_and_wait(_make_conflict)
    view = ConflictsView(ctx)
    qtbot.addWidget(view)
    view.resize(800, 420)
    view.show()
    settle(qtbot, ctx)
    assert view.table.rowCount() == 1
    assert view.mine.toPlainText() == "互联网" and view.theirs.toPlainText() == "制造业"
    assert view.table.item(0, 0).text() == "华信科技" and view.table.item(0, 1).text() == "Industry"
    shot(view, "sync_conflicts")
    view.keep_mine.click()
    settle(qtbot, ctx)
    assert view.table.rowCount() == 0 and view.empty.isVisible()
    rec = ctx.run_and_wait(lambda s: s.repo("account").get(rid))
    assert rec["industry"] == "互联网"  # a new local edit, journaled to win everywhere
    assert ctx.run_and_wait(lambda s: s.journal.counts()["pending"]) == 3


def test_sync_problems_view_lists_reason_and_discards(qtbot: Any, ctx: Any) -> None:
    from desktop.ui.sync.problems import SyncProblemsView

    qtbot.waitUntil(lambda: ctx.is_ready, timeout=10000)

    def setup(store: Any) -> None:
        deal = store.repo("deal").create({"title": "大单"})
        store.repo("deal").update(deal["id"], {"collected_amount": 500})
        seq = store.journal.pending()[-1].seq
        store.journal.park(seq, "Collected amount may be written only by finance or admin.")

    ctx.run_and_wait(setup)
    view = SyncProblemsView(ctx)
    qtbot.addWidget(view)
    view.resize(820, 300)
    view.show()
    settle(qtbot, ctx)
    assert view.table.rowCount() == 1
    assert "finance" in view.table.item(0, 2).text()
    assert view.table.item(0, 1).text() == "Collected amount = 500"
    shot(view, "sync_problems")
    view.retry.click()
    settle(qtbot, ctx)
    assert view.table.rowCount() == 0  # back in the queue under a new sequence number
    assert ctx.run_and_wait(lambda s: s.journal.counts()) == {"pending": 2, "parked": 0}


def test_login_dialog_signs_in_and_the_engine_goes_online(qtbot: Any, ctx: Any,
                                                         tmp_path: Path) -> None:
    from desktop.ui.sync.login import LoginDialog
    from desktop.ui.sync.status import SyncController, SyncStatusWidget
    from server.admin import add_user
    from tests.servers import start_server_thread

    qtbot.waitUntil(lambda: ctx.is_ready, timeout=10000)
    with start_server_thread(tmp_path / "srv") as srv:
        add_user(srv.engine, "alice", "rep", "pw-1234")
        dlg = LoginDialog(ctx, server_url=srv.url)
        qtbot.addWidget(dlg)
        dlg.show()
        dlg.user.setText("alice")
        dlg.password.setText("wrong")
        dlg.ok.click()
        qtbot.waitUntil(lambda: "Wrong user name or password" in dlg.message.text(), timeout=10000)
        shot(dlg, "sync_login_error")
        dlg.password.setText("pw-1234")
        with qtbot.waitSignal(dlg.signed_in, timeout=10000):
            dlg.ok.click()
        assert dlg.password.text() == ""
        controller = SyncController(ctx)
        bar = SyncStatusWidget(ctx, controller)
        qtbot.addWidget(bar)
        bar.show()
        try:
            qtbot.waitUntil(lambda: bar.status.state is State.IDLE, timeout=10000)
            assert bar.text().startswith("Online")
            ctx.run_and_wait(lambda s: s.repo("account").create({"name": "界面新建"}))
            ctx.operation_did_execute.emit(None, None)  # what a view's edit op emits
            import sqlalchemy as sa

            def on_server() -> int:
                with srv.engine.connect() as conn:
                    return int(conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one())

            qtbot.waitUntil(lambda: on_server() == 1, timeout=10000)
            qtbot.waitUntil(lambda: bar.status.pending == 0 and bar.status.state is State.IDLE,
                            timeout=10000)
            shot(bar, "sync_status_live")
        finally:
            controller.shutdown()


def test_install_mounts_status_item_and_sync_menu(qtbot: Any, window: Any) -> None:
    from desktop.ui.sync.mount import install

    ui = install(window)
    try:
        assert ui.status.parent() is not None
        assert set(ui.actions) == {"sync_login", "sync_now", "sync_conflicts", "sync_problems"}
        dlg = ui.sign_in()
        qtbot.waitUntil(dlg.isVisible)
        dlg.close()
        view = ui.show_view("problems")
        settle(qtbot, window.ctx)
        assert view.isVisible() and view.table.rowCount() == 0
        qtbot.wait(50)
        shot(window, "sync_main_window")
    finally:
        ui.shutdown()
