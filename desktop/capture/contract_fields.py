"""Find a contract's key fields in OCR lines: value, confidence, region, warning.

Chinese and English contracts. Labels are matched loosely (OCR puts spaces inside
Chinese words and reads full-width punctuation either way); where a label is
unreadable, the layout (first company line is party A) gives a lower-confidence
answer. Credit codes are checked (GB 32100 check digit) and repaired only for the OCR
look-alikes O/0, I/1, S/5, Z/2 when the check digit then holds; capitals are
cross-checked against the figures.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from desktop.capture import amounts_cn, places
from desktop.capture.ocr import OcrLine
from desktop.schema import is_valid_uscc

FIELDS = ("contract_no", "party_a_name", "party_a_uscc", "party_b_name", "party_b_uscc",
          "amount", "amount_in_words", "currency", "sign_date")
LOW_CONFIDENCE = 0.8  # below this a field is shown as "check me"
FALLBACK = 0.6  # factor for answers found by layout instead of a label
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "S": "5", "Z": "2"})


WARNINGS: dict[str, dict[str, str]] = {
    "uscc_check": {"en": "Credit code {code} fails the GB 32100 check digit: compare it with the "
                         "paper and correct it.",
                   "zh": "统一社会信用代码 {code} 校验位不符：请对照原件更正。"},
    "uscc_length": {"en": "Credit code '{code}' has {n} characters, not 18: check it.",
                    "zh": "统一社会信用代码「{code}」有 {n} 位，应为 18 位：请核对。"},
    "words_repaired": {"en": "Some characters were unreadable and were completed from the figures.",
                       "zh": "部分大写字符无法识别，已按小写金额补全，请核对。"},
    "words_mismatch": {"en": "The amount in words does not match the figures {figures}: expected "
                             "{expected}.",
                       "zh": "大写金额与小写金额 {figures} 不一致：应为 {expected}。"},
    "by_position": {"en": "Found by position, not by a label: check it.",
                    "zh": "按位置推断（未找到标签）：请核对。"},
    "date_fallback": {"en": "No signing-date label found: this is the last date on the page.",
                      "zh": "未找到签订日期标签：取自页面上最后一个日期，请核对。"},
    "amount_from_words": {"en": "Figures not found: amount taken from the capitals.",
                          "zh": "未找到小写金额：按大写金额填写，请核对。"},
    "name_from_account": {"en": "Read differently; taken from the existing account {name}: "
                                "check it.",
                          "zh": "识别结果略有不同，已按现有客户「{name}」填写：请核对。"},
    "yuan_misread": {"en": "The ¥ sign seems to have been read as a digit ({raw}): without "
                           "it the figures agree with the capitals. Check it.",
                     "zh": "「¥」似被识别为数字（{raw}）：去掉后与大写金额一致，请核对。"},
    "year_repaired": {"en": "The year was unreadable and is the only likely year one digit "
                            "away from what was read: check it.",
                      "zh": "年份识别有误，已按最接近的合理年份填写：请核对。"},
    "place_corrected": {"en": "The place name was read as {wrong} and corrected to {right} "
                              "(China's administrative divisions): check it.",
                        "zh": "地名识别为「{wrong}」，已按行政区划更正为「{right}」：请核对。"},
}


def warning_text(key: str, lang: str, **args: Any) -> str:
    texts = WARNINGS[key]
    return texts["zh" if lang.startswith("zh") else "en"].format(**args)


@dataclass
class FieldResult:
    value: Any = None
    confidence: float = 0.0
    bbox: tuple[int, int, int, int] | None = None
    page: int | None = None
    warning: str | None = None  # English text; `warning_key` + `warning_args` translate it
    raw: str | None = None  # the text as read
    warning_key: str | None = None
    warning_args: dict[str, Any] = field(default_factory=dict)

    def flag(self, key: str, **args: Any) -> None:
        self.warning_key, self.warning_args = key, args
        self.warning = warning_text(key, "en", **args)

    def warning_in(self, lang: str) -> str | None:
        if self.warning_key is None:
            return self.warning
        return warning_text(self.warning_key, lang, **self.warning_args)

    @property
    def flagged(self) -> bool:
        return self.value is not None and (
            self.warning is not None or self.confidence < LOW_CONFIDENCE)


@dataclass
class Row:
    """Segments on one text line, left to right, merged."""

    text: str  # NFKC-normalised
    confidence: float
    bbox: tuple[int, int, int, int]
    page: int

    def region(self, start: int, end: int) -> tuple[int, int, int, int]:
        """Approximate box of text[start:end] (characters spread evenly over the row)."""
        x0, y0, x1, y1 = self.bbox
        widths = [1.0 if c.isascii() else 1.9 for c in self.text]  # CJK glyphs are wider
        total = max(1.0, sum(widths))
        a, b = sum(widths[:start]) / total, sum(widths[:end]) / total
        return (int(x0 + (x1 - x0) * a), y0, int(x0 + (x1 - x0) * b), y1)


_BRACKETS = str.maketrans(
    {"〈": "(", "《": "(", "〔": "(", "【": "(", "「": "(", "『": "(", "〉": ")", "》": ")",
     "〕": ")", "】": ")", "」": ")", "』": ")"})


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    # Drop spaces between two CJK characters (Tesseract splits Chinese into "words").
    return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", text).strip()


def build_rows(lines: list[OcrLine]) -> list[Row]:
    """Merge OCR segments that sit on one line and close together; reading order."""
    rows: list[list[OcrLine]] = []
    for ln in sorted(lines, key=lambda ln: (ln.page, (ln.bbox[1] + ln.bbox[3]) / 2, ln.bbox[0])):
        placed = False
        for row in rows[-4:]:
            last = row[-1]
            if last.page != ln.page:
                continue
            top, bottom = max(last.bbox[1], ln.bbox[1]), min(last.bbox[3], ln.bbox[3])
            height = min(last.bbox[3] - last.bbox[1], ln.bbox[3] - ln.bbox[1])
            right = max(s.bbox[2] for s in row)
            gap = ln.bbox[0] - right
            if bottom - top > 0.5 * height and -height < gap < 2.5 * max(height, 1):
                row.append(ln)
                placed = True
                break
        if not placed:
            rows.append([ln])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln.bbox[0])
        text = ""
        for seg in row:
            t = _norm(seg.text)
            if (text and t and text[-1].isascii() and t[0].isascii()
                    and text[-1].isalnum() and t[0].isalnum()):
                text += " "
            text += t
        weights = [max(1, len(s.text)) for s in row]
        conf = sum(s.confidence * w for s, w in zip(row, weights, strict=True)) / sum(weights)
        bbox = (min(s.bbox[0] for s in row), min(s.bbox[1] for s in row),
                max(s.bbox[2] for s in row), max(s.bbox[3] for s in row))
        out.append(Row(text, conf, bbox, row[0].page))
    out.sort(key=lambda r: (r.page, r.bbox[1], r.bbox[0]))
    return out


# The traditional forms OCR models trained on both scripts read label characters as
# (合同編号 for 合同编号); labels accept them, values are kept as read.
TRADITIONAL = {"编": "編", "号": "號", "签": "簽", "订": "訂", "约": "約", "额": "額",
               "总": "總", "价": "價", "统": "統", "会": "會", "码": "碼", "买": "買",
               "卖": "賣", "贷": "貸", "写": "寫", "时": "時", "间": "間", "协": "協",
               "议": "議", "务": "務", "托": "託", "计": "計", "应": "應", "发": "發"}


def _lbl(*words: str) -> str:
    """Regex alternation of labels; Chinese ones tolerate spaces between characters and
    the traditional form of a character (TRADITIONAL)."""
    parts = []
    for w in words:
        if w.isascii():
            parts.append(w)
            continue
        chars = [f"[{c}{TRADITIONAL[c]}]" if c in TRADITIONAL else re.escape(c) for c in w]
        parts.append(r"\s*".join(chars))
    return "(?:" + "|".join(parts) + ")"


SEP = r"\s*[:;：.]?\s*"
RE_CONTRACT_NO = re.compile(
    _lbl("合同编号", "合同号", "合同编码", "协议编号", "编号", r"Contract\s*(?:No|Number|Ref)\.?")
    + SEP + r"([A-Za-z0-9][A-Za-z0-9\-_/.()]{3,40})", re.I)
PAREN = r"(?:\s*\([^)]{0,8}\))?"
RE_PARTY_A = re.compile(r"^\s*" + _lbl("甲方", "买方", "委托方", "发包方", "采购方", "需方",
                                       r"Party\s*A", "Buyer", "Purchaser", "Client")
                        + PAREN + SEP + r"(.+)$", re.I)
RE_PARTY_B = re.compile(r"^\s*" + _lbl("乙方", "卖方", "受托方", "承包方", "供应方", "供方",
                                       r"Party\s*B", "Seller", "Vendor", "Supplier", "Contractor")
                        + PAREN + SEP + r"(.+)$",
                        re.I)
# Tesseract sometimes garbles 甲方/乙方 but keeps the bracketed role.
RE_ROLE_A = re.compile(r"^.{0,3}\((?:买方|需方|委托方|发包方)\)" + SEP + r"(.+)$")
RE_ROLE_B = re.compile(r"^.{0,3}\((?:卖方|供方|受托方|承包方)\)" + SEP + r"(.+)$")
RE_USCC_LABEL = re.compile(_lbl("统一社会信用代码", "社会信用代码", "信用代码", "纳税人识别号",
                                "税号", r"Unified\s*Social\s*Credit\s*Code", r"Credit\s*Code",
                                "USCC")
                           + SEP + r"([A-Za-z0-9 ]{16,24})", re.I)
RE_USCC_BARE = re.compile(r"(?<![A-Za-z0-9])[0-9][0-9A-Z]{17}(?![A-Za-z0-9])")
COMPANY_END = re.compile(r"(有限公司|有限责任公司|公司|集团|研究院|研究所|中心|厂|"
                         r"Co\.?,?\s*Ltd\.?|Ltd\.?|"
                         r"Inc\.?|LLC|GmbH|Corporation|Company|Limited)\s*$", re.I)
NAME_STOP = re.compile(r"\s{2,}|(?:统一社会|信用代码|地址|电话|法定代表|乙方|甲方|Address|Tel|"
                       r"Unified Social)", re.I)
RE_AMOUNT_LABEL = re.compile(
    _lbl("合同总金额", "合同总价", "合同金额", "合同价款总计", "合同价款", "总金额", "总价款",
         "总价", "金额合计", "价款总计", r"Total\s*(?:Contract\s*)?(?:Value|Amount|Price|Sum)",
         r"Contract\s*(?:Value|Price|Amount)"),
    re.I)
# Thousands may be grouped by ',' or '.', or by a space where OCR lost the comma.
FIGURE = (r"([0-9]{1,3}(?:[,.][0-9]{3})+(?:[.,][0-9]{1,2})?"
          r"|[0-9]{1,3}(?: [0-9]{3})+(?:[.,][0-9]{1,2})?|[0-9]+(?:[.,][0-9]{1,2})?)")
RE_FIGURE = re.compile(r"(人民币|RMB|CNY|USD|US\$|EUR|HKD|JPY|GBP|SGD|[¥$€£])?\s*"
                       + FIGURE + r"\s*(万元|万|元)?",
                       re.I)
RE_WORDS_LABEL = re.compile(_lbl("大写金额", "大写", "金额大写") + r"\s*[:：]?\s*")
RE_DATE_LABEL = re.compile(_lbl("签订日期", "签约日期", "签署日期", "签订时间", "签约时间",
                                "签署时间", r"Date\s*of\s*Signing", r"Signing\s*Date",
                                r"Signed\s*on", r"Dated?",
                                r"Date\s*of\s*(?:this\s*)?Contract", "日期"), re.I)
MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december"]
RE_DATES = [
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"), (1, 2, 3)),
    (re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?![0-9A-Za-z])"), (1, 2, 3)),
    (re.compile(r"([A-Za-z]{2,9}(?: [A-Za-z]{1,6})?)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})"),
     (3, 1, 2)),
    (re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})"), (3, 2, 1)),
]
CURRENCIES = [
    ("USD", re.compile(r"USD|US\$|美元|U\.S\.\s*Dollars?", re.I)),
    ("EUR", re.compile(r"EUR|€|欧元|Euros?\b", re.I)),
    ("HKD", re.compile(r"HKD|HK\$|港币|港元")),
    ("GBP", re.compile(r"GBP|£|英镑")),
    ("JPY", re.compile(r"JPY|日元|日圆")),
    ("SGD", re.compile(r"SGD|S\$|新加坡元")),
    ("CNY", re.compile(r"CNY|RMB|人民币|¥|Renminbi|元", re.I)),
]


def _result(value: Any, row: Row, start: int, end: int, factor: float = 1.0,
            warning: str | None = None, raw: str | None = None, **args: Any) -> FieldResult:
    """A found field; `warning` is a WARNINGS key, `args` its values."""
    res = FieldResult(value, round(min(1.0, row.confidence * factor), 3), row.region(start, end),
                      row.page, None, raw)
    if warning:
        res.flag(warning, **args)
    return res


def parse_figure(text: str) -> Decimal | None:
    """'1,200,000.00' -> 1200000.00; also OCR's '1.200.000,00' and '1 200 000'."""
    t = text.replace(" ", "").replace("，", ",")
    m = re.fullmatch(r"([0-9.,]*?)(?:[.,]([0-9]{1,2}))?", t)
    if not m:
        return None
    whole, frac = m.group(1), m.group(2)
    if whole == "" and frac:
        whole, frac = frac, None
    if whole and re.search(r"[.,]", whole) and not re.fullmatch(
            r"[0-9]{1,3}(?:[.,][0-9]{3})+", whole):
        return None
    try:
        return Decimal(re.sub(r"[.,]", "", whole) + ("." + frac if frac else ""))
    except InvalidOperation:
        return None


_DIGIT_LOOKALIKES = str.maketrans({"]": "1", "|": "1", "l": "1", "I": "1", "i": "1", "O": "0",
                                   "o": "0"})


def parse_date(text: str) -> tuple[str, int, int] | None:
    """(YYYY-MM-DD, start, end) of the first date in text (OCR's ] | l I for 1 and O o
    for 0 are read as digits in the numeric forms)."""
    found = _parse_date(text, RE_DATES)
    return found or _parse_date(text.translate(_DIGIT_LOOKALIKES), RE_DATES[:2])


def _parse_date(text: str, patterns: list[tuple[re.Pattern[str], tuple[int, int, int]]]
                ) -> tuple[str, int, int] | None:
    for regex, (yi, mi, di) in patterns:
        for m in regex.finditer(text):
            month_raw = m.group(mi)
            month = _month(month_raw) if not month_raw.isdigit() else int(month_raw)
            if month is None:
                continue
            try:
                d = dt.date(int(m.group(yi)), month, int(m.group(di)))
            except ValueError:
                continue
            if 1990 <= d.year <= 2100:
                return d.isoformat(), m.start(), m.end()
    return None


RE_YEAR_FIRST = re.compile(r"(?<![0-9])([0-9]{4})(?=\s*(?:年|[-/.]\s*[0-9]{1,2}\s*[-/.]))")


def repair_year(text: str) -> str | None:
    """`text` with an implausible year of a numeric date (2526-11-04: OCR took a 0 under a
    seal's ring for a 5) replaced by the only year 1990-2100 one digit away from it (the
    text keeps its length); None when there is no such year or more than one."""
    for m in RE_YEAR_FIRST.finditer(text):
        year = m.group(1)
        if 1990 <= int(year) <= 2100:
            continue
        near = [y for y in range(1990, 2101)
                if sum(a != b for a, b in zip(str(y), year, strict=True)) == 1]
        if len(near) == 1:
            return text[: m.start(1)] + str(near[0]) + text[m.end(1):]
    return None


def _month(word: str) -> int | None:
    """Month number of an English month name, tolerating one or two OCR slips."""
    word = word.replace(" ", "").lower()
    if len(word) <= 4 or (word[:3] in MONTHS and word in MONTH_NAMES[MONTHS[word[:3]] - 1]):
        return MONTHS.get(word[:3])
    close = difflib.get_close_matches(word, MONTH_NAMES, n=1, cutoff=0.75)
    return MONTH_NAMES.index(close[0]) + 1 if close else None


def check_uscc(raw: str) -> tuple[str, str | None, float]:
    """(code, warning, confidence factor) for a credit code as read."""
    code = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    if is_valid_uscc(code):
        return code, None, 1.0
    fixed = code.translate(LOOKALIKES)
    if fixed != code and is_valid_uscc(fixed):
        return fixed, None, 0.9
    return code, (f"Credit code {code} fails the GB 32100 check digit: compare it with the "
                  "paper and correct it."), 0.4


def _clean_name(value: str) -> str:
    value = NAME_STOP.split(value, maxsplit=1)[0]
    return (value.strip(" :：;,，。.()（）[]") if not COMPANY_END.search(value)
            else value.strip(" :：;,，"))


def _find_parties(rows: list[Row], out: dict[str, FieldResult]) -> list[tuple[int, str]]:
    """Party names; returns (row index, "a"/"b") of each party label for USCC pairing."""
    anchors: list[tuple[int, str]] = []
    for i, row in enumerate(rows):
        for side, regexes in (("a", (RE_PARTY_A, RE_ROLE_A)), ("b", (RE_PARTY_B, RE_ROLE_B))):
            for k, regex in enumerate(regexes):
                m = regex.search(row.text)
                if not m:
                    continue
                anchors.append((i, side))
                name = _clean_name(m.group(1))
                key = f"party_{side}_name"
                signature = re.search(r"盖章|签字|签章|seal|sign", row.text[: m.start(1)], re.I)
                if signature and not COMPANY_END.search(name):
                    break
                if len(name) >= 4 and key not in out:
                    factor = (1.0 if COMPANY_END.search(name) else 0.7) * (1.0 if k == 0 else 0.85)
                    out[key] = _result(name, row, m.start(1), m.start(1) + len(name), factor,
                                       raw=m.group(1))
                break
    # Layout fallback: company-looking lines in order (A comes first).
    companies = []
    for row in rows:
        text = re.sub(r"^[^:：]{0,12}[:：]", "", row.text).strip()
        if COMPANY_END.search(text) and 4 <= len(text) <= 60 and not RE_USCC_LABEL.search(row.text):
            companies.append((row, text))
    taken = {out[k].value for k in ("party_a_name", "party_b_name") if k in out}
    for key in ("party_a_name", "party_b_name"):
        if key in out:
            continue
        for row, text in companies:
            if text not in taken:
                start = row.text.find(text)
                out[key] = _result(text, row, start, start + len(text), FALLBACK, "by_position",
                                   text)
                taken.add(text)
                break
    return anchors


def _find_usccs(rows: list[Row], anchors: list[tuple[int, str]],
                out: dict[str, FieldResult]) -> None:
    found: list[tuple[int, FieldResult]] = []
    for i, row in enumerate(rows):
        m = RE_USCC_LABEL.search(row.text)
        if m:
            raw, start = m.group(1).strip(), m.start(1)
        else:
            m = RE_USCC_BARE.search(row.text.upper())
            if not m:
                continue
            raw, start = m.group(0), m.start()
        code, warning, factor = check_uscc(raw)
        if len(code) < 15:
            continue
        key = None if warning is None else "uscc_check" if len(code) == 18 else "uscc_length"
        found.append((i, _result(code, row, start, start + len(raw), factor, key, raw,
                                 code=code, n=len(code))))
    order = ["a", "b"]
    for i, res in found:
        owners = [side for j, side in anchors if j <= i]
        side = owners[-1] if owners else None
        if side is None or f"party_{side}_uscc" in out:
            side = next((s for s in order if f"party_{s}_uscc" not in out), None)
        if side is not None:
            out[f"party_{side}_uscc"] = res


def _find_amounts(rows: list[Row], out: dict[str, FieldResult]) -> None:
    for row in rows:
        m = RE_AMOUNT_LABEL.search(row.text)
        if not m:
            continue
        for f in RE_FIGURE.finditer(row.text, m.end()):
            value = parse_figure(f.group(2))
            if value is None or value == 0:
                continue
            if f.group(3) in ("万元", "万"):
                value *= 10000
            out["amount"] = _result(value, row, f.start(2), f.end(2), raw=f.group(0))
            if f.group(1):
                cur = _currency_of(f.group(1))
                if cur:
                    out["currency"] = _result(cur, row, f.start(1), f.end(1))
            break
        if "amount" in out:
            break
    # Amount in capitals: after a 大写 label, or any run of capitals ending in 元/整.
    for row in rows:
        text = row.text
        m = RE_WORDS_LABEL.search(text)
        if m:
            start = m.end()
            end = len(text)
            close = re.search(r"[)）]", text[start:])
            if close:
                end = start + close.start()
        else:
            runs = [r for r in amounts_cn.CAPITALS_RE.finditer(text)
                    if re.search("[元圆整]", r.group(0)) and len(r.group(0)) >= 3]
            if not runs:
                continue
            start, end = runs[0].start(), runs[0].end()
            # OCR may have garbled the first capitals: reach back to the prefix or bracket.
            before = text[max(0, start - 12): start]
            prefix = [m for m in re.finditer(r"人民币|美元|欧元|港币|港元|[(:]", before)]
            if prefix:
                m = prefix[-1]
                start = start - len(before) + (m.start() if len(m.group(0)) > 1 else m.end())
        span = text[start:end].strip()
        if len(amounts_cn.strip_prefix(span)) < 2:
            continue
        out["amount_in_words"] = _result(amounts_cn.normalize_capitals(span), row, start, end,
                                         raw=span)
        break
    _cross_check(out)


def _currency_of(text: str) -> str | None:
    for code, regex in CURRENCIES:
        if regex.search(text):
            return code
    return None


def _cross_check(out: dict[str, FieldResult]) -> None:
    words, amount = out.get("amount_in_words"), out.get("amount")
    if words is None:
        return
    parsed = amounts_cn.parse_capitals(words.value)
    if amount is None:
        if parsed is not None:
            out["amount"] = FieldResult(parsed, round(words.confidence * 0.8, 3), words.bbox,
                                        words.page)
            out["amount"].flag("amount_from_words")
        return
    if parsed is not None and parsed == amount.value:
        return
    if _drop_misread_yuan(amount, words, parsed):
        return
    expected = amounts_cn.to_capitals(amount.value)
    repaired = amounts_cn.repair_capitals(words.value, amount.value)
    if repaired is not None:
        words.value = repaired
        words.confidence = round(min(words.confidence, 0.75), 3)
        words.flag("words_repaired")
        return
    words.flag("words_mismatch", figures=f"{amount.value:,.2f}", expected=expected)
    words.confidence = round(min(words.confidence, 0.5), 3)
    amount.confidence = round(min(amount.confidence, 0.5), 3)
    amount.flag("words_mismatch", figures=f"{amount.value:,.2f}", expected=expected)


YUAN_LOOKALIKES = "8Y"  # what OCR makes of a ¥ sign before the figures


def _drop_misread_yuan(amount: FieldResult, words: FieldResult, parsed: Decimal | None) -> bool:
    """Figures read without their ¥ sign but with a digit more in front (¥17,720.12 as
    817,720.12): when the figures without that digit agree with the capitals (also after
    completing unreadable capitals), they are the amount, flagged. Returns whether so."""
    raw = (amount.raw or "").strip()
    if len(raw) < 3 or raw[0] not in YUAN_LOOKALIKES or not raw[1].isdigit():
        return False
    alt = parse_figure(raw[1:].split("元")[0].split("万")[0])
    if alt is None or alt == 0 or "万" in raw:
        return False
    repaired = None if parsed == alt else amounts_cn.repair_capitals(words.value, alt)
    if parsed != alt and repaired is None:
        return False
    amount.value = alt
    amount.confidence = round(min(amount.confidence, 0.75), 3)
    amount.flag("yuan_misread", raw=raw)
    if repaired is not None:
        words.value = repaired
        words.confidence = round(min(words.confidence, 0.75), 3)
        words.flag("words_repaired")
    return True


def _find_date(rows: list[Row], out: dict[str, FieldResult]) -> None:
    for row in rows:
        m = RE_DATE_LABEL.search(row.text)
        if not m:
            continue
        d = parse_date(row.text[m.end():])
        if d:
            out["sign_date"] = _result(d[0], row, m.end() + d[1], m.end() + d[2])
            return
        repaired = repair_year(row.text[m.end():])
        d = parse_date(repaired) if repaired else None
        if d:
            start, end = m.end() + d[1], m.end() + d[2]
            out["sign_date"] = _result(d[0], row, start, end, 0.7, "year_repaired",
                                       raw=row.text[start:end])
            return
    for row in reversed(rows):
        d = parse_date(row.text)
        if d:
            out["sign_date"] = _result(d[0], row, d[1], d[2], FALLBACK, "date_fallback")
            return


def _find_contract_no(rows: list[Row], out: dict[str, FieldResult]) -> None:
    for row in rows:
        m = RE_CONTRACT_NO.search(row.text)
        if m:
            value = m.group(1).rstrip(".)(")
            out["contract_no"] = _result(value, row, m.start(1), m.start(1) + len(value))
            return


def _find_currency(rows: list[Row], out: dict[str, FieldResult]) -> None:
    if "currency" in out:
        return
    amount = out.get("amount")
    near = [r for r in rows if amount and r.page == amount.page and amount.bbox and
            abs(r.bbox[1] - amount.bbox[1]) < 5]
    for row in near:
        code = _currency_of(row.text)
        if code:
            out["currency"] = _result(code, row, 0, len(row.text), 0.95)
            return
    counts: dict[str, list[Row]] = {}
    for row in rows:
        for code, regex in CURRENCIES:
            if regex.search(row.text):
                counts.setdefault(code, []).append(row)
    if counts:
        code, found = max(counts.items(), key=lambda kv: len(kv[1]))
        out["currency"] = _result(code, found[0], 0, len(found[0].text), 0.7)


def _correct_places(out: dict[str, FieldResult]) -> None:
    """A place name misread by one character at the start of a Chinese party name (厦内 for
    厦门) is corrected against the administrative divisions, where the party's credit
    code (issued in that place) agrees; the field is then flagged for checking."""
    for side in ("a", "b"):
        name = out.get(f"party_{side}_name")
        if name is None or not isinstance(name.value, str):
            continue
        uscc = out.get(f"party_{side}_uscc")
        region = (places.region_of_uscc(uscc.value)
                  if uscc is not None and uscc.warning is None else None)
        fix = places.correct_place(name.value, region)
        if fix is None:
            continue
        name.raw = name.raw or name.value
        name.value = fix.text
        name.confidence = round(min(name.confidence, 0.75), 3)
        name.flag("place_corrected", wrong=fix.wrong, right=fix.right)


STEPS: tuple[Callable[[list[Row], dict[str, FieldResult]], object], ...] = (
    _find_contract_no, _find_amounts, _find_date)


def extract_fields(lines: list[OcrLine]) -> tuple[dict[str, FieldResult], list[str]]:
    """All FIELDS (missing ones have value None) and the warnings, for the user."""
    rows = build_rows(lines)
    out: dict[str, FieldResult] = {}
    anchors = _find_parties(rows, out)
    _find_usccs(rows, anchors, out)
    _correct_places(out)
    for step in STEPS:
        step(rows, out)
    _find_currency(rows, out)
    fields = {name: out.get(name, FieldResult()) for name in FIELDS}
    if isinstance(fields["amount"].value, Decimal):
        v = fields["amount"].value
        fields["amount"].value = int(v) if v == v.to_integral_value() else float(v)
    warnings = [f"{name}: {r.warning}" for name, r in fields.items() if r.warning]
    warnings += [f"{name}: not found" for name, r in fields.items()
                 if r.value is None and name != "amount_in_words"]
    return fields, warnings
