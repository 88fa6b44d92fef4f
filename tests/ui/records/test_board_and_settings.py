"""Deals board moves, long work with progress and cancel, language switch."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData, Qt

from desktop.schema import STAGES
from desktop.ui.records.deal_board import DEAL_MIME
from tests.ui.helpers import closed, settle


def make_deal(ctx: Any, title: str, stage: str | None) -> dict[str, Any]:
    acc = ctx.run_and_wait(
        lambda s: s.repo("account").create({"name": "广州白云电器设备股份有限公司"}))
    values = {"title": title, "account_id": acc["id"], "amount": 1280000, "currency": "CNY"}
    if stage:
        values["stage"] = stage
    return ctx.run_and_wait(lambda s: s.repo("deal").create(values))


def stage_of(ctx: Any, deal_id: str) -> str:
    return str(ctx.run_and_wait(lambda s: s.repo("deal").get(deal_id))["stage"])


def test_board_has_a_column_per_stage_and_moves_cards(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    deal = make_deal(ctx, "配电柜年度采购", None)  # no stage yet: shown with the leads
    window.show_tab(3)
    settle(qtbot, ctx)
    board = window.records_ui.board
    assert list(board.models) == list(STAGES)
    lead = board.models["lead"]
    assert lead.row_of(deal["id"]) == 0
    assert lead.rows[0]["_account"] == "广州白云电器设备股份有限公司"  # the card shows it

    board.move_deal(deal["id"], "proposal")  # the context menu's "Move to"
    settle(qtbot, ctx)
    assert stage_of(ctx, deal["id"]) == "proposal"
    assert lead.row_of(deal["id"]) == -1 and board.models["proposal"].row_of(deal["id"]) == 0
    assert "(1)" in board.headers["proposal"].text()

    # drag and drop: a card dropped on the Won column
    view = board.lists["won"]
    mime = QMimeData()
    mime.setData(DEAL_MIME, deal["id"].encode())
    assert view.take_drop(mime)  # what dropEvent does with the dropped data
    settle(qtbot, ctx)
    assert stage_of(ctx, deal["id"]) == "won"
    assert board.models["won"].row_of(deal["id"]) == 0
    assert board.empty_labels["proposal"].isVisible()


def test_demo_data_reports_progress_and_can_be_cancelled(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    seen: list[tuple[int, int]] = []
    ctx.progress_changed.connect(lambda op, done, total, text: seen.append((done, total)))
    op = window.records_ui.add_demo_data(400)
    assert window.cancel_button.isVisible()
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=10000)
    window.cancel_button.click()
    settle(qtbot, ctx)
    n = ctx.run_and_wait(lambda s: s.repo("account").count())
    assert op.finished and 0 < n < 400  # stopped; committed chunks are kept
    assert n % 50 == 0  # whole chunks only
    assert not window.cancel_button.isVisible()
    assert "Stopped" in window.statusBar().currentMessage()


def test_language_switch_in_settings(qtbot: Any, make_window: Any, profile: Any) -> None:
    window = make_window("en")
    assert window.tabs.tabText(1) == "Accounts"
    dlg = window.open_settings()
    dlg.language.setCurrentIndex(dlg.language.findData("zh"))
    dlg.apply()
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    assert window.ctx.lang == "zh"
    assert [window.tabs.tabText(i) for i in range(5)] == ["今天", "客户", "联系人", "商机", "活动"]
    assert window.records_ui.accounts.model.headerData(0, Qt.Orientation.Horizontal) == "名称"
    assert json.loads((profile / "settings.json").read_text(encoding="utf-8"))["language"] == "zh"
    # the choice is remembered for the next start
    from desktop.ui.common.context import AppContext

    again = AppContext(profile)
    assert again.lang == "zh"
    dlg = window.open_settings()
    dlg.language.setCurrentIndex(dlg.language.findData("en"))
    dlg.apply()
    assert window.tabs.tabText(1) == "Accounts"


def test_store_that_cannot_open_is_explained(qtbot: Any, make_window: Any) -> None:
    from desktop.errors import StoreDamagedError

    def broken(profile: Any, progress: Any = None) -> Any:
        raise StoreDamagedError(f"{profile}/store.db is damaged and was not opened.")

    window = make_window("en", store_factory=broken)
    qtbot.waitUntil(lambda: window.centralWidget().objectName() == "store_error", timeout=5000)
    assert "damaged" in window.centralWidget().text()


def test_store_opens_on_the_worker_thread(qtbot: Any, make_ctx: Any) -> None:
    import threading

    from desktop.store import Store

    threads: list[str] = []

    def factory(profile: Any, progress: Any = None) -> Store:
        threads.append(threading.current_thread().name)
        return Store.open(profile)

    ctx = make_ctx("en", store_factory=factory)
    qtbot.waitUntil(lambda: ctx.is_ready, timeout=5000)
    assert threads and threads[0] != threading.main_thread().name
