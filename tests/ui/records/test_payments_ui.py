"""Payments (回款) in the app: finance adds a payment through the form and it appears in
the Payments list and in the deal's collected sum; a rep sees the form read-only and
"Add payment" disabled with the reason. Screenshots: screenshots/payments_*.png."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.finance import form as pform
from desktop.store import Store
from desktop.ui.common.i18n import Translator
from desktop.ui.records.payment_form import READ_ONLY_TEXT, PaymentDialog
from desktop.ui.records.payment_list import EMPTY_TEXT, WHY_TEXT, PaymentListView
from tests.ui.helpers import closed, settle, shot

LONG_TITLE = "华东区域智能仓储物流中心自动化改造及配套信息系统集成项目（二期·含三年运维服务）"


def _seed(profile: Path, role: str, *, payments: bool = True) -> dict[str, Any]:
    from desktop.sync.auth import Account, save_account

    with Store.open(profile) as store:
        save_account(store, Account("http://127.0.0.1:1", f"li.{role}", store.device_id, role))
        account = store.repo("account").create({"name": "上海远航物流有限公司"})
        deal = store.repo("deal").create({"title": LONG_TITLE, "account_id": account["id"],
                                          "owner": "wang.fang",
                                          "amount": 1280000, "signed_amount": 1200000.5,
                                          "currency": "CNY", "stage": "won"})
        other = store.repo("deal").create({"title": "Acme renewal", "currency": "USD",
                                           "amount": 50000})
        contract = store.repo("contract").create({
            "contract_no": "HT-2026-018", "deal_id": deal["id"],
            "party_a_name": "上海远航物流有限公司", "amount": 1200000.5, "currency": "CNY"})
        made: list[dict[str, Any]] = []
        if payments:
            pay = store.repo("payment")
            made = [
                pay.create({"kind": "received", "amount": 0.1, "currency": "CNY",
                            "date": "2026-03-01", "deal_id": deal["id"],
                            "method": "bank_transfer", "invoice_no": "FP-20260301"}),
                pay.create({"kind": "received", "amount": 0.2, "currency": "CNY",
                            "date": "2026-03-02", "contract_id": contract["id"],
                            "deal_id": deal["id"], "method": "acceptance_bill"}),
                pay.create({"kind": "planned", "amount": 400000, "currency": "CNY",
                            "date": "2026-09-30", "deal_id": deal["id"], "note": "第二期"}),
                pay.create({"kind": "received", "amount": 5000, "currency": "USD",
                            "date": "2026-04-01", "deal_id": deal["id"], "method": "card"}),
                pay.create({"kind": "received", "amount": 12000, "currency": "USD",
                            "date": "2026-05-01", "deal_id": other["id"], "method": "cheque"}),
            ]
    return {"deal": deal, "other": other, "contract": contract, "payments": made}


def _open_tab(qtbot: Any, window: Any) -> PaymentListView:
    view = window.records_ui.payments
    window.tabs.setCurrentWidget(view)
    settle(qtbot, window.ctx)
    return view


def _pick(qtbot: Any, dlg: PaymentDialog, text: str) -> None:
    picker = dlg.target
    line = picker.lineEdit()
    line.setText(text)  # setText, not keyClicks: Chinese input aborts under PySide6 6.12
    picker.lookup()
    settle(qtbot, dlg.ctx)
    picker.hidePopup()
    assert picker.count() >= 1 and picker.itemData(0) is not None
    picker.setCurrentIndex(0)
    picker.activated.emit(0)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_finance_adds_a_payment_seen_in_the_list_and_the_deals_collected_sum(
        qtbot: Any, make_window: Callable[..., Any], profile: Path, lang: str) -> None:
    seeded = _seed(profile, "finance", payments=False)
    window = make_window(lang)
    ctx, tr = window.ctx, Translator(lang).tr
    view = _open_tab(qtbot, window)
    assert view.stack.currentWidget() is view.empty
    assert view.empty.text() == tr(EMPTY_TEXT["writer"])
    assert view.new_button.isEnabled() and not view.new_button.toolTip()
    shot(window, f"payments_list_empty_{lang}")

    view.new_button.click()
    dlg = window.dialog
    assert isinstance(dlg, PaymentDialog)
    settle(qtbot, ctx)
    assert dlg.may_write and dlg.notice.isHidden()
    assert not dlg.save_button.isEnabled()  # nothing picked, no amount yet
    _pick(qtbot, dlg, "智能仓储")
    assert dlg.target.target is not None and dlg.target.target.id == seeded["deal"]["id"]
    dlg.amount.setText("12,800.505")
    assert dlg.errors()["amount"] == tr(pform.TOO_MANY_DECIMALS)
    assert not dlg.save_button.isEnabled()
    dlg.amount.setText("12800.5")
    dlg.amount.editingFinished.emit()
    assert dlg.amount.text() == "12,800.50"
    dlg.method.setCurrentIndex(dlg.method.findData("bank_transfer"))
    dlg.invoice.setText("FP-0001")
    assert dlg.errors() == {}
    assert dlg.currency.currentData() == "CNY"  # the deal's currency
    qtbot.wait(50)  # the hidden error's room closes
    shot(dlg, f"payments_form_{lang}")
    dlg.save_button.click()
    settle(qtbot, ctx)
    assert closed(dlg)

    assert view.model.rowCount() == 1
    row = view.model.record(0)
    assert (row["_target"], row["kind"], row["amount"], row["invoice_no"]) == (
        LONG_TITLE, "received", 12800.5, "FP-0001")
    assert row["owner"] == "wang.fang"  # the deal's rep reads it after the sync
    texts = [view.model.data(view.model.index(0, c)) for c in range(4)]
    assert texts[0] == LONG_TITLE and texts[2] == "CNY 12,800.50"
    assert texts[1] == Translator(lang).choice("received")

    deal_dlg = window.records_ui.edit_record("deal", seeded["deal"])
    settle(qtbot, ctx)
    section = deal_dlg.payments
    assert section is not None and section.add_button.isEnabled()
    assert section.collected.text() == "CNY 12,800.50"
    assert section.signed.text() == "CNY 1,200,000.50"
    assert section.outstanding.text() == "CNY 1,187,200.00"
    # add a USD payment from the deal: shown apart, never added to the CNY figure
    pay_dlg = deal_dlg.add_payment()
    settle(qtbot, ctx)
    assert pay_dlg.target.target is not None
    assert pay_dlg.target.target.id == seeded["deal"]["id"]
    pay_dlg.amount.setText("100")
    pay_dlg.currency.setCurrentIndex(pay_dlg.currency.findData("USD"))
    pay_dlg.save_button.click()
    settle(qtbot, ctx)
    assert section.collected.text() == "CNY 12,800.50"
    assert "USD 100.00" in section.other.text() and section.other.isVisibleTo(section)
    assert section.table.rowCount() == 2
    assert view.model.rowCount() == 2  # the list reloaded on the change


def test_the_list_filters_planned_and_received_and_searches(
        qtbot: Any, make_window: Callable[..., Any], profile: Path) -> None:
    seeded = _seed(profile, "finance")
    window = make_window("zh")
    view = _open_tab(qtbot, window)
    ids = [p["id"] for p in seeded["payments"]]
    assert [view.model.record(r)["id"] for r in range(view.model.rowCount())] == [
        ids[2], ids[4], ids[3], ids[1], ids[0]]  # newest first
    shot(window, "payments_list_zh")
    view.kind.setCurrentIndex(view.kind.findData("planned"))
    settle(qtbot, window.ctx)
    assert [view.model.record(r)["id"] for r in range(view.model.rowCount())] == [ids[2]]
    view.kind.setCurrentIndex(view.kind.findData(None))
    view.search.setText("HT-2026")
    view.apply_filter()
    settle(qtbot, window.ctx)
    assert [view.model.record(r)["id"] for r in range(view.model.rowCount())] == [ids[1]]
    assert view.model.record(0)["_target"] == LONG_TITLE  # its deal, through the contract
    view.search.setText("没有这个")
    view.apply_filter()
    settle(qtbot, window.ctx)
    assert view.stack.currentWidget() is view.empty
    assert view.empty.text() == Translator("zh").tr(EMPTY_TEXT["filtered"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_rep_reads_payments_and_may_not_write_them(
        qtbot: Any, make_window: Callable[..., Any], profile: Path, lang: str) -> None:
    seeded = _seed(profile, "rep")
    window = make_window(lang)
    ctx, tr = window.ctx, Translator(lang).tr
    view = _open_tab(qtbot, window)
    assert view.model.rowCount() == 5
    assert not view.new_button.isEnabled()
    assert view.new_button.toolTip() == tr(WHY_TEXT["add"])
    shot(window, f"payments_list_rep_{lang}")

    dlg = window.records_ui.edit_record("payment", seeded["payments"][0])
    settle(qtbot, ctx)
    assert isinstance(dlg, PaymentDialog)
    assert not dlg.may_write
    assert dlg.notice.isVisibleTo(dlg) and dlg.notice.text() == tr(READ_ONLY_TEXT["why"])
    assert dlg.save_button.isHidden() and not dlg.save_button.isEnabled()
    assert dlg.amount.isReadOnly() and dlg.amount.text() == "0.10"
    assert not dlg.kind.isEnabled() and not dlg.target.isEnabled()
    assert dlg.target.currentText().endswith(LONG_TITLE)
    dlg.save()  # even called directly, a read-only form writes nothing
    settle(qtbot, ctx)
    if lang == "en":
        shot(dlg, "payments_form_read_only_en")
    dlg.reject()

    deal_dlg = window.records_ui.edit_record("deal", seeded["deal"])
    settle(qtbot, ctx)
    section = deal_dlg.payments
    assert section is not None
    assert not section.add_button.isEnabled()
    assert section.add_button.toolTip() == tr(WHY_TEXT["add"])
    assert section.collected.text() == "CNY 0.30"  # 0.1 + 0.2 exactly
    assert section.outstanding.text() == "CNY 1,200,000.20"
    assert section.planned.text() == "CNY 400,000.00"
    assert section.table.rowCount() == 4
    assert "USD 5,000.00" in section.other.text()
    shot(deal_dlg, f"payments_deal_section_{lang}")
    with Store.open(profile) as store:
        assert store.repo("payment").get(seeded["payments"][0]["id"])["amount"] == 0.1


def test_every_form_message_has_chinese() -> None:
    zh = Translator("zh")
    for message in pform.FORM_ERRORS:
        assert zh.tr(message) != message, message
    for text in (*EMPTY_TEXT.values(), *WHY_TEXT.values(), *READ_ONLY_TEXT.values()):
        assert zh.tr(text) != text, text
