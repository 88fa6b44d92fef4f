"""desktop.finance without Qt: exact Decimal sums, mixed currencies, planned vs received,
the list's filter and titles, the form's checks, who may write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from desktop.errors import ValidationError
from desktop.finance import (
    PaymentInput,
    attach_targets,
    check_payment,
    deal_payments,
    find_targets,
    list_filter,
    may_record_payments,
    money,
    parse_amount,
    payment_role,
    save_payment,
    summarize,
    target_of,
)
from desktop.finance import form as pform
from desktop.store import Store


def test_money_reads_floats_exactly_to_the_cent() -> None:
    assert money(0.1) + money(0.2) == Decimal("0.30")
    assert money(None) == Decimal("0.00")
    assert money(12800) == Decimal("12800.00")
    assert money(2.675) == Decimal("2.68")  # the stored text 2.675, half-up: not 2.67
    assert money("99.995") == Decimal("100.00")


def test_summary_sums_received_in_the_deals_currency_and_keeps_others_apart() -> None:
    deal = {"id": "d1", "amount": 500000, "signed_amount": 300000.3, "currency": "CNY"}
    payments = [
        {"id": "p1", "kind": "received", "amount": 0.1, "currency": "CNY", "date": "2026-01-02"},
        {"id": "p2", "kind": "received", "amount": 0.2, "currency": None, "date": "2026-01-03"},
        {"id": "p3", "kind": "received", "amount": 100000, "currency": "cny",
         "date": "2026-02-01"},
        {"id": "p4", "kind": "planned", "amount": 200000, "currency": "CNY", "date": "2026-06-01"},
        {"id": "p5", "kind": "received", "amount": 1000, "currency": "USD", "date": "2026-03-01"},
        {"id": "p6", "kind": "planned", "amount": 500.5, "currency": "USD", "date": "2026-07-01"},
        {"id": "p7", "kind": "received", "amount": 99, "currency": "CNY", "date": "2026-03-01",
         "deleted": 1},
    ]
    s = summarize(deal, payments)
    assert s.currency == "CNY"
    assert s.collected == Decimal("100000.30")  # not 100000.30000000000000004, not + USD
    assert s.planned == Decimal("200000.00")
    assert (s.signed, s.signed_is_amount) == (Decimal("300000.30"), False)
    assert s.outstanding == Decimal("200000.00")
    assert [(o.currency, o.received, o.planned) for o in s.other] == [
        ("USD", Decimal("1000.00"), Decimal("500.50"))]
    assert [p["id"] for p in s.payments] == ["p6", "p4", "p5", "p3", "p2", "p1"]


def test_summary_without_a_signed_amount_uses_the_deal_amount_and_says_so() -> None:
    s = summarize({"id": "d", "amount": 80000, "currency": "USD"},
                  [{"kind": "received", "amount": 30000, "currency": "USD", "date": "2026-01-01"},
                   {"kind": "received", "amount": 10000, "currency": "CNY", "date": "2026-01-01"}])
    assert (s.currency, s.signed, s.signed_is_amount) == ("USD", Decimal("80000.00"), True)
    assert (s.collected, s.outstanding) == (Decimal("30000.00"), Decimal("50000.00"))
    assert [o.currency for o in s.other] == ["CNY"]
    bare = summarize({"id": "d"}, [])
    assert (bare.currency, bare.signed, bare.outstanding) == ("CNY", None, None)
    assert bare.collected == Decimal("0.00")


def _seed(store: Store) -> dict[str, Any]:
    deal = store.repo("deal").create({"title": "华东区域智能仓储改造项目（二期）",
                                      "amount": 1200000, "currency": "CNY",
                                      "signed_amount": 1000000})
    other = store.repo("deal").create({"title": "Acme renewal", "currency": "USD"})
    contract = store.repo("contract").create({"contract_no": "HT-2026-018", "deal_id": deal["id"],
                                              "party_a_name": "上海远航物流有限公司",
                                              "currency": "CNY"})
    pay = store.repo("payment")
    made = [
        pay.create({"kind": "received", "amount": 300000.1, "currency": "CNY",
                    "date": "2026-03-01", "deal_id": deal["id"], "invoice_no": "FP-0001"}),
        pay.create({"kind": "received", "amount": 0.2, "currency": "CNY", "date": "2026-03-02",
                    "contract_id": contract["id"], "method": "bank_transfer"}),
        pay.create({"kind": "planned", "amount": 400000, "currency": "CNY", "date": "2026-09-01",
                    "deal_id": deal["id"], "note": "第二期"}),
        pay.create({"kind": "received", "amount": 5000, "currency": "USD", "date": "2026-04-01",
                    "deal_id": deal["id"]}),
        pay.create({"kind": "received", "amount": 7, "currency": "USD", "date": "2026-05-01",
                    "deal_id": other["id"]}),
    ]
    return {"deal": deal, "other": other, "contract": contract, "payments": made}


def test_deal_payments_from_the_store_include_its_contracts(store: Store) -> None:
    seeded = _seed(store)
    s = deal_payments(store, seeded["deal"]["id"])
    assert s.collected == Decimal("300000.30")
    assert s.planned == Decimal("400000.00")
    assert s.outstanding == Decimal("699999.70")
    assert [(o.currency, o.received) for o in s.other] == [("USD", Decimal("5000.00"))]
    assert len(s.payments) == 4
    by_id = {p["id"]: p for p in s.payments}
    via_contract = by_id[seeded["payments"][1]["id"]]
    assert (via_contract["_target_kind"], via_contract["_target"]) == (
        "contract", "HT-2026-018 · 上海远航物流有限公司")


def test_the_list_filter_by_kind_and_search_and_newest_first(store: Store) -> None:
    seeded = _seed(store)
    repo = store.repo("payment")

    def ids(kind: str | None = None, text: str = "") -> list[str]:
        where, params = list_filter(kind, text)
        return [r["id"] for r in repo.page(where=where, params=params)]

    p = [r["id"] for r in seeded["payments"]]
    assert ids() == [p[2], p[4], p[3], p[1], p[0]]  # by date, newest first
    assert ids("planned") == [p[2]]
    assert set(ids("received")) == {p[0], p[1], p[3], p[4]}
    assert set(ids(text="仓储")) == {p[0], p[2], p[3]}  # the deal's title
    assert ids(text="HT-2026") == [p[1]]  # the contract's number
    assert ids(text="fp-0001") == [p[0]]  # the invoice No., any case
    assert ids("received", "第二期") == []
    assert ids(text="50%_") == []  # LIKE's wildcards are text, not patterns
    rows = attach_targets(store, repo.page())
    assert {r["_target"] for r in rows} >= {"Acme renewal", "华东区域智能仓储改造项目（二期）"}


def test_find_targets_offers_deals_then_contracts_by_name(store: Store) -> None:
    seeded = _seed(store)
    found = find_targets(store, "二期")
    assert [(t.entity, t.id) for t in found] == [("deal", seeded["deal"]["id"])]
    found = find_targets(store, "远航")
    assert [(t.entity, t.deal_id) for t in found] == [("contract", seeded["deal"]["id"])]


@pytest.mark.parametrize(("typed", "value"), [
    ("12800.50", Decimal("12800.50")), ("12,800.5", Decimal("12800.50")),
    ("￥ 1,000", Decimal("1000.00")), ("0.01", Decimal("0.01")), ("3.000", Decimal("3.00")),
])
def test_amounts_as_typed(typed: str, value: Decimal) -> None:
    assert parse_amount(typed) == value
    assert str(parse_amount(typed)) == str(value)


@pytest.mark.parametrize(("typed", "message"), [
    ("", pform.NOT_A_NUMBER), ("12万", pform.NOT_A_NUMBER), ("abc", pform.NOT_A_NUMBER),
    ("NaN", pform.NOT_A_NUMBER), ("Infinity", pform.NOT_A_NUMBER),
    ("1.005", pform.TOO_MANY_DECIMALS), ("0", pform.NOT_POSITIVE), ("-5", pform.NOT_POSITIVE),
    ("10000000000000", pform.TOO_LARGE),
])
def test_bad_amounts_are_refused_with_their_reason(typed: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_amount(typed)
    assert (caught.value.message, caught.value.field) == (message, "amount")


def test_the_form_check_gives_the_record_or_every_mistake() -> None:
    values, errors = check_payment(PaymentInput(
        kind="received", target=("contract", "c1"), target_deal="d1", amount="1,234.56",
        currency="usd", date=dt.date(2026, 3, 1), method="cheque", invoice_no=" FP-9 "))
    assert errors == {}
    assert values == {"kind": "received", "deal_id": "d1", "contract_id": "c1",
                      "amount": 1234.56, "currency": "USD", "date": "2026-03-01",
                      "method": "cheque", "invoice_no": "FP-9", "note": None}
    assert money(values["amount"]) == Decimal("1234.56")
    _values, errors = check_payment(PaymentInput(
        kind=None, target=None, amount="1.234", currency="", date="2026-02-30",
        method="barter", invoice_no="x" * 101, note="n" * 2001))
    assert errors == {"kind": pform.NO_KIND, "target": pform.NO_TARGET,
                      "amount": pform.TOO_MANY_DECIMALS, "currency": pform.NO_CURRENCY,
                      "date": pform.NO_DATE, "method": pform.BAD_METHOD,
                      "invoice_no": pform.INVOICE_TOO_LONG, "note": pform.NOTE_TOO_LONG}


def test_form_values_store_as_they_read_back(store: Store) -> None:
    seeded = _seed(store)
    values, errors = check_payment(PaymentInput(
        kind="received", target=("deal", seeded["other"]["id"]), amount="0.07",
        currency="USD", date="2026-06-01"))
    assert errors == {}
    rec = store.repo("payment").create(values)
    assert money(rec["amount"]) == Decimal("0.07")
    assert deal_payments(store, seeded["other"]["id"]).collected == Decimal("7.07")


@pytest.mark.parametrize(("role", "may"), [
    ("finance", True), ("admin", True), ("rep", False), ("manager", False),
    ("director", False), ("", False), (None, False), ("root", False)])
def test_only_finance_and_admin_may_record_payments(role: str | None, may: bool) -> None:
    assert may_record_payments(role) is may


def test_the_role_is_the_signed_in_accounts(store: Store) -> None:
    from desktop.sync.auth import Account, save_account

    assert payment_role(store) == ""
    save_account(store, Account("http://127.0.0.1:1", "fang", store.device_id, "finance"))
    assert payment_role(store) == "finance"


def test_a_saved_payment_belongs_to_its_deals_rep(store: Store) -> None:
    """Finance writes it; the deal's rep owns it and so reads it (a payment with no
    owner would be seen by no rep). Moving it to another deal moves the owner."""
    store.set_user("fin")
    ann = store.repo("deal").create({"title": "Ann's", "owner": "ann"})
    bo = store.repo("deal").create({"title": "Bo's", "owner": "bo"})
    lone = store.repo("contract").create({"contract_no": "HT-1", "owner": "cy"})
    values, errors = check_payment(PaymentInput(
        kind="received", target=("deal", ann["id"]), amount="10", currency="CNY",
        date="2026-01-01"))
    assert errors == {}
    rec = save_payment(store, values)
    assert (rec["owner"], rec["deal_id"], rec["amount"]) == ("ann", ann["id"], 10)
    assert "note" not in {k for k, v in rec.items() if v is not None}
    moved = save_payment(store, {**values, "deal_id": bo["id"], "amount": 12.5}, rec)
    assert (moved["owner"], moved["amount"]) == ("bo", 12.5)
    same = save_payment(store, {**values, "deal_id": bo["id"], "amount": 12.5}, moved)
    assert same["id"] == rec["id"]
    values, _ = check_payment(PaymentInput(kind="planned", target=("contract", lone["id"]),
                                           amount="1", currency="CNY", date="2026-02-01"))
    assert save_payment(store, values)["owner"] == "cy"


def test_editing_a_payment_of_a_contract_keeps_its_deal_and_contract(store: Store) -> None:
    seeded = _seed(store)
    deal, contract = seeded["deal"], seeded["contract"]
    stored = store.repo("payment").create({"kind": "received", "amount": 5, "currency": "CNY",
                                           "date": "2026-01-01", "deal_id": deal["id"],
                                           "contract_id": contract["id"]})
    target = target_of(store, stored)
    assert target is not None
    assert (target.entity, target.id, target.deal_id) == ("contract", contract["id"], deal["id"])
    values, errors = check_payment(PaymentInput(
        kind="received", target=(target.entity, target.id), target_deal=target.deal_id,
        amount="6", currency="CNY", date="2026-01-01"))
    assert errors == {}
    saved = save_payment(store, values, stored)
    assert (saved["deal_id"], saved["contract_id"], saved["amount"]) == (
        deal["id"], contract["id"], 6)
    only_deal = store.repo("payment").create({"kind": "planned", "amount": 1, "currency": "CNY",
                                              "date": "2026-01-01", "deal_id": deal["id"]})
    found = target_of(store, only_deal)
    assert found is not None and (found.entity, found.title) == ("deal", deal["title"])
    assert target_of(store, {"id": "x"}) is None
