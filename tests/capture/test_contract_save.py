"""Saving a confirmed contract into the real local store."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from desktop.capture.contract_fields import FIELDS, FieldResult
from desktop.capture.contract_save import (
    create_party_account,
    match_account,
    reconcile_parties,
    save_contract,
)
from desktop.errors import ValidationError
from desktop.store import Store

A_USCC = "91310115MA1K4ABC2X"


def _valid(code: str) -> str:
    from desktop.schema import uscc_check_char

    return code[:17] + (uscc_check_char(code[:17]) or "")


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store.open(tmp_path / "profile")
    yield s
    s.close()


@pytest.fixture()
def page(tmp_path: Path) -> Path:
    p = tmp_path / "page1.png"
    Image.new("RGB", (50, 70), "white").save(p)
    return p


def _values(a_uscc: str, b_name: str = "北京华信贸易有限公司") -> dict:
    return {"contract_no": "HT-2026-00123", "party_a_name": "上海星辰科技有限公司",
            "party_a_uscc": a_uscc, "party_b_name": b_name, "party_b_uscc": None,
            "amount": 1200000, "amount_in_words": "人民币壹佰贰拾万元整", "currency": "CNY",
            "sign_date": "2026-03-15"}


def test_save_links_deal_pages_and_matched_accounts(store: Store, page: Path) -> None:
    a_uscc = _valid(A_USCC)
    acc_a = store.repo("account").create({"name": "星辰科技（上海）", "uscc": a_uscc})
    acc_b = store.repo("account").create({"name": "北京 华信贸易有限公司"})
    deal = store.repo("deal").create({"title": "ERP rollout", "account_id": acc_a["id"]})
    out = save_contract(store, _values(a_uscc, "北京华信贸易有限公司"), deal_id=deal["id"],
                        files=[page])
    c = store.repo("contract").get(out.contract["id"])
    assert c["deal_id"] == deal["id"] and c["amount"] == 1200000 and c["sign_date"] == "2026-03-15"
    assert c["party_a_account_id"] == acc_a["id"]  # by credit code although the name differs
    assert c["party_b_account_id"] == acc_b["id"]  # by normalised name
    assert out.unmatched == []
    sha = c["pages"][0]
    assert store.blobs.path(sha).read_bytes() == page.read_bytes()
    att = store.repo("attachment").find(sha256=sha)
    assert att and att[0]["deal_id"] == deal["id"] and att[0]["mime_type"] == "image/png"


def test_unmatched_party_is_reported_and_can_be_created(store: Store, page: Path) -> None:
    deal = store.repo("deal").create({"title": "Pilot"})
    out = save_contract(store, _values(_valid(A_USCC)), deal_id=deal["id"], files=[page])
    assert [(u.side, u.name) for u in out.unmatched] == [("a", "上海星辰科技有限公司"),
                                                        ("b", "北京华信贸易有限公司")]
    acc = create_party_account(store, out.contract["id"], out.unmatched[0])
    assert store.repo("contract").get(out.contract["id"])["party_a_account_id"] == acc["id"]
    assert match_account(store, None, _valid(A_USCC))["id"] == acc["id"]


def test_bad_credit_code_saves_nothing(store: Store, page: Path) -> None:
    deal = store.repo("deal").create({"title": "Pilot"})
    bad = A_USCC[:17] + ("0" if _valid(A_USCC)[17] != "0" else "1")
    with pytest.raises(ValidationError, match="credit code"):
        save_contract(store, _values(bad), deal_id=deal["id"], files=[page])
    assert list(store.repo("contract").iter_all()) == []
    assert list(store.repo("attachment").iter_all()) == []


def test_party_spelled_differently_is_linked_to_the_existing_account(store: Store,
                                                                     page: Path) -> None:
    existing = store.repo("account").create({"name": "星辰科技（上海）有限公司"})
    other_city = store.repo("account").create({"name": "华信贸易上海分公司"})
    values = _values("", "华信贸易北京分公司") | {"party_a_uscc": None}
    out = save_contract(store, values, deal_id=None, files=[page])
    c = store.repo("contract").get(out.contract["id"])
    assert c["party_a_account_id"] == existing["id"]  # city prefix vs bracket: same company
    assert out.reasons["a"] == ("name",)
    # another city's branch is another customer: offered as new, not linked to Shanghai's
    assert c.get("party_b_account_id") != other_city["id"]
    assert [u.name for u in out.unmatched] == ["华信贸易北京分公司"]
    assert len(list(store.repo("account").iter_all())) == 2


def test_creating_a_party_account_that_arrived_meanwhile_links_it(store: Store,
                                                                  page: Path) -> None:
    out = save_contract(store, _values(_valid(A_USCC)), deal_id=None, files=[page])
    arrived = store.repo("account").create({"name": "上海星辰科技有限公司"})  # e.g. by sync
    acc = create_party_account(store, out.contract["id"], out.unmatched[0])
    assert acc["id"] == arrived["id"]
    assert store.repo("contract").get(out.contract["id"])["party_a_account_id"] == arrived["id"]
    assert len(list(store.repo("account").iter_all())) == 1


def _read(a_name: str, a_uscc: str | None, b_name: str) -> dict[str, FieldResult]:
    fields = {name: FieldResult() for name in FIELDS}
    fields["party_a_name"] = FieldResult(a_name, 0.95)
    fields["party_a_uscc"] = FieldResult(a_uscc, 0.95 if a_uscc else 0.0)
    fields["party_b_name"] = FieldResult(b_name, 0.95)
    return fields


def test_a_misread_party_name_takes_the_existing_accounts_name(store: Store) -> None:
    xiamen = store.repo("account").create({"name": "厦门星辰科技有限公司"})
    shanghai = store.repo("account").create({"name": "上海华信贸易有限公司"})
    # No credit code read: 厦内 is fixed by the division table and the account confirms
    # it; 上诲 could be 上海 or 上饶, and only 上海's company is in the book.
    fields = _read("厦内星辰科技有限公司", None, "上诲华信贸易有限公司")
    matched = reconcile_parties(store, fields)
    assert fields["party_a_name"].value == "厦门星辰科技有限公司"
    assert fields["party_a_name"].raw == "厦内星辰科技有限公司" and fields["party_a_name"].flagged
    assert "厦门星辰科技有限公司" in (fields["party_a_name"].warning_in("zh") or "")
    assert fields["party_b_name"].value == "上海华信贸易有限公司"
    assert matched["a"]["id"] == xiamen["id"] and matched["b"]["id"] == shanghai["id"]


def test_the_credit_code_finds_the_account_and_a_misread_brand_is_fixed(store: Store) -> None:
    code = _valid(A_USCC)
    acc = store.repo("account").create({"name": "上海星辰科技有限公司", "uscc": code})
    fields = _read("上海星晨科抆有限公司", code, "北京华信贸易有限公司")
    matched = reconcile_parties(store, fields)
    assert matched == {"a": acc} and fields["party_a_name"].value == "上海星辰科技有限公司"
    assert fields["party_b_name"].value == "北京华信贸易有限公司"  # no account: as read


def test_the_same_company_written_another_way_keeps_the_name_on_the_paper(store: Store) -> None:
    store.repo("account").create({"name": "星辰科技（上海）有限公司"})
    fields = _read("上海星辰科技有限公司", None, "博远信息技术有限公司")
    matched = reconcile_parties(store, fields)
    assert "a" in matched and fields["party_a_name"].value == "上海星辰科技有限公司"
    assert fields["party_a_name"].warning is None
    assert fields["party_b_name"].value == "博远信息技术有限公司"  # no 清远 made up


def test_capture_cli_corrects_names_against_the_profiles_accounts(tmp_path: Path) -> None:
    from desktop.capture.contract import ContractResult
    from desktop.capture.contract_cli import _reconcile
    from desktop.capture.contract_fields import extract_fields
    from desktop.capture.ocr import OcrLine

    lines = [OcrLine(t, 0.97, (100, y, 600, y + 30), 0) for t, y in (
        ("合同编号：HT-2026-00123", 100), ("甲方：厦内星辰科技有限公司", 160),
        ("乙方：北京华信贸易有限公司", 260), ("签订日期：2026年3月15日", 900))]

    def read() -> ContractResult:
        fields, warnings = extract_fields(lines)
        return ContractResult(fields, warnings, "test", 1, 0.0)

    nowhere = tmp_path / "no-profile-yet"
    result = read()
    _reconcile(nowhere, result)  # no database there: nothing is created or changed
    assert not nowhere.exists() and result.fields["party_a_name"].value == "厦内星辰科技有限公司"

    profile = tmp_path / "profile"
    with Store.open(profile) as s:
        s.repo("account").create({"name": "厦门星辰科技有限公司"})
    result = read()
    _reconcile(profile, result)
    assert result.fields["party_a_name"].value == "厦门星辰科技有限公司"
    assert any(w.startswith("party_a_name: ") and "厦门星辰" in w for w in result.warnings)
    assert "party_a_uscc: not found" in result.warnings
    assert result.to_json()["fields"]["party_a_name"]["value"] == "厦门星辰科技有限公司"
