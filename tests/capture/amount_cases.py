"""Generated notes with money in them, of the kinds reps say and type, for scoring the
amount parser on material it was not tuned on (`python -m tests.capture.evaluate_amounts`).

Each case: (kind, text, low, high, currency). `high` is the upper end of a range
("50–60万": 500000 to 600000), else None; `currency` is what a reader of the note
would book: a Chinese amount is CNY unless the note names another currency; an English
amount with no currency said has none. Traps carry no amount at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

Case = tuple[str, str, float | None, float | None, str | None]

_CN_DIGIT = "零一二三四五六七八九"
_WHO = ["张总", "李经理", "王姐", "刘工", "陈总监", "赵老板", "采购部", "欧阳总"]
_EN_WHO = ["Anna", "the buyer", "Mr. Smith", "their CFO", "Tom", "procurement"]
_EN_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
             "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
             "seventeen", "eighteen", "nineteen"]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
            "ninety"]


def cn_numeral(n: int) -> str:
    """1..9999 in everyday Chinese numerals (十五, 二百三十, 一千零五)."""
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero:
                out += "零"
            out += ("" if (unit == "十" and not out and d == 1) else _CN_DIGIT[d]) + unit
            zero = False
        elif out:
            zero = True
    return out.replace("二千", "两千").replace("二百", "两百") if out.startswith("二") else out


def en_words(n: int) -> str:
    """1..999 in English words."""
    parts: list[str] = []
    h, rest = divmod(n, 100)
    if h:
        parts.append(f"{_EN_UNITS[h]} hundred")
    if rest >= 20:
        t, u = divmod(rest, 10)
        parts.append(_EN_TENS[t] + (f"-{_EN_UNITS[u]}" if u else ""))
    elif rest:
        parts.append(_EN_UNITS[rest])
    return " ".join(parts)


def _zh_yuan(r: random.Random) -> Case:
    n = r.choice([r.randrange(1000, 99999), r.randrange(100, 999) * 100])
    text = r.choice([f"{r.choice(_WHO)}说报价{n}元", f"合同金额{n:,}元，月底付款",
                     f"首付{n}块钱", f"尾款还差{n}块", f"这单{n}元人民币"])
    return ("zh_yuan", text, n, None, "CNY")


def _zh_wan(r: random.Random) -> Case:
    n = r.randrange(2, 999)
    said = r.choice([str(n), cn_numeral(n)])
    text = r.choice([f"{r.choice(_WHO)}说预算{said}万", f"报价{said}万，下周回复",
                     f"这个项目大概{said}万的规模", f"对方出价{said}万", f"合同额{said}万元"])
    return ("zh_wan", text, n * 10_000, None, "CNY")


def _zh_yi(r: random.Random) -> Case:
    n = r.randrange(1, 30)
    said = r.choice([str(n), cn_numeral(n), f"{n}.5"])
    value = float(said) * 1e8 if said[0].isdigit() else n * 1e8
    text = r.choice([f"年采购额{said}亿", f"{r.choice(_WHO)}那边预算有{said}个亿",
                     f"总投资{said}亿元"])
    return ("zh_yi", text, value, None, "CNY")


def _zh_bare(r: random.Random) -> Case:
    n = r.randrange(20, 999) * 100
    text = r.choice([f"{r.choice(_WHO)}报价{n}，下周回复", f"预算{n}左右",
                     f"价格谈到{n}了", f"回款{n}已经到账"])
    return ("zh_bare", text, n, None, "CNY")


def _zh_foreign(r: random.Random) -> Case:
    n = r.randrange(2, 500)
    word, code = r.choice([("美元", "USD"), ("美金", "USD"), ("欧元", "EUR"), ("港币", "HKD"),
                           ("日元", "JPY"), ("英镑", "GBP")])
    text = r.choice([f"预算{n}万{word}", f"对方出价{n}万{word}",
                     f"{r.choice(_WHO)}说{n}万{word}能签"])
    return ("zh_foreign", text, n * 10_000, None, code)


def _zh_range(r: random.Random) -> Case:
    a = r.randrange(1, 90)
    b = a + r.randrange(1, 20)
    sep = r.choice(["到", "至", "-", "–", "~"])
    if r.random() < 0.5:
        text = r.choice([f"预算{a}{sep}{b}万", f"{r.choice(_WHO)}说{a}{sep}{b}万都可以"])
        return ("zh_range", text, a * 10_000, b * 10_000, "CNY")
    text = f"报价在{a}万{sep}{b}万之间"
    return ("zh_range", text, a * 10_000, b * 10_000, "CNY")


def _en_currency(r: random.Random) -> Case:
    n = r.randrange(2, 999)
    k = n * 1000
    cur, code = r.choice([("USD", "USD"), ("dollars", "USD"), ("euros", "EUR"), ("EUR", "EUR"),
                          ("GBP", "GBP"), ("RMB", "CNY"), ("yuan", "CNY")])
    text, value = r.choice([
        (f"deal size {k:,} {cur}", k), (f"{r.choice(_EN_WHO)} said it is worth {n}k {cur}", k),
        (f"budget {k:,} {cur} for next year", k), (f"price is {cur} {k:,}", k)
        if cur.isupper() else (f"price is {k:,} {cur}", k)])
    return ("en_currency", text, value, None, code)


def _en_symbol(r: random.Random) -> Case:
    n = r.randrange(2, 99)
    sym, code = r.choice([("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("¥", "CNY")])
    text, value = r.choice([(f"quoted {sym}{n}k", n * 1000),
                            (f"budget {sym}{n}.5M", n * 1e6 + 5e5),
                            (f"they offered {sym}{n * 1000:,}", n * 1000)])
    return ("en_symbol", text, value, None, code)


def _en_bare(r: random.Random) -> Case:
    n = r.randrange(2, 99)
    text, value = r.choice([(f"budget is around {n / 10:g}M", n * 1e5),
                            (f"the deal is about {n}k", n * 1000),
                            (f"{r.choice(_EN_WHO)} mentioned a budget of {n}0,000", n * 10_000)])
    return ("en_bare", text, value, None, None)


def _en_words(r: random.Random) -> Case:
    n = r.randrange(2, 999)
    scale, mult = r.choice([("thousand", 1000), ("million", 1_000_000)])
    cur, code = r.choice([("dollars", "USD"), ("euros", "EUR"), ("pounds", "GBP"), ("", None)])
    lead = r.choice(["budget of", "they can pay", "worth", "price is"])
    text = f"{lead} {en_words(n)} {scale} {cur}".strip()
    return ("en_words", text, n * mult, None, code)


def _en_range(r: random.Random) -> Case:
    a = r.randrange(1, 9)
    b = a + r.randrange(1, 5)
    text, low, high, code = r.choice([
        (f"budget between {a} and {b} million", a * 1e6, b * 1e6, None),
        (f"somewhere between {a} and {b} million dollars", a * 1e6, b * 1e6, "USD"),
        (f"they're looking at {a} to {b} million", a * 1e6, b * 1e6, None),
        (f"price {a}0-{b}0k USD", a * 10_000, b * 10_000, "USD")])
    return ("en_range", text, low, high, code)


def _trap(r: random.Random) -> Case:
    n = r.randrange
    text = r.choice([
        f"他的电话是1{r.choice('3589')}{n(10**8, 10**9)}", f"订单号{n(10**7, 10**8)}已经发货",
        f"系统升级到v{n(1, 9)}.{n(10)}.1", f"买了{n(2, 99)}台设备", f"折扣{n(5, 40)}%",
        f"{n(1, 12)}月{n(1, 28)}日签的合同", f"order #{n(1000, 99999)} shipped",
        f"call 555-{n(100, 999)}-{n(1000, 9999)}", f"we need {n(20, 900)} licenses",
        f"version {n(1, 9)}.{n(10)} released", f"{n(2020, 2030)}年的计划",
        f"ticket {n(1000, 9999)} needs a fix", f"meeting on March {n(2, 28)}",
        f"来了{cn_numeral(n(2, 30))}个人"])
    return ("trap", text, None, None, None)


KINDS: dict[str, Callable[[random.Random], Case]] = {
    "zh_yuan": _zh_yuan, "zh_wan": _zh_wan, "zh_yi": _zh_yi, "zh_bare": _zh_bare,
    "zh_foreign": _zh_foreign, "zh_range": _zh_range, "en_currency": _en_currency,
    "en_symbol": _en_symbol, "en_bare": _en_bare, "en_words": _en_words, "en_range": _en_range,
    "trap": _trap,
}


def generate(seed: int = 0, per_kind: int = 40) -> Iterator[Case]:
    r = random.Random(seed)
    for make in KINDS.values():
        for _ in range(per_kind):
            yield make(r)
