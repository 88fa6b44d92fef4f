"""Fields the user may not read, in the record dialog and lists (issue 24,
desktop.visibility): a masked value shows masked and read-only and is never saved back;
a hidden field has no editor and no column."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.store import Store
from tests.ui.helpers import closed

HLC = "1764900000000-0000-server"
ACCOUNT_ID = "0193a000-0000-7000-8000-000000000001"
POLICY = {"account": {"phone": "masked", "industry": "hidden"},
          "deal": {"cf_competitor": "hidden"}}


def pulled(store: Store) -> None:
    """A pull page as a rep receives it: the phone masked, the competitor left out."""
    store.apply_remote([{"entity": "account", "record_id": ACCOUNT_ID, "fields": {
        "name": {"value": "上海浦东发展银行", "hlc": HLC},
        "phone": {"value": "+86****5678", "hlc": HLC},
        "owner": {"value": "rita", "hlc": HLC}}}], None, POLICY)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_masked_value_shows_masked_and_hidden_field_has_no_editor(
        qtbot: Any, make_window: Any, lang: str) -> None:
    window = make_window(lang)
    ctx = window.ctx
    accounts = window.records_ui.accounts.model
    assert "industry" in [c.key for c in accounts.columns]
    ctx.run_and_wait(pulled)
    qtbot.waitUntil(lambda: "industry" not in [c.key for c in accounts.columns], timeout=5000)
    assert "phone" in [c.key for c in accounts.columns]  # masked: shown, masked
    rec = ctx.run_and_wait(lambda s: s.repo("account").get(ACCOUNT_ID))
    dlg = window.records_ui.edit_record("account", rec)
    phone = dlg.editors["phone"].widget
    assert phone.text() == "+86****5678" and phone.isReadOnly()
    assert phone.toolTip() == ("已遮蔽：您无权查看此字段。" if lang == "zh"
                               else "Masked: you may not read this field.")
    dlg.editors["name"].widget.setText("浦发银行上海分行")
    assert dlg.save_button.isEnabled()  # the masked value is not checked as a phone
    dlg.save()
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    saved = ctx.run_and_wait(lambda s: (s.repo("account").get(ACCOUNT_ID),
                                        [e.fields for e in s.journal.pending()]))
    assert saved[0]["name"] == "浦发银行上海分行" and saved[0]["phone"] == "+86****5678"
    assert [set(f) for f in saved[1]] == [{"name"}]  # the masked phone is never pushed
    deal = window.records_ui.new_record("deal")
    assert "cf_competitor" not in deal.editors and "title" in deal.editors
    assert "industry" not in dlg.editors
    deal.reject()
    window.records_ui.open_account(ACCOUNT_ID)
    page = window.records_ui.account_page
    qtbot.waitUntil(lambda: page.field_labels["phone"].full == "+86****5678",
                    timeout=5000)
    assert not page.field_labels["industry"].isVisibleTo(page)  # hidden: not there
    assert page.field_labels["phone"].isVisibleTo(page)
