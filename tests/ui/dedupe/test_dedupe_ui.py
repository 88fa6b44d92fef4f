"""Duplicates in the app: candidates in the record dialog as the rep types, "save
anyway" or refused where the rule blocks, "open the existing one"; the "Possible
duplicates" window with its status-bar count; the merge dialog. Screenshots in en/zh."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.ui.helpers import closed, settle, shot

TENCENT = "深圳市腾讯计算机系统有限公司"


@pytest.fixture
def window(make_window: Any) -> Any:
    return mounted(make_window("en"))


def mounted(window: Any) -> Any:
    from desktop.ui.app import install_features

    install_features(window, ("desktop.ui.dedupe",))  # beside records, as the app does
    return window


def seed(window: Any) -> dict[str, Any]:
    return window.ctx.run_and_wait(lambda s: s.repo("account").create(
        {"name": TENCENT, "phone": "+86 755 8601 3388", "industry": "互联网"}))


def accounts(window: Any) -> list[str]:
    return window.ctx.run_and_wait(
        lambda s: sorted(r["name"] for r in s.repo("account").iter_all()))


def type_name(qtbot: Any, window: Any, dlg: Any, text: str) -> None:
    dlg.editors["name"].widget.setText(text)  # setText: keyClicks with Chinese aborts PySide6
    qtbot.waitUntil(lambda: not dlg.duplicate_panel.timer.isActive(), timeout=5000)
    settle(qtbot, window.ctx)


def test_candidates_appear_as_the_rep_types_and_save_asks_first(qtbot: Any, window: Any) -> None:
    acc = seed(window)
    dlg = window.records_ui.new_record("account")
    panel = dlg.duplicate_panel
    type_name(qtbot, window, dlg, "腾讯计算机系统（深圳）有限公司")
    assert panel.isVisible() and panel.list.count() == 1
    assert TENCENT in panel.list.item(0).text() and "name" in panel.list.item(0).text()
    assert panel.list.item(0).data(Qt.ItemDataRole.UserRole) == acc["id"]
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window.ctx)
    assert not closed(dlg) and "duplicate" in dlg.message.text()
    assert accounts(window) == [TENCENT]
    qtbot.mouseClick(panel.anyway_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    assert accounts(window) == sorted([TENCENT, "腾讯计算机系统（深圳）有限公司"])


def test_a_different_brand_shows_nothing_and_saves_at_once(qtbot: Any, window: Any) -> None:
    seed(window)
    dlg = window.records_ui.new_record("account")
    type_name(qtbot, window, dlg, "深圳市腾达计算机系统有限公司")
    assert not dlg.duplicate_panel.isVisible()
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    assert len(accounts(window)) == 2


def test_the_phone_alone_finds_the_existing_one_and_opens_it(qtbot: Any, window: Any) -> None:
    acc = seed(window)
    dlg = window.records_ui.new_record("account")
    dlg.editors["phone"].widget.setText("0755-86013388")
    type_name(qtbot, window, dlg, "前台登记的客户")
    assert (dlg.duplicate_panel.list.count() == 1
            and "phone" in dlg.duplicate_panel.list.item(0).text())
    qtbot.mouseClick(dlg.duplicate_panel.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    settle(qtbot, window.ctx)
    assert window.records_ui.account_page.account_id == acc["id"]
    assert accounts(window) == [TENCENT]


def test_a_blocking_rule_refuses_the_save(qtbot: Any, window: Any) -> None:
    from desktop.dedupe.rules import set_rule

    seed(window)
    window.ctx.run_and_wait(lambda s: set_rule(s, "account", action="block"))
    dlg = window.records_ui.new_record("account")
    type_name(qtbot, window, dlg, "腾讯计算机系统有限公司")
    assert dlg.duplicate_panel.isVisible() and dlg.duplicate_panel.anyway_button.isHidden()
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window.ctx)
    assert not closed(dlg) and "does not allow" in dlg.message.text()
    assert accounts(window) == [TENCENT]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_possible_duplicates_view_count_and_merge(qtbot: Any, make_window: Any, lang: str) -> None:
    from desktop.dedupe.pairs import check_arrivals

    window = mounted(make_window(lang))
    keep = seed(window)
    drop = window.ctx.run_and_wait(lambda s: s.repo("account").create(
        {"name": "腾讯计算机系统（深圳）有限公司", "address": "南山区科技园"}))
    window.ctx.run_and_wait(
        lambda s: s.repo("contact").create({"name": "张伟", "account_id": drop["id"]}))
    dlg = window.records_ui.new_record("account")
    type_name(qtbot, window, dlg, "腾讯计算机系统")
    shot(dlg, f"{lang}_dedupe_dialog_candidates")
    dlg.reject()
    # what the sync engine does after each pull; the status bar hears the change
    window.ctx.run(lambda s: check_arrivals(s))
    settle(qtbot, window.ctx)
    ui = window.duplicates_ui
    qtbot.waitUntil(lambda: ui.button.isVisible(), timeout=5000)
    assert ui.count == 1 and "1" in ui.button.text()
    shot(window, f"{lang}_dedupe_status_bar")
    view = ui.open_view()
    qtbot.addWidget(view)
    settle(qtbot, window.ctx)
    assert view.table.rowCount() == 1
    assert {view.table.item(0, 0).text(), view.table.item(0, 1).text()} == {
        TENCENT, "腾讯计算机系统（深圳）有限公司"}
    shot(view, f"{lang}_dedupe_possible_duplicates")
    view.merge_selected()
    settle(qtbot, window.ctx)
    merge = view.merge_dialog
    qtbot.waitUntil(lambda: merge.isVisible(), timeout=5000)
    # the survivor is the older record; the address comes from the other (it has one)
    assert merge.keep_drop() == (keep["id"], drop["id"])
    assert merge.choice["address"].checkedId() == 2 and merge.choice["name"].checkedId() == 2
    merge.choice["name"].button(1).setChecked(True)  # keep the survivor's own name
    shot(merge, f"{lang}_dedupe_merge_dialog")
    merge.do_merge()
    qtbot.waitUntil(lambda: closed(merge), timeout=5000)
    settle(qtbot, window.ctx)
    kept = window.ctx.run_and_wait(lambda s: s.repo("account").get(keep["id"]))
    assert (kept["name"], kept["address"]) == (TENCENT, "南山区科技园")
    moved = window.ctx.run_and_wait(lambda s: s.repo("contact").find(account_id=keep["id"]))
    assert [c["name"] for c in moved] == ["张伟"]
    assert view.table.rowCount() == 0 and view.empty.isVisible()
    qtbot.waitUntil(lambda: not ui.button.isVisible(), timeout=5000)
