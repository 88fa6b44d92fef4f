"""Chinese capital amounts (大写金额): format a figure, parse the capitals, compare.

Shared by contract capture and anything else that reads money written out in words.
`to_capitals(Decimal("1200000"))` -> "壹佰贰拾万元整";
`parse_capitals("人民币壹佰贰拾万元整")` -> Decimal("1200000").
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
BIG_UNITS = {"万": 10**4, "亿": 10**8}
# Characters that may appear inside an amount in capitals (after the currency prefix).
CAPITAL_CHARS = DIGITS + "拾佰仟万亿元圆角分整正"
# Common variants people (and OCR) write for the official characters.
_VARIANTS = str.maketrans({"〇": "零", "两": "贰", "圓": "圆", "萬": "万", "億": "亿",
                           "一": "壹", "二": "贰", "三": "叁", "四": "肆", "五": "伍",
                           "六": "陆", "七": "柒", "八": "捌", "九": "玖", "十": "拾",
                           "百": "佰", "千": "仟", "参": "叁", "陸": "陆", "貳": "贰"})
_PREFIX_RE = re.compile(r"^(人民币|人民幣|RMB|CNY|美元|欧元|港币|港元|日元|英镑|新加坡元)")
CAPITALS_RE = re.compile(rf"[{CAPITAL_CHARS}]{{2,}}")


def _section(n: int) -> str:
    """Capitals for 0 < n < 10000, with 零 for inner gaps."""
    out: list[str] = []
    zero = False
    for power, unit in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        d = n // power % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + unit)
    return "".join(out)


def to_capitals(amount: Decimal | int | float | str) -> str:
    """The amount in Chinese capitals, as written on invoices and contracts.

    Raises ValueError for a negative amount or one that is not a number.
    """
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if value < 0:
        raise ValueError("negative amounts have no capitals form")
    cents = int(value * 100)
    integer, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    parts: list[str] = []
    if integer:
        groups = []
        n = integer
        while n:
            groups.append(n % 10000)
            n //= 10000
        text = ""
        need_zero = False
        for idx in range(len(groups) - 1, -1, -1):
            g = groups[idx]
            unit = ("", "万", "亿", "万亿")[idx] if idx < 4 else ""
            if g == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or g < 1000):
                text += "零"
            text += _section(g) + unit
            need_zero = False
        parts.append(text + "元")
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    elif fen and integer:
        parts.append("零")
    if fen:
        parts.append(DIGITS[fen] + "分")
    if not parts:
        return "零元整"
    if not fen:
        parts.append("整")
    return "".join(parts)


def normalize_capitals(text: str) -> str:
    """Official characters, no spaces or brackets; the currency prefix is kept."""
    text = re.sub(r"[\s（）()：:]", "", text).translate(_VARIANTS)
    return text


def strip_prefix(text: str) -> str:
    return _PREFIX_RE.sub("", normalize_capitals(text))


def parse_capitals(text: str) -> Decimal | None:
    """The value of an amount in capitals, or None when the text is not one.

    Accepts a currency prefix (人民币, 美元 ...), 元/圆, 角, 分, 整/正, and both
    壹拾 and 拾 at the start.
    """
    body = strip_prefix(text).rstrip("整正")
    if not body or any(c not in CAPITAL_CHARS for c in body):
        return None
    m = re.fullmatch(r"(?:(.*?)[元圆])?"
                     r"(?:零?([零壹贰叁肆伍陆柒捌玖])角)?(?:零?([零壹贰叁肆伍陆柒捌玖])分)?",
                     body)
    if not m or not any(m.groups()):
        return None
    integer_text, jiao, fen = m.groups()
    integer = _parse_integer(integer_text or "")
    if integer is None:
        return None
    value = Decimal(integer)
    if jiao:
        value += Decimal(DIGITS.index(jiao)) / 10
    if fen:
        value += Decimal(DIGITS.index(fen)) / 100
    return value


def _parse_integer(text: str) -> int | None:
    total = section = number = 0
    last_digit = False
    for ch in text:
        if ch in DIGITS:
            if last_digit and ch != "零":
                return None  # two digits in a row: not a well-formed amount
            number = DIGITS.index(ch)
            last_digit = ch != "零"
        elif ch in SMALL_UNITS:
            section += (number or (1 if ch == "拾" else 0)) * SMALL_UNITS[ch]
            if number == 0 and ch != "拾":
                return None
            number = 0
            last_digit = False
        elif ch == "万":
            total += (section + number) * 10**4
            section = number = 0
            last_digit = False
        elif ch == "亿":
            total = (total + section + number) * 10**8
            section = number = 0
            last_digit = False
        else:
            return None
    return total + section + number


def capitals_equal(words: str, amount: Decimal | float | int) -> bool:
    value = parse_capitals(words)
    return value is not None and value == Decimal(str(amount)).quantize(Decimal("0.01"))


def repair_capitals(ocr_text: str, amount: Decimal | float | int) -> str | None:
    """The expected capitals if `ocr_text` matches them except where OCR put
    characters that are not capitals at all (e.g. 过 for 壹). Returns None when any
    character that IS a capital numeral disagrees: that is a real mismatch."""
    expected = to_capitals(amount)
    # Compare the text as read: a variant such as 二 or 参 counts as unreadable here,
    # only official capitals count as evidence.
    raw = re.sub(r"[\s（）()：:]", "", ocr_text)
    m = _PREFIX_RE.match(raw)
    prefix = m.group(0) if m else ""
    body = raw[len(prefix):]
    alternatives = [expected, expected.removesuffix("整")]
    if expected.startswith("壹拾"):
        alternatives += [a[1:] for a in alternatives]
    for alt in alternatives:
        if len(alt) != len(body):
            continue
        bad = [(o, e) for o, e in zip(body, alt, strict=True) if o != e]
        if bad and len(bad) * 2 <= len(alt) and all(o not in CAPITAL_CHARS for o, _ in bad):
            return prefix + alt
    return None
