"""Numbers in spoken notes: Chinese numerals, English number words, text clean-up.

Pure functions shared by the date and amount parsers. Speech recognisers write
numbers as words ("两百万", "fifty thousand") and put spaces between Chinese words;
`normalize` undoes that so the rule-based parsers see one canonical text.
"""

from __future__ import annotations

import re

from text_to_num import text2num

CN_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "两": 2, "兩": 2, "贰": 2,
    "貳": 2, "三": 3, "叁": 3, "參": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6,
    "陸": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
CN_SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000,
                                  "仟": 1000}
CN_BIG_UNITS: dict[str, int] = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
CN_NUM_CHARS = "".join(CN_DIGITS) + "".join(CN_SMALL_UNITS) + "".join(CN_BIG_UNITS)
# A number written with Arabic digits and/or Chinese numerals, e.g. "3", "三", "二十",
# "1.5", "一点五", "十五".
NUM = rf"(?:\d+(?:\.\d+)?|[{CN_NUM_CHARS}点]+)"
SMALL_NUM = rf"(?:\d{{1,4}}|[{''.join(CN_DIGITS)}十拾百]+)"

_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
     **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
     "：": ":", "＄": "$", "￥": "¥", "．": ".", "％": "%", "＃": "#", "－": "-",
     "／": "/", "\u3000": " "})
_CJK = r"\u3400-\u9fff"
_CJK_GAP_RE = re.compile(rf"(?<=[{_CJK}\d])\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+(?=\d)")


def cn_int(text: str) -> int | None:
    """Value of an integer written in Chinese numerals ("两百万" -> 2000000), or None.

    Accepts the everyday and the capital (大写) characters, digit strings such as
    "二零二六", colloquial tails ("一万二" = 12000, "两百五" = 250) and Arabic digits mixed
    with units ("3千", "5万").
    """
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if all(c in CN_DIGITS for c in text):
        return int("".join(str(CN_DIGITS[c]) for c in text))
    total = 0  # sections already closed by 亿
    section = 0  # value below 亿, closed by 万
    chunk = 0  # value below 万
    digit: int | None = None
    last_unit = 1
    i = 0
    while i < len(text):
        c = text[i]
        if c.isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            digit = int(text[i:j])
            i = j
            continue
        if c in CN_DIGITS:
            digit = CN_DIGITS[c]
        elif c in CN_SMALL_UNITS:
            unit = CN_SMALL_UNITS[c]
            chunk += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        elif c in CN_BIG_UNITS:
            unit = CN_BIG_UNITS[c]
            chunk += digit or 0
            if unit == 10**4:
                section += chunk * unit
            else:
                total = (total + section + chunk) * unit
                section = 0
            chunk, digit, last_unit = 0, None, unit
        else:
            return None
        i += 1
    if digit is not None:
        # "一万二" means 12000, "两百五" 250: a lone trailing digit scales by the unit below.
        prev = text[-2] if len(text) >= 2 else ""
        if (last_unit >= 10 and prev in {**CN_SMALL_UNITS, **CN_BIG_UNITS}
                and not text[-1].isdigit()):
            chunk += digit * (last_unit // 10)
        else:
            chunk += digit
    return total + section + chunk


def cn_number(text: str) -> float | None:
    """Value of a Chinese or Arabic number that may have a decimal part ("一点五亿",
    "3.5万", "二十"), or None when the text is not a number."""
    text = text.strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([万萬亿億千仟百佰]*)", text)
    if m:
        value = float(m.group(1))
        for u in m.group(2):
            value *= {**CN_SMALL_UNITS, **CN_BIG_UNITS}[u]
        return value
    if "点" in text:
        whole, _, rest = text.partition("点")
        frac_digits = ""
        k = 0
        while k < len(rest) and rest[k] in CN_DIGITS:
            frac_digits += str(CN_DIGITS[rest[k]])
            k += 1
        units = rest[k:]
        if not frac_digits or any(u not in CN_BIG_UNITS and u not in CN_SMALL_UNITS for u in units):
            return None
        base = cn_int(whole) if whole else 0
        if base is None:
            return None
        value = base + float("0." + frac_digits)
        for u in units:
            value *= {**CN_SMALL_UNITS, **CN_BIG_UNITS}[u]
        return value
    n = cn_int(text)
    return None if n is None else float(n)


# ---------------------------------------------------------------- English words
_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90}
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_EN_SCALES = {"hundred": 100, "thousand": 1000}
_EN_WORD = "|".join(sorted([*_EN_UNITS, *_EN_TENS, *_EN_ORDINALS, *_EN_SCALES], key=len,
                           reverse=True))
_EN_RUN_RE = re.compile(
    rf"\b(?:(?:a|an)\s+(?=(?:hundred|thousand|million|billion)\b))?"
    rf"(?:{_EN_WORD})(?:(?:\s+|-|\s+and\s+)(?:{_EN_WORD}))*\b", re.IGNORECASE)


def _en_run_value(words: list[str]) -> tuple[int, bool]:
    """The value of a run of number words, and whether it is an ordinal ("twenty fourth").
    Cardinals are read by text2num (its grammar knows "two hundred and five" from
    "two five"); ordinals, which only dates use, by the small table above."""
    if not any(w in _EN_ORDINALS for w in words):
        spoken = " ".join("one" if w in ("a", "an") else w for w in words)
        try:
            return int(text2num(spoken, "en")), False
        except ValueError:
            pass  # not one number to text2num ("two five"): the rule below adds them up
    total, current, ordinal = 0, 0, False
    for w in words:
        if w in ("a", "an"):
            current = 1
        elif w in _EN_UNITS:
            current += _EN_UNITS[w]
        elif w in _EN_TENS:
            current += _EN_TENS[w]
        elif w in _EN_ORDINALS:
            current += _EN_ORDINALS[w]
            ordinal = True
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "thousand":
            total += max(current, 1) * 1000
            current = 0
    return total + current, ordinal


def _en_replace(m: re.Match[str]) -> str:
    words = [w for w in re.split(r"[\s-]+", m.group(0).lower()) if w and w != "and"]
    if words == ["second"]:  # "a second call" is not a number
        return m.group(0)
    if words[0] in _EN_SCALES:  # "80 thousand": the digits are already there
        return m.group(0)
    if words in (["a"], ["an"]):  # only matched before a scale word: "a million"
        return "1"
    first = words[0]
    if (len(words) in (2, 3) and 1 <= _EN_UNITS.get(first, 0) <= 12
            and (words[1] in _EN_TENS or 10 <= _EN_UNITS.get(words[1], 0) <= 19)):
        minutes, _ = _en_run_value(words[1:])
        if minutes < 60:  # "two thirty" is a time of day: 2:30
            return f"{_EN_UNITS[first]}:{minutes:02d}"
    value, ordinal = _en_run_value(words)
    if ordinal:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(
            value % 10 if value % 100 not in (11, 12, 13) else 0, "th")
        return f"{value}{suffix}"
    return str(value)


def en_words_to_digits(text: str) -> str:
    """Replace runs of English number words by digits: "fifty thousand" -> "50000",
    "twenty fourth" -> "24th", "two thirty" -> "2 30" (times are split by the parser)."""
    return _EN_RUN_RE.sub(_en_replace, text)


def normalize(text: str) -> str:
    """The canonical text the note parsers read: full-width digits and letters made
    ASCII, spaces between Chinese words (as speech recognisers write them) removed,
    English number words turned into digits, runs of whitespace collapsed."""
    text = text.translate(_FULLWIDTH)
    text = re.sub(r"\s+", " ", text).strip()
    text = _CJK_GAP_RE.sub("", text)
    text = en_words_to_digits(text)
    # Recognisers spell decimals out: "one point five million" -> "1.5 million".
    return re.sub(r"\b(\d+) point (\d+)\b", r"\1.\2", text)
