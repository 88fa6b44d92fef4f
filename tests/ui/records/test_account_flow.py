"""A rep creates an account through the dialog, finds it by search, edits it,
deletes it and brings it back with Undo."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from desktop.schema import uscc_check_char
from tests.ui.helpers import closed, settle

NAME = "深圳市腾讯计算机系统有限公司"


def valid_uscc(first17: str = "91440300708461136") -> str:
    return first17 + (uscc_check_char(first17) or "")


def accounts_named(ctx: Any, name: str) -> list[dict[str, Any]]:
    return ctx.run_and_wait(lambda store: store.repo("account").find(name=name))


def test_create_search_edit_delete_undo(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    window.show_tab(1)
    settle(qtbot, ctx)
    accounts = window.records_ui.accounts
    assert accounts.stack.currentWidget() is accounts.empty  # empty state

    window.actions_by_name["new"].trigger()  # Ctrl+N on the Accounts tab
    dlg = window.dialog
    assert dlg is not None and dlg.isVisible() and dlg.ent.name == "account"
    assert not dlg.save_button.isEnabled()  # the name is required
    dlg.editors["name"].widget.setText(NAME)
    dlg.editors["phone"].widget.setText("+86 139-1234-5678")
    dlg.editors["uscc"].widget.setText(valid_uscc())
    dlg.editors["industry"].widget.setText("互联网")
    assert dlg.save_button.isEnabled(), dlg.errors()
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    (rec,) = accounts_named(ctx, NAME)
    assert rec["phone"] == "+8613912345678"
    settle(qtbot, ctx)
    assert window.records_ui.accounts.model.row_of(rec["id"]) >= 0  # the list refreshed itself

    # search as you type: Chinese substring, then phone digits in another format
    window.actions_by_name["find"].trigger()
    window.records_ui.search.box.setText("腾讯")
    qtbot.waitUntil(lambda: NAME in window.records_ui.search.titles(), timeout=5000)
    assert window.records_ui.search.results.isVisible()
    window.records_ui.search.box.setText("139 1234")
    qtbot.waitUntil(lambda: window.records_ui.search.shown_query == "139 1234", timeout=5000)
    assert NAME in window.records_ui.search.titles()

    # open the hit: the account page shows it
    window.records_ui.search.results.itemActivated.emit(window.records_ui.search.results.item(0))
    qtbot.waitUntil(lambda: window.records_ui.account_page.title.full == NAME, timeout=5000)
    assert window.stack.currentWidget() is window.records_ui.account_page
    assert "+86 139 1234 5678" in window.records_ui.account_page.field_labels["phone"].full

    # edit from the account page
    window.records_ui.account_page.edit.click()
    dlg = window.dialog
    assert dlg.editors["name"].widget.text() == NAME  # the dialog shows the record
    dlg.editors["industry"].widget.setText("互联网 / 游戏")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    assert accounts_named(ctx, NAME)[0]["industry"] == "互联网 / 游戏"
    labels = window.records_ui.account_page.field_labels
    qtbot.waitUntil(lambda: labels["industry"].full == "互联网 / 游戏", timeout=5000)

    # delete with the Del key on the Accounts list, then Undo (Ctrl+Z)
    window.show_tab(1)
    settle(qtbot, ctx)
    assert window.records_ui.accounts.select_id(rec["id"])
    window.records_ui.accounts.table.setFocus()
    window.actions_by_name["delete"].trigger()
    qtbot.waitUntil(lambda: accounts_named(ctx, NAME) == [], timeout=5000)
    settle(qtbot, ctx)
    assert window.records_ui.accounts.model.row_of(rec["id"]) == -1
    assert window.records_ui.undo_button.isVisible()
    assert NAME in window.statusBar().currentMessage()
    window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: len(accounts_named(ctx, NAME)) == 1, timeout=5000)
    settle(qtbot, ctx)
    assert window.records_ui.accounts.model.row_of(rec["id"]) >= 0
    window.records_ui.search.box.setText("腾讯")
    search = window.records_ui.search
    qtbot.waitUntil(lambda: search.shown_query == "腾讯" and NAME in search.titles(),
                    timeout=5000)


def test_contact_hit_opens_its_account_and_the_contact(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    acc = ctx.run_and_wait(lambda s: s.repo("account").create({"name": "杭州娃哈哈集团有限公司"}))
    ctx.run_and_wait(lambda s: s.repo("contact").create(
        {"name": "宗馥莉", "phones": ["13812345678"], "account_id": acc["id"]}))
    window.records_ui.search.box.setText("zongfuli")
    qtbot.waitUntil(lambda: "宗馥莉" in window.records_ui.search.titles(), timeout=5000)
    window.records_ui.search.box.returnPressed.emit()
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=5000)
    assert window.dialog.ent.name == "contact"
    assert window.records_ui.account_page.account_id == acc["id"]
    qtbot.waitUntil(lambda: window.dialog.editors["account_id"].widget.text()
                    == "杭州娃哈哈集团有限公司", timeout=5000)
    window.dialog.reject()


def test_search_drops_stale_results(qtbot: Any, window: Any) -> None:
    ctx = window.ctx
    ctx.run_and_wait(lambda s: s.repo("account").create({"name": "北京字节跳动科技有限公司"}))
    panel = window.records_ui.search
    panel.box.setText("字节")
    panel.run_query()  # in flight for "字节"
    panel.box.setText("zzzz-nothing")  # typed on before the answer came back
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: panel.shown_query == "zzzz-nothing", timeout=5000)
    assert panel.hits == []
