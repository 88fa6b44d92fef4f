"""The matcher without a store: normalisation, scoring, reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.dedupe.identifiers import is_mobile, phone_e164, uscc_key
from desktop.dedupe.match import company_name_score, compare, probe
from desktop.dedupe.names import normalise_text, parse_name, person_key
from tests.dedupe.eval_set import CN_BRANDS, CN_CITIES, CN_INDUSTRY, CN_LEGAL, fullwidth


def account(**values: object) -> object:
    return probe("account", values)


def test_city_prefix_and_bracket_are_weak_parts_of_one_brand() -> None:
    a = parse_name("深圳市腾讯计算机系统有限公司")
    b = parse_name("腾讯计算机系统（深圳）有限公司")
    assert a.core == b.core == "腾讯计算机系统"
    assert a.places == b.places == {"深圳"}
    assert a.legal == b.legal == "有限公司"


def test_branch_city_is_kept_apart_from_the_brand() -> None:
    assert parse_name("腾讯计算机系统有限公司北京分公司").branch == "北京"
    assert parse_name("腾讯上海分公司").branch == "上海"
    assert parse_name("Acme Ltd, Beijing Branch").branch == "beijing"
    assert parse_name("腾讯计算机系统有限公司").branch is None


def test_a_place_without_shi_is_read_both_ways() -> None:
    # 宁德 is a city and the first half of a brand: both readings are compared
    a = account(name="深圳宁德时代科技有限公司")
    b = account(name="宁德时代科技有限公司")
    assert compare(a, b) is not None
    assert compare(account(name="深圳宁德时代科技有限公司"),
                   account(name="苏州市宁德时代科技有限公司")) is None


@pytest.mark.parametrize(("a", "b"), [
    # another brand, 93% alike as strings
    ("深圳市腾讯计算机系统有限公司", "深圳市腾达计算机系统有限公司"),
    ("腾讯北京分公司", "腾讯上海分公司"),
    ("腾讯计算机系统有限公司", "腾讯计算机系统有限公司上海分公司"),
    ("Orion Electronics Inc.", "Horizon Electronics Inc."),
    ("Acme Ltd, Beijing Branch", "Acme Ltd, Shanghai Branch"),
    ("北京华强科技有限公司", "上海市华强科技有限公司"),
])
def test_hard_negatives_are_not_duplicates(a: str, b: str) -> None:
    assert compare(account(name=a), account(name=b)) is None


@pytest.mark.parametrize(("a", "b"), [
    ("深圳市腾讯计算机系统有限公司", "腾讯计算机系统（深圳）有限公司"),
    ("深圳市腾讯计算机系统有限公司", "深圳市腾迅计算机系统有限公司"),  # homophone typo
    ("ACME Technologies Co., Ltd.", "Acme Technolgies Company Limited"),
    ("Smith, Johnson & Lee Inc.", "smith johnson and lee"),
    ("ＡＢＣ　Trading　Ltd", "abc trading limited"),
])
def test_variants_are_duplicates_by_name(a: str, b: str) -> None:
    match = compare(account(name=a), account(name=b))
    assert match is not None and match.reasons == ("name",) and match.score >= 92


def test_reasons_list_every_rule_that_fired_and_exact_ones_score_100() -> None:
    a = account(name="深圳市腾讯计算机系统有限公司", phone="+86 139-1234-5678",
                uscc="91440300708461136T")
    b = account(name="腾讯计算机系统有限公司", phone="13912345678", uscc="91440300708461136t")
    match = compare(a, b)
    assert match is not None and match.reasons == ("uscc", "phone", "name") and match.score == 100


def test_two_different_credit_codes_veto_a_name_match() -> None:
    a = account(name="华强科技有限公司", uscc="91440300708461136T")
    b = account(name="华强科技股份有限公司", uscc="Y1110000MA01ABCD0W")
    assert compare(a, b) is None
    assert company_name_score(parse_name("华强科技有限公司"),
                              parse_name("华强科技股份有限公司")) >= 92


def test_credit_codes_that_begin_with_a_letter_are_valid() -> None:
    # python-stdnum 2.2 rejects these; GB 32100 allows registration authorities Y and N
    assert uscc_key("Y1110000MA01ABCD0W") == "Y1110000MA01ABCD0W"
    assert uscc_key("n2110108ma0012345l") == "N2110108MA0012345L"
    assert uscc_key("91440300708461136T") == "91440300708461136T"
    assert uscc_key("91440300708461136X") is None  # wrong check character
    assert uscc_key("Y1110000MA01ABCD0X") is None


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@settings(max_examples=400, deadline=None)
@given(st.text(_USCC_CHARS + "IOSVZa -０９Ａ", min_size=17, max_size=19), st.booleans())
def test_credit_codes_are_read_as_python_stdnum_reads_them(text: str, fix: bool) -> None:
    """The fast path (plain codes checked without stdnum's clean-up) accepts what
    python-stdnum accepts, plus the codes that begin with a letter."""
    from stdnum.cn import uscc as stdnum_uscc

    from desktop.schema import is_valid_uscc

    if fix and len(text) >= 17 and all(c in _USCC_CHARS for c in text[:17]):
        text = text[:17] + stdnum_uscc.calc_check_digit(text[:17])
    code = normalise_text(text).strip().upper().replace(" ", "").replace("-", "")
    want = code if stdnum_uscc.is_valid(code) or (
        code[:1].isalpha() and is_valid_uscc(code)) else None
    assert uscc_key(text) == want


def test_phones_compare_in_e164() -> None:
    assert phone_e164("０086 139 1234 5678") == phone_e164("(139) 1234-5678") == "+8613912345678"
    assert phone_e164("not a phone") is None
    assert is_mobile("+8613912345678") and not is_mobile("+862155551234")


def test_contacts_same_name_only_within_one_account() -> None:
    acc = "01890000-0000-7000-8000-000000000001"
    other = "01890000-0000-7000-8000-000000000002"
    a = probe("contact", {"name": "张伟", "account_id": acc})
    assert compare(a, probe("contact", {"name": "张 伟", "account_id": acc})) is not None
    assert compare(a, probe("contact", {"name": "张伟", "account_id": other})) is None
    assert compare(a, probe("contact", {"name": "张伟"})) is None
    assert person_key("Smith, John") == person_key("JOHN SMITH")


def test_contacts_share_mobiles_and_emails_not_a_switchboard() -> None:
    a = probe("contact", {"name": "A", "phones": ["+86 21 5555 1234", "139 1234 5678"],
                          "email": "A@X.com"})
    assert compare(
        a, probe("contact", {"name": "B", "phones": ["13912345678"]})).reasons == ("phone",)
    assert compare(a, probe("contact", {"name": "B", "email": "a@x.COM"})).reasons == ("email",)
    assert compare(a, probe("contact", {"name": "B", "phones": ["021-5555-1234"]})) is None


names = st.builds(lambda c, b, i, lf: (c, b, i, lf), st.sampled_from(CN_CITIES),
                  st.sampled_from(CN_BRANDS), st.sampled_from(CN_INDUSTRY),
                  st.sampled_from(CN_LEGAL))


@settings(max_examples=200, deadline=None)
@given(names, st.sampled_from(["prefix", "prefix_no_shi", "bracket", "missing"]),
       st.sampled_from(CN_LEGAL))
def test_any_city_writing_and_legal_form_is_the_same_customer(
        name: tuple[str, str, str, str], writing: str, other_legal: str) -> None:
    city, brand, ind, legal = name
    a = f"{city}市{brand}{ind}{legal}"
    b = {"prefix": f"{city}市{brand}{ind}{other_legal}",
         "prefix_no_shi": f"{city}{brand}{ind}{other_legal}",
         "bracket": f"{brand}{ind}（{city}）{other_legal}",
         "missing": f"{brand}{ind}{other_legal}"}[writing]
    assert compare(account(name=a), account(name=b)) is not None


@settings(max_examples=200, deadline=None)
@given(names, st.sampled_from(CN_CITIES))
def test_a_branch_in_another_city_is_never_the_same_account(
        name: tuple[str, str, str, str], other_city: str) -> None:
    city, brand, ind, legal = name
    a = account(name=f"{brand}{ind}{legal}{city}分公司")
    b = account(name=f"{brand}{ind}{legal}{other_city}分公司")
    assert (compare(a, b) is not None) == (city == other_city)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
               max_size=30),
       st.text(min_size=1, max_size=30))
def test_scores_are_symmetric_and_full_width_changes_nothing(x: str, y: str) -> None:
    assert parse_name(fullwidth(x)) == parse_name(x)
    px, py = parse_name(x), parse_name(y)
    assert company_name_score(px, py) == company_name_score(py, px)
    assert 0 <= company_name_score(px, py) <= 100
