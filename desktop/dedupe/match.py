"""Is record B probably the same customer as record A, how sure, and why.

The customers' rule: same phone, or a company name at least 92% similar, or the same
credit code (USCC) is a probable duplicate. For contacts: the same mobile or email, or
the same name within the same account. Names are compared by their strong part (the
brand, desktop.dedupe.names); the weak parts only veto: a branch in another city, a
different city written in both names, or two different valid credit codes mean two
different companies however alike the brands are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from desktop.dedupe.identifiers import email_key, is_mobile, phone_e164, uscc_key
from desktop.dedupe.names import NameParts, parse_name, person_key
from desktop.store.textindex import pinyin_syllables

DEFAULT_THRESHOLD = 92.0
ENTITIES = ("account", "contact")
# Reasons, strongest first (also the order they are listed in).
REASONS = ("uscc", "phone", "email", "name")
# Scores a veto leaves at most: below any sensible threshold, above zero so the
# comparison is still visible when debugging a pair.
_OTHER_BRANCH = 60.0
_OTHER_CITY = 75.0
_OTHER_CODE = 80.0
_WEAK_DIFFERENCE = 1.0  # a legal form written differently still counts a little
_DIGITS = re.compile(r"\d+")
OTHER_BRAND = 85.0  # a brand that is another word, not a typo of it
HOMOPHONE_TYPO = 96.0  # 腾迅 for 腾讯: the same pinyin, the wrong character picked
# The customers' 92% was said of whole names, and a company name carries a few more
# characters than its brand (有限公司, Co Ltd): a typo in a short brand is judged as in
# the whole name, not as a quarter of the brand.
CN_NAME_REST = "有限公司"
_EN_NAME_REST = "coltd"


@dataclass(frozen=True)
class Probe:
    """What one record (saved or being typed) brings to a comparison."""

    entity: str
    name: str
    parts: NameParts | None  # accounts
    person: str  # contacts: person_key of the name
    phones: frozenset[str]  # E.164; for contacts only mobiles count
    emails: frozenset[str]
    uscc: str | None
    account_id: str | None


@dataclass(frozen=True)
class Match:
    score: float
    reasons: tuple[str, ...]


def _phones(values: Iterable[str | None], mobiles_only: bool) -> frozenset[str]:
    out = set()
    for raw in values:
        e164 = phone_e164(raw)
        if e164 and (not mobiles_only or is_mobile(e164)):
            out.add(e164)
    return frozenset(out)


def probe(entity: str, values: Mapping[str, Any]) -> Probe:
    """The probe of a record's values (a stored record, or the fields typed so far)."""
    name = str(values.get("name") or "")
    if entity == "account":
        phones = _phones([values.get("phone")], mobiles_only=False)
        email = None
        parts: NameParts | None = parse_name(name) if name.strip() else None
        person = ""
    elif entity == "contact":
        listed = values.get("phones") or []
        phones = _phones([listed] if isinstance(listed, str) else listed, mobiles_only=True)
        email = email_key(values.get("email"))
        parts = None
        person = person_key(name)
    else:
        raise ValueError(f"duplicates are checked for accounts and contacts, not {entity}")
    return Probe(entity=entity, name=name, parts=parts, person=person, phones=phones,
                 emails=frozenset([email]) if email else frozenset(),
                 uscc=uscc_key(values.get("uscc")), account_id=values.get("account_id") or None)


def company_name_score(a: NameParts, b: NameParts, *, codes_differ: bool = False) -> float:
    """0-100: how alike two company names are, by brand, with the vetoes applied; the
    best of their readings (NameParts.alt)."""
    score = _reading_score(a, b, codes_differ)
    # The other reading (a place kept as part of the brand) counts only when it makes
    # the two brands the same: 深圳宁德时代 / 宁德时代, not 武汉迪摩 / 北京迪摩 (a place
    # kept in one brand must not turn two cities into a typo).
    for x in a.readings():
        for y in b.readings():
            if (x is not a or y is not b) and x.core == y.core:
                score = max(score, _reading_score(x, y, codes_differ))
    return score


@lru_cache(maxsize=100_000)
def pinyin_of(text: str) -> list[str]:
    return pinyin_syllables(text)


def brand_score(a: NameParts, b: NameParts) -> float:
    """Brands alike by rapidfuzz's ratio, except where the difference is a whole other
    word: Orion / Horizon Electronics (a first word more than one edit apart), 腾讯 /
    腾达 (a character replaced by one that sounds different; 腾迅, a homophone picked
    from the pinyin input method, is a typo). Words in another order count as equal."""
    if a.core == b.core:
        return 100.0
    score = fuzz.ratio(a.core, b.core)
    if _DIGITS.findall(a.core) != _DIGITS.findall(b.core):
        return min(score, OTHER_BRAND)  # 第1 / 第10, Acme 2 / Acme 3: numbers tell them apart
    if a.latin or b.latin:
        wa, wb = a.words.split(), b.words.split()
        if sorted(wa) == sorted(wb):
            return 100.0
        if wa and wb and wa[0] != wb[0] and OSA.distance(wa[0], wb[0]) > 1:
            return min(score, OTHER_BRAND)
        return max(score, fuzz.ratio(a.core + _EN_NAME_REST, b.core + _EN_NAME_REST))
    if len(a.core) == len(b.core):
        pa, pb = pinyin_of(a.core), pinyin_of(b.core)
        differ = [i for i, (x, y) in enumerate(zip(a.core, b.core, strict=True)) if x != y]
        if all(pa[i] == pb[i] for i in differ):
            return max(score, HOMOPHONE_TYPO - len(differ) + 1)
        return min(score, OTHER_BRAND)
    return max(score, fuzz.ratio(a.core + CN_NAME_REST, b.core + CN_NAME_REST))


def _reading_score(a: NameParts, b: NameParts, codes_differ: bool) -> float:
    if not a.core or not b.core:
        return 0.0
    score = brand_score(a, b)
    if a.legal and b.legal and a.legal != b.legal:
        score -= _WEAK_DIFFERENCE
    if (a.branch is None) != (b.branch is None) or (
            a.branch and b.branch and a.branch != b.branch):
        score = min(score, _OTHER_BRANCH)
    if a.places and b.places and not (a.places & b.places):
        score = min(score, _OTHER_CITY)
    if codes_differ:
        score = min(score, _OTHER_CODE)
    return max(0.0, float(score))


def person_name_score(a: Probe, b: Probe) -> float:
    """Contacts: a name counts only within the same account (张伟 is a common name)."""
    if not a.person or not b.person or not a.account_id or a.account_id != b.account_id:
        return 0.0
    return float(fuzz.ratio(a.person, b.person))


def compare(a: Probe, b: Probe, threshold: float = DEFAULT_THRESHOLD) -> Match | None:
    """The match of b against a when it is a probable duplicate, else None."""
    reasons = []
    if a.uscc and a.uscc == b.uscc:
        reasons.append("uscc")
    if a.phones & b.phones:
        reasons.append("phone")
    if a.emails & b.emails:
        reasons.append("email")
    if a.entity == "account" and a.parts and b.parts:
        codes_differ = bool(a.uscc and b.uscc and a.uscc != b.uscc)
        name = company_name_score(a.parts, b.parts, codes_differ=codes_differ)
    else:
        name = person_name_score(a, b)
    if name >= threshold:
        reasons.append("name")
    if not reasons:
        return None
    score = 100.0 if reasons[0] != "name" else name
    return Match(score=round(score, 1), reasons=tuple(reasons))
