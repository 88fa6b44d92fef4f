"""What the search index holds for a record: its name, pinyin, CJK bigrams and the
digits of its phone numbers.

The FTS5 trigram tokenizer finds any substring of three or more characters. Two-character
Chinese names (腾讯, 张伟) are common queries, so CJK text is also indexed as bigrams, each
followed by a "|", which makes every two-character query a three-character one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

BIGRAM_END = "|"
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_NON_DIGIT = re.compile(r"\D+")


def is_cjk(text: str) -> bool:
    return bool(_CJK_RUN.fullmatch(text))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], set[str], dict[str, list[list[str]]]]:
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    first: dict[str, str] = {}
    poly: set[str] = set()
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        parts = readings.split(",")
        first[ch] = _strip_tone(parts[0])
        if len({_strip_tone(p) for p in parts}) > 1:
            poly.add(ch)
    return first, poly, phrases_dict


@lru_cache(maxsize=4096)
def _strip_tone(syllable: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", syllable) if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin per character (non-Chinese characters pass through lowercased).

    A character with several readings takes the reading of a two-character phrase it is
    part of (银行 -> yin hang, 重庆 -> chong qing) when the phrase dictionary knows one;
    this is a table lookup, about 100x faster than pypinyin's full segmentation, which
    matters when a million names are imported.
    """
    first, poly, phrases = _tables()
    out: list[str] = []
    for i, ch in enumerate(text):
        syl = first.get(ch)
        if syl is None:
            out.append(ch.lower())
            continue
        if ch in poly:
            for start in (i - 1, i):
                pair = text[start:start + 2] if start >= 0 else ""
                reading = phrases.get(pair) if len(pair) == 2 else None
                if reading:
                    syl = _strip_tone(reading[i - start][0])
                    break
        out.append(syl)
    return out


def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters of `text`, both without spaces."""
    syllables = [s for s, ch in zip(pinyin_syllables(text), text, strict=True) if is_cjk(ch)]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


def cjk_bigrams(text: str) -> str:
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run[i:i + 2] + BIGRAM_END for i in range(len(run) - 1))
    return "".join(out)


def phone_digits(phones: Iterable[str]) -> list[str]:
    """Digits of each phone, with and without the country code, so "139 1234" and
    "86139..." both match "+86 139-1234-5678"."""
    out: list[str] = []
    for p in phones:
        d = _NON_DIGIT.sub("", p)
        if not d:
            continue
        out.append(d)
        if p.startswith("+86") and d.startswith("86"):
            out.append(d[2:])
    return out


def normalize_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def build_doc(entity: str, row: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The (name, terms, bigrams) to index for a record, or None for unsearched entities."""
    if entity == "account":
        name = row.get("name") or ""
        phones = [row["phone"]] if row.get("phone") else []
        extra = [row.get("uscc") or ""]
    elif entity == "contact":
        name = row.get("name") or ""
        phones = list(row.get("phones") or [])
        extra = [row.get("email") or "", row.get("wechat") or ""]
    else:
        return None
    name = normalize_query(name)
    full, initials = pinyin_keys(name)
    terms = " ".join(t for t in [full, initials, *phone_digits(phones), *map(normalize_query, extra)] if t)
    return name, terms, cjk_bigrams(name)
