"""A company name split into its strong part (the brand) and its weak parts (legal
form, city or province, bracketed qualifiers), plus the branch it names, if any.

深圳市腾讯计算机系统有限公司, 腾讯计算机系统（深圳）有限公司 and 腾讯计算机系统 have the
same core; 腾讯北京分公司 and 腾讯上海分公司 are branches in different cities, so
different accounts. English names work the same way (Acme (Shanghai) Co., Ltd.).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from desktop.dedupe.cities import CN_PLACE_SUFFIXES, CN_PLACES, EN_PLACES

# Longest first: 股份有限公司 must go before 有限公司 and 公司.
CN_LEGAL = ("集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司",
            "股份公司", "总公司", "公司", "集团", "有限合伙")
EN_LEGAL = frozenset({"co", "ltd", "limited", "company", "inc", "incorporated", "llc", "gmbh",
                      "corp", "corporation", "plc", "pte", "pty", "ag", "sa", "bv", "group", "lp",
                      "llp", "kg", "srl", "sarl", "nv", "oy", "ab", "as", "the"})
CN_BRANCH = ("分公司", "分行", "分店", "分厂", "办事处", "营业部", "分部", "分所", "分中心")
EN_BRANCH = frozenset({"branch", "office"})

_BRACKETS = re.compile(r"[(\[【〔{]([^)\]】〕}]*)[)\]】〕}]")
_NOT_WORD = re.compile(r"[\W_]+")
_LATIN = re.compile(r"[a-z]")
# Spaces beside a Chinese character separate nothing (深圳 华强, X科技 (深圳) 有限公司).
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f])[\s\W_]+(?=[^\x00-\x7f])"
                        r"|(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


@dataclass(frozen=True)
class NameParts:
    core: str  # the brand: no spaces, punctuation, legal form or city
    words: str  # the same with spaces between words (Latin names: word order)
    places: frozenset[str]  # cities or provinces written in the name (weak)
    legal: str  # the legal form written, normalised (weak)
    branch: str | None  # None: not a branch; "": a branch of no named city; else its city
    latin: bool  # the core has Latin letters (word order may vary)
    # The other reading when a leading place had no 市/省 after it: 宁德时代 is a brand
    # (宁德 kept), 深圳华强 is 华强 in 深圳. Names are compared in both readings.
    alt: NameParts | None = None

    def readings(self) -> tuple[NameParts, ...]:
        return (self,) if self.alt is None else (self, self.alt)


def _place(text: str) -> str | None:
    """The place `text` names (深圳市 -> 深圳, shanghai -> shanghai), or None."""
    for suffix in CN_PLACE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    if text in CN_PLACES or text in EN_PLACES:
        return text
    return None


def _leading_place(text: str) -> tuple[str, str, bool] | None:
    """(place, rest, written with its 市/省 ...) when `text` begins with a Chinese place."""
    for n in (4, 3, 2):
        head = text[:n]
        if head in CN_PLACES:
            rest = text[n:]
            if not rest.startswith(CN_PLACE_SUFFIXES):  # one C call for most names
                return head, rest, False
            for suffix in CN_PLACE_SUFFIXES:
                if rest.startswith(suffix):
                    return head, rest[len(suffix):], True
            return head, rest, False
    return None


def _trailing_place(text: str) -> tuple[str, str] | None:
    """(place, rest) when `text` ends with a Chinese place (and its 市/省 ...)."""
    for suffix in (*CN_PLACE_SUFFIXES, ""):
        if suffix and not text.endswith(suffix):
            continue
        body = text[: len(text) - len(suffix)] if suffix else text
        for n in (4, 3, 2):
            if len(body) > n and body[-n:] in CN_PLACES:
                return body[-n:], body[:-n]
    return None


def _strip_cn_legal(text: str) -> tuple[str, str]:
    legal = ""
    changed = True
    while changed and text.endswith(CN_LEGAL):  # one C call before the loop
        changed = False
        for form in CN_LEGAL:
            if text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)]
                legal = form + legal
                changed = True
                break
    return text, legal


def normalise_text(raw: str) -> str:
    """NFKC (full-width letters, digits, brackets, spaces), lower case, `&` as `and`."""
    text = unicodedata.normalize("NFKC", raw).lower()
    return text.replace("&", " and ").replace("hong kong", "hongkong").replace("l.l.c", "llc")


@lru_cache(maxsize=200_000)
def parse_name(raw: str) -> NameParts:
    parts, ambiguous, alt = _parse(raw, keep_lead=False)
    if ambiguous and alt is None:
        alt, _, _ = _parse(raw, keep_lead=True)
    if alt is not None and alt.core != parts.core:
        return NameParts(parts.core, parts.words, parts.places, parts.legal, parts.branch,
                         parts.latin, alt)
    return parts


def _parts(words: list[str], places: set[str], legal_words: list[str],
           branch: str | None) -> NameParts:
    words = [w for w in words if w]
    core = "".join(words)
    return NameParts(core=core, words=" ".join(words), places=frozenset(places),
                     legal=" ".join(legal_words), branch=branch,
                     latin=bool(_LATIN.search(core)))


def _parse(raw: str, *, keep_lead: bool) -> tuple[NameParts, bool, NameParts | None]:
    """The name's parts; whether a leading place without 市/省 was taken as a place; and
    when only a Chinese one was, the reading that keeps it (else parsed again)."""
    ambiguous = False
    text = normalise_text(raw)
    places: set[str] = set()
    for inner in _BRACKETS.findall(text):
        place = _place(_NOT_WORD.sub("", inner))
        if place:
            places.add(place)
    text = _CJK_SPACE.sub("", _BRACKETS.sub(" ", text))
    words = [w for w in _NOT_WORD.split(text) if w]
    legal_words: list[str] = []
    branch: str | None = None
    # English tail: "..., Beijing Branch", then "Co., Ltd."
    if words and words[-1] in EN_BRANCH and len(words) > 1:
        words.pop()
        branch = ""
        if len(words) > 1 and words[-1] in EN_PLACES:
            branch = words.pop()
    while len(words) > 1 and words[-1] in EN_LEGAL:
        legal_words.insert(0, words.pop())
    if len(words) > 1 and words[0] in EN_PLACES and not keep_lead:
        places.add(words.pop(0))
        ambiguous = True
    if len(words) > 1 and words[-1] in EN_PLACES and legal_words:
        places.add(words.pop())  # Acme Shanghai Co., Ltd.
    # Chinese tail: the branch (X有限公司北京分公司), then the legal form, then the city.
    last = words[-1] if words else ""
    for form in CN_BRANCH if last.endswith(CN_BRANCH) else ():
        if last.endswith(form) and len(last) > len(form):
            last = last[: -len(form)]
            branch = ""
            last, legal = _strip_cn_legal(last)
            tail = _trailing_place(last)
            if tail and tail[1]:
                branch, last = tail
            break
    last, legal = _strip_cn_legal(last)
    if legal:
        legal_words.append(legal)
    if words:
        words[-1] = last
    first = words[0] if words else ""
    lead = _leading_place(first)
    alt = None
    if lead and (lead[1] or len(words) > 1) and not (keep_lead and not lead[2]):
        if not lead[2] and not ambiguous:  # all before this step is as keep_lead makes it
            alt = _parts(words, places, legal_words, branch)
        ambiguous = ambiguous or not lead[2]
        places.add(lead[0])
        words[0] = lead[1]
        # 广东省深圳市X: a province written out, then its city (but 深圳宁德时代: 宁德 is the brand)
        again = _leading_place(words[0]) if lead[2] else None
        if again and again[1] and again[2]:
            places.add(again[0])
            words[0] = again[1]
    return _parts(words, places, legal_words, branch), ambiguous, alt


def person_key(raw: str) -> str:
    """A person's name compared across spellings: NFKC, case, spaces and punctuation
    (张 伟 = 张伟; "Smith, John" and "John Smith" compare by sorted words)."""
    words = [w for w in _NOT_WORD.split(_CJK_SPACE.sub("", normalise_text(raw))) if w]
    return " ".join(sorted(words))
