"""A record's ids in other systems on the laptop (issue 25, desktop.schema.EXTERNAL_IDS):
shown read-only in the record dialog and on the account page, never saved back; a record
without any has no such row."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.store import Store
from tests.ui.helpers import closed

HLC = "1764900000000-0000-system:erp"
ACCOUNT_ID = "0193a000-0000-7000-8000-0000000000e1"


def pulled(store: Store) -> None:
    """The account as the rep's sync brings it after the ERP set its number."""
    store.apply_remote([{"entity": "account", "record_id": ACCOUNT_ID, "fields": {
        "name": {"value": "华东精密机械", "hlc": HLC},
        "owner": {"value": "rita", "hlc": HLC},
        "external_ids": {"value": ["erp:C-1029"], "hlc": HLC}}}], None, {})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ids_in_other_systems_show_read_only(qtbot: Any, make_window: Any, lang: str) -> None:
    window = make_window(lang)
    ctx = window.ctx
    ctx.run_and_wait(pulled)
    rec = ctx.run_and_wait(lambda s: s.repo("account").get(ACCOUNT_ID))
    dlg = window.records_ui.edit_record("account", rec)
    ids = dlg.editors["external_ids"].widget
    assert ids.text() == "erp:C-1029" and not ids.isEnabled()
    assert ids.toolTip() == ("由服务器根据其他系统设置。" if lang == "zh"
                             else "Set by the server from other systems.")
    dlg.editors["name"].widget.setText("华东精密机械股份")
    dlg.save()
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    pending = ctx.run_and_wait(lambda s: [e.fields for e in s.journal.pending()])
    assert [set(f) for f in pending] == [{"name"}]  # the ids are never pushed from here
    new = window.records_ui.new_record("account")
    assert "external_ids" not in new.editors and "name" in new.editors
    new.reject()
    window.records_ui.open_account(ACCOUNT_ID)
    page = window.records_ui.account_page
    qtbot.waitUntil(lambda: page.field_labels["external_ids"].full == "erp:C-1029",
                    timeout=5000)
    assert page.field_labels["external_ids"].isVisibleTo(page)
    other = ctx.run_and_wait(lambda s: s.repo("account").create({"name": "华南机电"}))
    window.records_ui.open_account(other["id"])
    qtbot.waitUntil(lambda: not page.field_labels["external_ids"].isVisibleTo(page),
                    timeout=5000)
