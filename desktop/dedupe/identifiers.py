"""Phones, emails and credit codes in the one form two records are compared in."""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum.cn import uscc as stdnum_uscc

from desktop.dedupe.names import normalise_text
from desktop.errors import ValidationError
from desktop.schema import is_valid_uscc, normalize_phone

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# A credit code in python-stdnum's form: 8 digits, then its alphabet (no I, O, S, V, Z).
_USCC_PLAIN = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}")


def phone_e164(raw: str | None) -> str | None:
    """E.164 (through phonenumbers), or None when `raw` is not a valid number. A value
    already in E.164 form (every stored phone: the store normalises them) is taken as is."""
    if not raw or not raw.strip():
        return None
    if _E164.fullmatch(raw):
        return raw
    try:
        return normalize_phone(normalise_text(raw))
    except ValidationError:
        return None


@lru_cache(maxsize=50_000)
def is_mobile(e164: str) -> bool:
    """A personal number: a switchboard shared by a whole company is not a contact's."""
    if e164.startswith("+861") and len(e164) == 14:
        return True  # Chinese mobiles: 1xx xxxx xxxx
    import phonenumbers

    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return kind in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def email_key(raw: str | None) -> str | None:
    if not raw:
        return None
    text = normalise_text(raw).strip()
    return text if "@" in text else None


def uscc_key(raw: str | None) -> str | None:
    """The credit code when it is valid, else None. python-stdnum checks the common
    case; it rejects codes whose registration authority is a letter (Y, N ...), which
    GB 32100 allows, so those get the standard's check character from desktop.schema."""
    if not raw:
        return None
    code = normalise_text(raw).strip().upper().replace(" ", "").replace("-", "")
    if _USCC_PLAIN.fullmatch(code) and is_valid_uscc(code):
        return code  # what python-stdnum accepts, checked without its (slow) clean-up
    if stdnum_uscc.is_valid(code):
        return code
    if code[:1].isalpha() and is_valid_uscc(code):
        return code
    return None
