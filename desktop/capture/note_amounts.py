"""Money amounts in spoken notes: "200万", "两百万", "1.5亿", "50w", "3.5万元",
"壹佰万元整", "$150k", "2 million dollars", "80,000 USD".

`find_amounts(text, skip)` reads a normalised note (see `note_numbers.normalize`) and
returns every amount with its currency (ISO 4217) when one was said. A number counts
as money only with a sign of money: a currency, a scale word (万, 亿, k, w, million) or
a money word before it (预算, 报价, budget, price). Phone numbers, order and version
numbers, percentages, counts (20台, 5 people) and anything inside `skip` (the dates and
times found first) are never amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.capture.note_numbers import cn_number

Span = tuple[int, int]

MIN_AMOUNT = 10  # "一块去" is "go together", not 1 yuan: tiny sums are not deal amounts

_CURRENCY_WORDS: dict[str, str] = {
    "元": "CNY", "块钱": "CNY", "块": "CNY", "人民币": "CNY", "rmb": "CNY", "cny": "CNY",
    "¥": "CNY", "yuan": "CNY", "美元": "USD", "美金": "USD", "刀": "USD", "usd": "USD",
    "us$": "USD", "$": "USD", "dollars": "USD", "dollar": "USD", "bucks": "USD",
    "欧元": "EUR", "eur": "EUR", "€": "EUR", "euros": "EUR", "euro": "EUR",
    "港币": "HKD", "港元": "HKD", "hkd": "HKD", "hk$": "HKD", "日元": "JPY", "jpy": "JPY",
    "yen": "JPY", "英镑": "GBP", "gbp": "GBP", "£": "GBP", "pounds": "GBP", "新币": "SGD",
    "新加坡元": "SGD", "sgd": "SGD", "s$": "SGD",
}
_SCALES: dict[str, float] = {
    "个亿": 1e8, "千万": 1e7, "百万": 1e6, "万亿": 1e12, "万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8,
    "千": 1e3, "w": 1e4, "k": 1e3, "m": 1e6, "mn": 1e6, "mm": 1e6, "bn": 1e9,
    "million": 1e6, "billion": 1e9, "thousand": 1e3, "grand": 1e3,
}


def _alts(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PREFIX_CUR = _alts(["us$", "hk$", "s$", "$", "¥", "€", "£", "usd", "rmb", "cny", "eur", "hkd",
                     "jpy", "gbp", "sgd", "人民币", "美元", "美金", "欧元", "港币"])
_SUFFIX_CUR = _alts([w for w in _CURRENCY_WORDS if w not in ("$", "us$", "hk$", "s$")])
_CN_NUM_RUN = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟萬億"
_CN_DIGITS = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
_NUMBER = (rf"(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?"
           rf"|a(?=\s+(?:million|billion|thousand))"
           rf"|[{_CN_NUM_RUN}]+(?:点[{_CN_NUM_RUN}]+)?)")
_SCALE = (r"(?P<scale>个亿|千万|百万|万亿|万|萬|亿|億|千"
          r"|(?:\s*(?:million|billion|thousand|grand|mn|bn|mm)"
          r"|[wkmWKM]|\s[kK])(?![A-Za-z]))")
_AMOUNT_RE = re.compile(
    rf"(?:(?P<pre>{_PREFIX_CUR})\s*)?{_NUMBER}{_SCALE}?"
    rf"(?:\s*(?P<cur>{_SUFFIX_CUR})(?![A-Za-z]))?(?P<zheng>整|正)?",
    re.IGNORECASE)

_MONEY_WORDS = re.compile(
    r"(预算|报价|报了|金额|价格|价钱|总价|单价|合同额|合同金额|总额|费用|成本|回款|首付|尾款|"
    r"订金|定金|多少钱|优惠|打款|付款|budget|price|priced|quote|quoted|quotation|deal size|"
    r"\bworth|valued at|\bcosts?|\boffer(?:ed)?|\bpayment|\bpaid|\bpay|\bfee|\bamount)\W{0,3}"
    r"(?:是|为|在|大概|大约|约|差不多|谈到|降到|砍到|压到|定在|涨到|到|about|around|of|is|at|"
    r"roughly|approximately|~|\s)*$",
    re.IGNORECASE)
_ID_WORDS = re.compile(
    r"(?:订单号?|单号|编号|合同号|号码|电话|手机|座机|分机|工号|序列号|快递|尾号|版本|"
    r"\b(?:order|invoice|ticket|po|no\.?|number|phone|tel|mobile|ref|id|version|ver\.?|"
    r"room|ext\.?)|#)\s*(?:是|为|:|number|no\.?|#)?\s*$",
    re.IGNORECASE)
_COUNTERS = re.compile(
    r"\s*(台|个|件|套|人|位|名|次|页|份|箱|吨|公斤|斤|米|平米|平方|平|辆|天|周|年|岁|小时|分钟|秒|"
    r"号|楼|层|张|条|支|只|瓶|盒|包|颗|块地|家|所|间|单|票|步|字|%|％|倍|折|成|度|"
    r"units?\b|pcs\b|pieces?\b|people\b|persons?\b|users?\b|seats?\b|licen[cs]es?\b|"
    r"years?\b|months?\b|weeks?\b|days?\b|hours?\b|minutes?\b|employees\b|staff\b|"
    r"percent\b|times\b|kg\b|km\b|tons?\b|items?\b|boxes\b|sets?\b|orders?\b|%)",
    re.IGNORECASE)
_VERSION_RE = re.compile(
    r"(?i)(?:\bv(?:er(?:sion)?)?\.?\s*\d+(?:\.\d+)*|版本\s*\d+(?:\.\d+)*|\d+(?:\.\d+){2,})")
_PHONE_RE = re.compile(
    r"(?<![\d.])(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)"
    r"|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)|(?<!\d)\d{3}[-.]\d{3}[-.]\d{4}(?!\d)|\+\d[\d\s-]{7,}\d")
_CODE_RE = re.compile(r"[A-Za-z]+[-_#]?\d[\w-]*|\d+(?:-[A-Za-z0-9]+)+(?![\w-])|#\s*\d+")


@dataclass(frozen=True)
class Amount:
    value: float
    currency: str | None  # said, or CNY for an amount in a Chinese note (see `said`)
    span: Span
    money_word: bool  # a money word (预算, budget) came right before it
    high: float | None = None  # a range's upper end ("50–60万": 600000)
    said: bool = True  # the currency was said, not assumed from the note's language


def _overlaps(span: Span, spans: list[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def _blocked_spans(text: str) -> list[Span]:
    blocked: list[Span] = []
    for pattern in (_VERSION_RE, _PHONE_RE, _CODE_RE):
        for m in pattern.finditer(text):
            word = m.group(0).lower()
            # "usd80000", "k" or "w" scales glued to a number are amounts, not codes
            if pattern is _CODE_RE and re.fullmatch(
                    r"(?:usd|rmb|cny|eur|hkd|jpy|gbp|sgd|us|hk|s)\$?\d[\d,.]*[kwm]?"
                    r"|\d+(?:\.\d+)?-\d+(?:\.\d+)?[kwm]", word):  # or a range: "40-50k"
                continue
            blocked.append(m.span())
    return blocked


_RANGE_SEP_RE = re.compile(r"\s*(?:to|or|-|–|—|~|至|到)\s*", re.IGNORECASE)
_AND_RE = re.compile(r"\s+and\s+", re.IGNORECASE)
_BETWEEN_RE = re.compile(r"(?:between|from)\s+$", re.IGNORECASE)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def _value(m: re.Match[str], scale_from: re.Match[str] | None = None) -> float | None:
    """The number a match says; `scale_from` lends its scale ("3 to 5 million": 3 million)."""
    raw = m.group("num")
    if raw.lower() == "a":
        base: float | None = 1.0
    elif raw[0].isdigit():
        base = float(raw.replace(",", ""))
    else:
        if raw[0] in "万亿萬億千百佰仟":  # "万一" is "in case", not a number
            return None
        base = cn_number(raw)
    if base is None:
        return None
    if scale_from is not None and not scale_from.group("scale"):
        # 三到五百万: the lower end takes the upper end's units (三百万).
        upper = scale_from.group("num")
        if raw[0] in _CN_DIGITS and upper[0] in _CN_DIGITS and len(raw) == 1:
            return cn_number(raw + upper[1:])
    src = scale_from if scale_from is not None else m
    raw_scale = (src.group("scale") or "").strip()
    if raw_scale:
        if raw_scale == "m" and not (src.group("pre") or src.group("cur")):
            return None  # "50m" alone may be metres ("1.2M" is a million)
        base *= _SCALES[raw_scale.lower()]
    return base


def _range_top(text: str, m: re.Match[str]) -> re.Match[str] | None:
    """The upper end of a range starting at `m` ("3 to 5 million", "50-60万", "5万到8万",
    "between 1 and 2 million"), or None."""
    sep = _RANGE_SEP_RE.match(text, m.end())
    if sep is None and _BETWEEN_RE.search(text, 0, m.start()):
        sep = _AND_RE.match(text, m.end())
    if sep is None:
        return None
    upper = _AMOUNT_RE.match(text, sep.end())
    if upper is None or upper.group("num").lower() == "a":
        return None
    if m.group("scale") or m.group("cur") or m.group("pre"):
        # "5万到8万": both ends complete; "5万到8" is not a range of money
        return upper if (upper.group("scale") or upper.group("cur")) else None
    if upper.group("scale") or upper.group("cur") or any(
            c in upper.group("num") for c in "万亿萬億"):
        return upper
    return None


def find_amounts(text: str, skip: list[Span] | tuple[Span, ...] = ()) -> list[Amount]:
    """Every money amount in the text, left to right, outside the `skip` spans."""
    blocked = _blocked_spans(text) + list(skip)
    chinese = bool(_CJK_RE.search(text))
    out: list[Amount] = []
    taken = 0  # the end of the last range: its upper end is not another amount
    for m in _AMOUNT_RE.finditer(text):
        num_span = m.span("num")
        if num_span[0] < taken or _overlaps(num_span, blocked):
            continue
        before = text[max(0, m.start() - 12):m.start()]
        after = text[m.end():m.end() + 12]
        if re.match(r"[\d.,]", after) or (num_span[0] > 0 and text[num_span[0] - 1] in ".:/"):
            continue
        if _ID_WORDS.search(before) or after.startswith(("%", "％")) or before.endswith("百分之"):
            continue
        upper = _range_top(text, m)
        if upper is not None and _overlaps(upper.span("num"), blocked):
            upper = None
        if (_COUNTERS.match(after) and not m.group("cur") and not m.group("pre")
                and upper is None):
            continue
        lend = upper if upper is not None and not m.group("scale") and not m.group("cur") \
            else None  # "3 to 5 million": the lower end takes the upper end's scale
        value = _value(m, lend)
        if value is None or value < MIN_AMOUNT:
            continue
        high = _value(upper) if upper is not None else None
        if high is not None and high <= value:
            high, upper = None, None
        cur_word = (m.group("pre") or m.group("cur")
                    or (upper.group("pre") or upper.group("cur") if upper else "") or "").lower()
        currency = _CURRENCY_WORDS.get(cur_word)
        money_word = bool(_MONEY_WORDS.search(before))
        scaled = bool(m.group("scale") or upper) or (
            not m.group("num")[0].isdigit() and any(c in m.group("num") for c in "万亿萬億"))
        if not (currency or scaled or money_word or m.group("zheng")):
            continue
        if m.group("num")[0].isdigit() and not (currency or money_word or scaled):
            continue
        said = currency is not None
        if currency is None and chinese:
            currency = "CNY"  # 元, 块, 万 or a bare number in a Chinese note
        end = upper.end() if upper is not None else m.end()
        taken = end
        out.append(Amount(round(value, 2), currency, (m.start(), end), money_word,
                          round(high, 2) if high is not None else None, said))
    return out


def pick_amount(amounts: list[Amount]) -> Amount | None:
    """The amount a note is about: the first after a money word, else the first with a
    currency, else the first."""
    for test in (lambda a: a.money_word, lambda a: a.currency is not None, lambda a: True):
        for a in amounts:
            if test(a):
                return a
    return None
