"""The lazy list model: keyset pages on the worker, consistent rows, live refresh."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex
from PySide6.QtTest import QAbstractItemModelTester

from desktop.ui.records.lazy_model import PAGE_SIZE, RELOAD_CAP, RecordTableModel
from desktop.ui.records.record_list import RecordListView
from tests.ui.helpers import settle

ROWS = 3000


def fill(ctx: Any, n: int = ROWS) -> None:
    rows = [{"name": f"{'客户' if i % 2 else 'Client'} {i:05d} 有限公司", "industry": "制造业"}
            for i in range(n)]
    ctx.run_and_wait(lambda s: s.repo("account").import_many(rows))


def test_pages_arrive_in_order_and_stay_consistent(qtbot: Any, ctx: Any) -> None:
    fill(ctx)
    model = RecordTableModel(ctx, "account")
    assert model.rowCount() == 0 and model.canFetchMore(QModelIndex())
    model.start()
    # Qt's own model checker watches every insert and reset from here on
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert not model.canFetchMore(QModelIndex())  # one page in flight at a time
    settle(qtbot, ctx)
    assert model.rowCount() == PAGE_SIZE
    pages = 1
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        model.fetchMore(QModelIndex())  # a second call while fetching is ignored
        settle(qtbot, ctx)
        pages += 1
    assert model.rowCount() == ROWS and model.exhausted
    assert pages == ROWS // PAGE_SIZE + 1  # the last page came back empty
    keys = [(r["name"].lower(), r["_key"][1]) for r in model.rows]
    assert keys == sorted(keys)  # title order, no gaps
    assert len({r["id"] for r in model.rows}) == ROWS  # no duplicates

    # an edit elsewhere shows up; a delete removes the row; counts stay right
    first, second = model.rows[0], model.rows[1]
    ctx.run_and_wait(lambda s: s.repo("account").update(first["id"], {"industry": "物流"}))
    ctx.run_and_wait(lambda s: s.repo("account").delete(second["id"]))
    settle(qtbot, ctx)
    assert model.rows[0]["industry"] == "物流"
    assert model.row_of(second["id"]) == -1
    assert model.rowCount() == RELOAD_CAP and not model.exhausted  # re-read up to the cap
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        settle(qtbot, ctx)
    assert model.rowCount() == ROWS - 1
    assert len({r["id"] for r in model.rows}) == ROWS - 1


def test_stale_page_after_reload_is_dropped(qtbot: Any, ctx: Any) -> None:
    fill(ctx, 500)
    model = RecordTableModel(ctx, "account")
    model.start()
    model.reload()  # the first page is now stale
    settle(qtbot, ctx)
    assert model.rowCount() == PAGE_SIZE
    assert len({r["id"] for r in model.rows}) == PAGE_SIZE


def test_table_view_fetches_more_when_scrolled(qtbot: Any, ctx: Any) -> None:
    fill(ctx, 1000)
    view = RecordListView(ctx, "account")
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    settle(qtbot, ctx)
    assert view.model.rowCount() == PAGE_SIZE
    assert view.status.text() == "200+ shown"
    for _ in range(10):
        view.table.scrollToBottom()
        settle(qtbot, ctx)
    assert view.model.rowCount() == 1000
    assert view.status.text() == "1,000 shown"
    # a selected row stays selected across a refresh
    rid = view.record_id_at(500)
    assert view.select_id(rid)
    view.refresh()
    settle(qtbot, ctx)
    current = view.current_record()
    assert current is not None and current["id"] == rid


def test_empty_list_tells_the_rep_what_to_do(qtbot: Any, ctx: Any) -> None:
    view = RecordListView(ctx, "contact")
    qtbot.addWidget(view)
    view.show()
    settle(qtbot, ctx)
    assert view.stack.currentWidget() is view.empty
    assert "Ctrl+N" in view.empty.text()
