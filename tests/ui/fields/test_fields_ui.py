"""An admin adds a field on the server; the running app shows it in the list and the
record dialog after one sync, without a restart. The Custom fields page: admins add,
edit, retire; everyone else reads. Screenshots in zh and en (screenshots/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.schema import ENTITIES
from desktop.store import Store
from desktop.sync import session
from server import fields
from tests.sync.conftest import PASSWORD, Server
from tests.ui.helpers import closed, settle, shot

LONG_LABEL = "对接人职级（客户方决策链中的最高层级，含集团总部与区域分公司）"


@pytest.fixture
def signed_in_window(make_window: Callable[..., Any], server: Server,
                     tmp_path: Path) -> Callable[..., Any]:
    def make(user: str, role: str, lang: str, seed: bool = True) -> Any:
        server.user(user, role, teams=("east",))
        profile = tmp_path / f"app-{user}-{lang}"
        session.login(profile, server.url, user, PASSWORD)
        if seed:
            with Store.open(profile) as store:
                store.repo("account").create({"name": "上海浦东发展银行股份有限公司",
                                              "region": "上海"})
                store.repo("account").create({"name": "Acme Shanghai Trading Co., Ltd."})
        return make_window(lang, features=("desktop.ui.records", "desktop.ui.sync",
                                           "desktop.ui.fields"), profile_dir=profile)
    return make


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_field_added_on_the_server_shows_after_one_sync(
        qtbot: Any, signed_in_window: Callable[..., Any], server: Server, lang: str) -> None:
    window = signed_in_window("rita", "rep", lang)
    ctx = window.ctx
    qtbot.waitUntil(lambda: window.sync_ui is not None
                    and window.sync_ui.controller.engine is not None, timeout=10000)
    window.show_tab(1)
    accounts = window.records_ui.accounts
    qtbot.waitUntil(lambda: len(accounts.model.rows) == 2, timeout=10000)
    assert "cf_contact_rank" not in [c.key for c in accounts.model.columns]

    fields.add_field(server.engine, "account", "contact_rank", "choice",
                     choices=["总监", "经理", "专员"], label_zh=LONG_LABEL,
                     label_en="Contact rank (highest level in the client's decision chain)")
    window.sync_ui.controller.sync_now()
    qtbot.waitUntil(lambda: "cf_contact_rank" in [c.key for c in accounts.model.columns],
                    timeout=15000)
    col = [c.key for c in accounts.model.columns].index("cf_contact_rank")
    header = accounts.model.headerData(col, Qt.Orientation.Horizontal)
    assert header == (LONG_LABEL if lang == "zh" else
                      "Contact rank (highest level in the client's decision chain)")
    assert not accounts.table.isColumnHidden(col)
    # The column chooser hides it, and it stays hidden.
    assert [n for n, _, shown in accounts.column_choices() if shown] == ["cf_contact_rank"]
    accounts.set_column_shown("cf_contact_rank", False)
    assert accounts.table.isColumnHidden(col)
    accounts.set_column_shown("cf_contact_rank", True)
    accounts.table.scrollTo(accounts.model.index(0, col))

    rec = accounts.model.record(0)
    dlg = window.records_ui.edit_record("account", rec)
    editor = dlg.editors["cf_contact_rank"]
    assert editor.widget.objectName() == "field_cf_contact_rank"
    editor.widget.setCurrentIndex(editor.widget.findData("总监"))
    settle(qtbot, ctx)
    shot(dlg, f"fields_dialog_after_sync_{lang}")
    dlg.save()
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: accounts.model.record(0).get("cf_contact_rank") == "总监",
                    timeout=5000)
    shot(window, f"fields_list_after_sync_{lang}")
    # Retired on the server: gone from the list and the dialog, the value kept.
    fields.retire_field(server.engine, "account", "cf_contact_rank")
    window.sync_ui.controller.sync_now()
    qtbot.waitUntil(lambda: "cf_contact_rank" not in [c.key for c in accounts.model.columns],
                    timeout=15000)
    dlg2 = window.records_ui.edit_record("account", accounts.model.record(0))
    assert "cf_contact_rank" not in dlg2.editors
    dlg2.reject()
    kept = ctx.run_and_wait(lambda s: s.repo("account").get(rec["id"]))
    assert kept["cf_contact_rank"] == "总监"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_fields_page_lets_an_admin_add_and_retire(
        qtbot: Any, signed_in_window: Callable[..., Any], lang: str) -> None:
    window = signed_in_window("ada", "admin", lang, seed=False)
    ctx = window.ctx
    page = window.fields_ui.show_page()
    qtbot.waitUntil(lambda: page.is_admin, timeout=5000)
    assert page.stack.currentWidget() is page.empty
    shot(page, f"fields_page_empty_{lang}")
    form = page.add()
    form.entity.setCurrentIndex(form.entity.findData("deal"))
    form.name.setText("lost_reason")
    form.type.setCurrentIndex(form.type.findData("choice"))
    form.label_zh.setText("输单原因")
    form.label_en.setText("Reason the deal was lost")
    form.choices.setText("价格，竞品, 预算取消")
    form.save()
    qtbot.waitUntil(lambda: closed(form), timeout=5000)
    qtbot.waitUntil(lambda: len(page.rows) == 1, timeout=5000)
    assert ENTITIES["deal"].field("cf_lost_reason").choices == ("价格", "竞品", "预算取消")
    # The same name again: the form says why and stays open.
    again = page.add()
    again.entity.setCurrentIndex(again.entity.findData("deal"))
    again.name.setText("Lost reason")
    again.save()
    qtbot.waitUntil(lambda: not again.message.isHidden(), timeout=5000)
    assert again.message.text() == ("已有名为“cf_lost_reason”的字段。" if lang == "zh" else
                                    "deal already has a field named 'cf_lost_reason'.")
    shot(again, f"fields_form_duplicate_{lang}")
    again.reject()
    form = page.add()
    form.name.setText("contact_rank")
    form.label_zh.setText(LONG_LABEL)
    form.label_en.setText("Contact rank (highest level in the client's decision chain)")
    form.save()
    qtbot.waitUntil(lambda: len(page.rows) == 2, timeout=5000)
    page.table.selectRow(0)
    page.toggle_retired()
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: any(r.get("retired") for r in page.rows), timeout=5000)
    shot(page, f"fields_page_{lang}")
    # Pushed at the next sync and accepted (an admin's device).
    window.sync_ui.controller.sync_now()
    qtbot.waitUntil(lambda: ctx.run_and_wait(lambda s: len(s.journal.pending())) == 0,
                    timeout=15000)
    assert not ctx.run_and_wait(lambda s: s.journal.parked())


def test_a_rep_sees_the_fields_read_only(qtbot: Any,
                                         signed_in_window: Callable[..., Any]) -> None:
    window = signed_in_window("rita", "rep", "zh", seed=False)
    page = window.fields_ui.show_page()
    qtbot.waitUntil(lambda: page.account is not None, timeout=5000)
    assert not page.is_admin and not page.add_btn.isVisible()
    assert "只有管理员" in page.note.text()
    shot(page, "fields_page_rep_zh")
