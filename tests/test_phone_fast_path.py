"""The fast path for Chinese mobiles must agree with phonenumbers on every input."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.errors import ValidationError
from desktop.schema import normalize_phone


def _reference(raw: str) -> str | None:
    try:
        num = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def _ours(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except ValidationError:
        return None


digits = st.text("0123456789", min_size=10, max_size=12)
seps = st.sampled_from(["", " ", "-", "  "])


@settings(max_examples=3000, deadline=None)
@given(prefix=st.sampled_from(["", "+86", "+86 ", "0086", "(+86) ", "+1 ", "0"]),
       head=st.sampled_from(["13", "14", "15", "16", "17", "18", "19", "10", "12", "1"]),
       body=digits, sep1=seps, sep2=seps)
def test_mobile_numbers_normalise_exactly_as_phonenumbers_does(
        prefix: str, head: str, body: str, sep1: str, sep2: str) -> None:
    number = (head + body)[:11]
    raw = f"{prefix}{number[:3]}{sep1}{number[3:7]}{sep2}{number[7:]}"
    assert _ours(raw) == _reference(raw)


def test_landlines_and_foreign_numbers_still_go_through_phonenumbers() -> None:
    assert normalize_phone("010-6552 9988") == "+861065529988"
    assert normalize_phone("+1 650-253-0000") == "+16502530000"
    assert _ours("139 1234") is None


@settings(max_examples=3000, deadline=None)
@given(prefix=st.sampled_from(["+86", "+86 ", "0086", "(+86) ", "+86-", "", "0", "00",
                              "(0", "+860"]),
       head=st.sampled_from(["2", "3", "4", "5", "6", "7", "8", "9", "21", "755", "431",
                             "852", "86", "95", "10", "0"]),
       body=st.text("0123456789", min_size=4, max_size=11), sep1=seps, sep2=seps)
def test_landlines_normalise_exactly_as_phonenumbers_does(
        prefix: str, head: str, body: str, sep1: str, sep2: str) -> None:
    number = head + body
    raw = f"{prefix}{number[:3]}{sep1}{number[3:6]}{sep2}{number[6:]}"
    assert _ours(raw) == _reference(raw)


def test_landlines_with_86_or_0_take_the_fast_path() -> None:
    import desktop.schema.checks as checks

    assert checks._cn_mobile("+86 22 7026 9809", "CN") == "+862270269809"
    assert checks._cn_mobile("0086-755-8888-1234", "CN") == "+8675588881234"
    assert checks._cn_mobile("022-7026-9809", "CN") == "+862270269809"
    assert checks._cn_mobile("2270269809", "CN") is None  # no prefix: phonenumbers reads it
    assert normalize_phone("2270269809") == "+862270269809"
