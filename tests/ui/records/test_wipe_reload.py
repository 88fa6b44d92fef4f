"""After a wipe (signing out deletes the local data) the store reports a change to "*":
every view that shows store data reloads instead of showing records that are gone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from desktop.schema import to_utc_iso
from tests.ui.helpers import settle


def seed(store: Any) -> str:
    acc = store.repo("account").create({"name": "深圳市腾讯计算机系统有限公司"})
    store.repo("contact").create({"name": "马化腾", "account_id": acc["id"]})
    store.repo("deal").create({"title": "企业微信采购", "account_id": acc["id"]})
    due = to_utc_iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    store.repo("activity").create({"kind": "call", "subject": "回电", "account_id": acc["id"],
                                   "due_at": due})
    return str(acc["id"])


def wipe(store: Any) -> None:
    """What the sign-out wipe does to the data (rows gone, one change to "*")."""
    with store.write() as w:
        for table in ("activity", "deal", "contact", "account"):
            w.conn.execute(f'DELETE FROM "{table}"')
        w.changed("*", None)


def test_views_reload_after_a_wipe(qtbot: Any, window: Any) -> None:
    ctx, records = window.ctx, window.records_ui
    acc_id = ctx.run_and_wait(seed)
    for i in range(5):
        window.show_tab(i)
        settle(qtbot, ctx)
    records.open_account(acc_id)
    settle(qtbot, ctx)
    assert records.account_page.contacts.count() == 1
    assert records.contacts.model.rowCount() == 1 and records.accounts.model.rowCount() == 1
    assert records.today.due.count() == 1
    assert sum(m.rowCount() for m in records.board.models.values()) == 1

    ctx.run(wipe)
    settle(qtbot, ctx)
    assert records.accounts.model.rowCount() == 0 and records.contacts.model.rowCount() == 0
    assert records.activities.model.rowCount() == 0
    assert sum(m.rowCount() for m in records.board.models.values()) == 0
    assert records.today.due.count() == 0
    assert window.stack.currentWidget() is window.tabs  # the account page is gone
