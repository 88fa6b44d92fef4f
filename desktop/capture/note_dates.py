"""Due dates and times in spoken notes, Chinese, English and mixed.

`find_due(text, now)` reads a normalised note (see `note_numbers.normalize`) and returns
the first date it mentions, the first time of day, and the character spans they used
(the amount parser skips those spans, so "3月20日" or "2:30" never become money).

Conventions (documented because speech is ambiguous):
- Weeks start on Monday. 下周二 / "next Tuesday" = Tuesday of next calendar week;
  下下周一 = Monday two weeks on; 这周五 / 本周五 = Friday of this week; a bare 周五,
  "Friday", "on/by/this Friday" = the next Friday on or after today.
- Dates prefer the future: 3月5日 said after 5 March means next year; 20号 said after
  the 20th means next month.
- A bare hour with no 上午/下午/am/pm reads as business hours: 1-6 is afternoon,
  7-11 morning. A part of day with no hour gives a default hour (上午 09:00, 中午 12:00,
  下午 14:00, 晚上 19:00).
- 下周 / "next week" with no weekday = Monday of next week; 月底 / "end of the month" =
  the last day of the month; "end of the week" / 周末 = Friday / Saturday.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from desktop.capture.note_numbers import CN_DIGITS, cn_int

Span = tuple[int, int]

_CN_NUM = rf"(?:\d{{1,4}}|[{''.join(CN_DIGITS)}十拾]+)"
_WEEKDAY_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
               "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_WEEKDAY_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_MONTHS_EN = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS_EN.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS_EN["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
# "sat", "sun" and "wed" are English words, so only the full names count for them.
_EN_WD_RE = (r"\b(?:mon(?:day)?|tue(?:s|sday)?|wednesday|thu(?:r|rs|rsday)?|"
             r"fri(?:day)?|saturday|sunday)")
DAYPART_HOURS = {"morning": 9, "noon": 12, "afternoon": 14, "evening": 19, "night": 20}
_CN_DAYPART = {
    "凌晨": "early", "早上": "morning", "早晨": "morning", "清早": "morning", "上午": "morning",
    "早": "morning", "中午": "noon", "午饭": "noon", "下午": "afternoon", "傍晚": "evening",
    "晚上": "evening", "晚": "evening", "夜里": "night", "夜": "night",
}
_CN_DAYPART_RE = "|".join(sorted(_CN_DAYPART, key=len, reverse=True))


@dataclass(frozen=True)
class DueFound:
    """What `find_due` read: the date (None when only a time was said), the time of day
    (None when none was said), and the spans of text that said them."""

    date: dt.date | None
    time: dt.time | None
    spans: tuple[Span, ...]


def _num(text: str) -> int | None:
    return cn_int(text)


def _add_months(day: dt.date, months: int, dom: int | None = None) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(dom if dom is not None else day.day, last))


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _week_monday(day: dt.date, weeks_ahead: int) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) + dt.timedelta(weeks=weeks_ahead)


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


def _future_month_day(today: dt.date, month: int, day: int) -> dt.date | None:
    for year in (today.year, today.year + 1):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            return None
        if d >= today:
            return d
    return None  # pragma: no cover - the next year is always in the future


def _future_day_of_month(today: dt.date, day: int) -> dt.date | None:
    if not 1 <= day <= 31:
        return None
    for months in range(0, 3):  # 31号 in a 30-day month moves on to the next 31st
        first = _add_months(today.replace(day=1), months)
        if day <= calendar.monthrange(first.year, first.month)[1]:
            d = first.replace(day=day)
            if d >= today:
                return d
    return None


# ---------------------------------------------------------------- date rules
# Each rule: a compiled pattern and a function (match, today) -> date | None.
# Rules are tried in order at every position; the earliest match in the text wins,
# and at the same position the longest.

def _r_relative_day(m: re.Match[str], today: dt.date) -> dt.date | None:
    word = m.group(0).lower()
    offsets = {"今": 0, "明": 1, "后": 2, "大后": 3, "today": 0, "tonight": 0, "tomorrow": 1}
    if word.startswith("大后"):
        return today + dt.timedelta(days=3)
    if "after tomorrow" in word:
        return today + dt.timedelta(days=2)
    for key, off in offsets.items():
        if word.startswith(key):
            return today + dt.timedelta(days=off)
    return None


def _r_cn_week(m: re.Match[str], today: dt.date) -> dt.date | None:
    prefix, wd = m.group("pre") or "", m.group("wd")
    weekday = _WEEKDAY_CN[wd]
    if prefix.startswith("上"):
        return None  # 上周三 is in the past: not a due date
    if prefix.startswith("下"):
        return _week_monday(today, prefix.count("下")) + dt.timedelta(days=weekday)
    if prefix in ("这", "本", "这个", "本个"):
        return _week_monday(today, 0) + dt.timedelta(days=weekday)
    return _next_weekday(today, weekday)


def _r_cn_weekend(m: re.Match[str], today: dt.date) -> dt.date | None:
    pre = m.group("pre") or ""
    if pre.startswith("下"):
        return _week_monday(today, pre.count("下")) + dt.timedelta(days=5)
    if pre:
        return _week_monday(today, 0) + dt.timedelta(days=5)
    return _next_weekday(today, 5)


def _r_cn_next_week(m: re.Match[str], today: dt.date) -> dt.date | None:
    return _week_monday(today, m.group("pre").count("下"))


def _r_cn_month_edge(m: re.Match[str], today: dt.date) -> dt.date | None:
    pre, edge = m.group("pre") or "", m.group("edge")
    months = pre.count("下")
    if edge in ("初",):
        if not pre:
            months = 1 if today.day > 10 else 0
        return _add_months(today.replace(day=1), months)
    base = _add_months(today.replace(day=1), months)
    if edge == "中旬":
        return base.replace(day=15)
    return _month_end(base)


def _r_cn_month_dom(m: re.Match[str], today: dt.date) -> dt.date | None:
    months = m.group("pre").count("下")
    day = _num(m.group("d"))
    if day is None or not 1 <= day <= 31:
        return None
    return _add_months(today.replace(day=1), months, day)


def _r_cn_full(m: re.Match[str], today: dt.date) -> dt.date | None:
    y = _num(m.group("y")) if m.group("y") else None
    mo, d = _num(m.group("m")), _num(m.group("d"))
    if mo is None or d is None or not 1 <= mo <= 12:
        return None
    if y is not None:
        try:
            return dt.date(y if y > 100 else 2000 + y, mo, d)
        except ValueError:
            return None
    return _future_month_day(today, mo, d)


def _r_iso(m: re.Match[str], today: dt.date) -> dt.date | None:
    try:
        return dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None


def _r_slash_md(m: re.Match[str], today: dt.date) -> dt.date | None:
    return _future_month_day(today, int(m.group("m")), int(m.group("d")))


def _r_cn_dom(m: re.Match[str], today: dt.date) -> dt.date | None:
    day = _num(m.group("d"))
    return None if day is None else _future_day_of_month(today, day)


def _r_cn_after(m: re.Match[str], today: dt.date) -> dt.date | None:
    n = _num(m.group("n")) if m.group("n") not in ("半",) else None
    unit = m.group("u")
    if n is None:
        return None
    if unit == "天":
        return today + dt.timedelta(days=n)
    if unit in ("周", "星期", "礼拜", "个星期", "个礼拜", "个周"):
        return today + dt.timedelta(weeks=n)
    return _add_months(today, n)


def _r_en_weekday(m: re.Match[str], today: dt.date) -> dt.date | None:
    pre = (m.group("pre") or "").lower().strip()
    weekday = _WEEKDAY_EN[m.group("wd").lower()[:3]]
    post = (m.group("post") or "").lower()
    if pre.startswith("next") or "next week" in post:
        return _week_monday(today, 1) + dt.timedelta(days=weekday)
    if pre.startswith("this") or "this week" in post:
        return _week_monday(today, 0) + dt.timedelta(days=weekday)
    return _next_weekday(today, weekday)


def _r_en_week(m: re.Match[str], today: dt.date) -> dt.date | None:
    text = m.group(0).lower()
    if "end of" in text:
        return _week_monday(today, 1 if "next" in text else 0) + dt.timedelta(days=4)
    return _week_monday(today, 2 if "after next" in text else 1)


def _r_en_month_end(m: re.Match[str], today: dt.date) -> dt.date | None:
    months = 1 if "next" in m.group(0).lower() else 0
    return _month_end(_add_months(today.replace(day=1), months))


def _r_en_in(m: re.Match[str], today: dt.date) -> dt.date | None:
    n_text = m.group("n").lower()
    n = {"a": 1, "an": 1, "a couple of": 2, "couple of": 2, "a few": 3}.get(n_text)
    n = int(n_text) if n is None else n
    unit = m.group("u").lower()
    if unit.startswith("day"):
        return today + dt.timedelta(days=n)
    if unit.startswith("week"):
        return today + dt.timedelta(weeks=n)
    return _add_months(today, n)


def _r_en_month_day(m: re.Match[str], today: dt.date) -> dt.date | None:
    month = _MONTHS_EN[m.group("mon").lower().rstrip(".")]
    day = int(m.group("d"))
    if m.group("y"):
        try:
            return dt.date(int(m.group("y")), month, day)
        except ValueError:
            return None
    return _future_month_day(today, month, day)


def _r_en_next_month_dom(m: re.Match[str], today: dt.date) -> dt.date | None:
    day = int(m.group("d"))
    months = 1 if m.group("nm") else 0
    if months:
        return _add_months(today.replace(day=1), 1, day)
    return _future_day_of_month(today, day)


_OR = r"(?:个)?"
Rule = Callable[[re.Match[str], dt.date], dt.date | None]
_DATE_RULES: list[tuple[re.Pattern[str], Rule]] = [
    (re.compile(r"大后天|后天|明天|明日|明儿|明早|明晚|今天|今日|今儿|今晚|今早"), _r_relative_day),
    (re.compile(r"(?:the\s+)?day\s+after\s+tomorrow|tomorrow|today|tonight", re.I),
     _r_relative_day),
    (re.compile(rf"(?P<pre>(?:下)+{_OR}|(?:上)+{_OR}|这{_OR}|本{_OR})?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])"),
     _r_cn_week),
    (re.compile(r"(?P<pre>(?:下)+|这|本)?周末"), _r_cn_weekend),
    (re.compile(rf"(?P<pre>(?:下)+{_OR})(?:周|星期|礼拜)(?![一二三四五六日天1-7])"),
     _r_cn_next_week),
    (re.compile(rf"(?P<pre>(?:下)+{_OR}|这{_OR}|本)?月(?P<edge>底|末|初|中旬)"), _r_cn_month_edge),
    (re.compile(rf"(?P<pre>(?:下)+{_OR}月|这{_OR}月|本月)(?P<d>{_CN_NUM})(?:号|日)"),
     _r_cn_month_dom),
    (re.compile(rf"(?:(?P<y>\d{{2,4}}|[{''.join(CN_DIGITS)}]{{2,4}})年)?(?P<m>{_CN_NUM})月"
                rf"(?P<d>{_CN_NUM})(?:号|日)?"), _r_cn_full),
    (re.compile(r"(?<![\d.])(?P<y>20\d\d)[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?![\d.])"), _r_iso),
    (re.compile(r"(?<![\d./])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?![\d/])"),
     _r_slash_md),
    (re.compile(rf"(?<![\d.号第])(?P<d>{_CN_NUM})(?:号|日)(?![楼线门厅机位口床房码车])"),
     _r_cn_dom),
    (re.compile(rf"(?:过)?(?P<n>{_CN_NUM}|半)(?P<u>天|个?星期|个?礼拜|个?周|个月)(?:以后|之后|后)"),
     _r_cn_after),
    (re.compile(rf"(?P<pre>(?:next|this|coming|on|by|before|until|till)\s+)?"
                rf"(?P<wd>{_EN_WD_RE})\b(?P<post>\s+(?:next|this)\s+week)?", re.I), _r_en_weekday),
    (re.compile(r"\b(?:(?:by\s+)?(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?week|"
                r"(?:the\s+)?week\s+after\s+next|next\s+week)\b", re.I), _r_en_week),
    (re.compile(r"\b(?:(?:by\s+)?(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?month|"
                r"month[-\s]end|eom)\b", re.I), _r_en_month_end),
    (re.compile(r"\bin\s+(?P<n>\d{1,3}|a couple of|couple of|a few|an?)\s+"
                r"(?P<u>days?|weeks?|months?)\b", re.I), _r_en_in),
    (re.compile(r"\b(?P<n>\d{1,3})\s+(?P<u>days?|weeks?|months?)\s+from\s+(?:now|today)\b", re.I),
     _r_en_in),
    (re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?:the\s+)?(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b"
                r"(?:,?\s+(?P<y>20\d\d))?", re.I), _r_en_month_day),
    (re.compile(rf"\b(?:the\s+)?(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\b"
                r"(?:,?\s+(?P<y>20\d\d))?", re.I), _r_en_month_day),
    (re.compile(r"\b(?:on\s+|by\s+)?the\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)\b"
                r"(?P<nm>\s+(?:of\s+)?next\s+month)?", re.I), _r_en_next_month_dom),
]


# ---------------------------------------------------------------- time of day
_CN_H = rf"\d{{1,2}}|[{''.join(CN_DIGITS)}十]{{1,3}}"
_CN_TIME_RE = re.compile(
    rf"(?P<part>{_CN_DAYPART_RE})?\s*(?P<h>{_CN_H})\s*(?:点钟|点|點|时)"
    rf"(?:\s*(?P<min>半|一刻|三刻|整|{_CN_H})分?)?"
    rf"(?![\d.{''.join(CN_DIGITS)}十百千万亿元块%])"
    rf"|(?P<part2>{_CN_DAYPART_RE})\s*(?P<h2>\d{{1,2}}):(?P<min2>[0-5]\d)(?!\d)")
_CN_PART_ONLY_RE = re.compile(
    r"(?:今|明|后天)?(?P<part>上午|中午|下午|晚上|早上|傍晚)|(?P<p2>今晚|明晚|明早|今早)")
_EN_TIME_RE = re.compile(
    r"\b(?:at\s+|@\s*|by\s+)?(?P<h>[01]?\d|2[0-3])(?:[:.](?P<min>[0-5]\d))?\s*"
    r"(?P<ap>a\.?\s?m\.?|p\.?\s?m\.?|o'?clock)(?![a-z])"
    r"|\b(?:at|by|@)\s*(?P<h2>[01]?\d|2[0-3])(?::(?P<min2>[0-5]\d))?\b"
    r"(?![.,]\d|\s*(?:%|st|nd|rd|th|days?|weeks?|months?|k\b|m\b|million|billion|thousand|"
    r"(?:to|or|-|~)\s*\d))"
    r"|(?<![\d:.])(?P<h3>[01]?\d|2[0-3]):(?P<min3>[0-5]\d)(?![\d:])"
    r"|\b(?P<word>noon|midday|midnight)\b"
    r"|\b(?:in\s+the\s+|this\s+|tomorrow\s+)?(?P<epart>morning|afternoon|evening|tonight)\b",
    re.I)


def _business_hour(hour: int) -> int:
    return hour + 12 if 1 <= hour <= 6 else hour


def _apply_daypart(part: str | None, hour: int) -> int:
    if part in ("afternoon", "evening", "night") and hour < 12:
        return hour + 12
    if part == "noon" and hour in (1, 2):
        return hour + 12
    if part in ("early", "morning"):
        return hour % 12 if part == "early" or hour != 12 else 12
    if part is None:
        return _business_hour(hour)
    return hour


def _cn_time(m: re.Match[str]) -> dt.time | None:
    if m.group("h2"):
        hour, minute = int(m.group("h2")), int(m.group("min2"))
        part = _CN_DAYPART.get(m.group("part2") or "")
    else:
        h = _num(m.group("h"))
        if h is None:
            return None
        hour, minute = h, 0
        part = _CN_DAYPART.get(m.group("part") or "")
        raw = m.group("min")
        if raw == "半":
            minute = 30
        elif raw == "一刻":
            minute = 15
        elif raw == "三刻":
            minute = 45
        elif raw and raw != "整":
            minute = _num(raw) or 0
    if minute > 59 or hour > 24:
        return None
    hour = 0 if hour == 24 else _apply_daypart(part, hour)
    return dt.time(hour, minute) if hour <= 23 else None


def _en_time(m: re.Match[str]) -> dt.time | None:
    if m.group("word"):
        return dt.time(0, 0) if m.group("word").lower() == "midnight" else dt.time(12, 0)
    if m.group("epart"):
        part = m.group("epart").lower()
        return dt.time(DAYPART_HOURS["evening" if part == "tonight" else part], 0)
    h = m.group("h") or m.group("h2") or m.group("h3")
    minute = int(m.group("min") or m.group("min2") or m.group("min3") or 0)
    hour = int(h)
    ap = (m.group("ap") or "").lower().replace(".", "").replace(" ", "")
    if ap == "pm" and hour < 12:
        hour += 12
    elif ap == "am" and hour == 12:
        hour = 0
    elif ((not ap.endswith("m") and not m.group("h3"))
          or (m.group("h3") and hour <= 6 and hour != 0)):
        hour = _business_hour(hour)
    return dt.time(hour, minute) if hour <= 23 else None


def _overlaps(span: Span, spans: list[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def find_dates(text: str, today: dt.date) -> list[tuple[Span, dt.date]]:
    """Every date expression in the text with its resolved date, left to right, without
    overlaps (the longest expression wins where two start at the same place)."""
    found: list[tuple[Span, dt.date]] = []
    for pattern, rule in _DATE_RULES:
        for m in pattern.finditer(text):
            span = m.span()
            if span[0] == span[1]:
                continue
            value = rule(m, today)
            if value is not None:
                found.append((span, value))
    found.sort(key=lambda item: (item[0][0], -(item[0][1] - item[0][0])))
    kept: list[tuple[Span, dt.date]] = []
    for span, value in found:
        if not _overlaps(span, [s for s, _ in kept]):
            kept.append((span, value))
    return kept


def _core_start(m: re.Match[str], groups: tuple[str, ...]) -> int:
    """Where the time itself starts (after a part of day or "tomorrow" that a date
    expression may already have taken)."""
    starts = [m.start(g) for g in groups if m.group(g)]
    return min(starts) if starts else m.start()


def find_times(text: str, taken: list[Span]) -> list[tuple[Span, dt.time]]:
    """Every time of day in the text outside the `taken` spans, left to right."""
    found: list[tuple[Span, dt.time]] = []
    for m in _CN_TIME_RE.finditer(text):
        value = _cn_time(m)
        core = (_core_start(m, ("h", "h2")), m.end())
        if value is not None and not _overlaps(core, taken):
            found.append((m.span(), value))
    for m in _EN_TIME_RE.finditer(text):
        value = _en_time(m)
        core = (_core_start(m, ("h", "h2", "h3", "word", "epart")), m.end())
        if value is not None and not _overlaps(core, taken + [s for s, _ in found]):
            found.append((m.span(), value))
    if not found:
        for m in _CN_PART_ONLY_RE.finditer(text):
            word = m.group("part") or m.group("p2")
            part = _CN_DAYPART[word] if word in _CN_DAYPART else _CN_DAYPART[word[1]]
            found.append((m.span(), dt.time(DAYPART_HOURS[part], 0)))
    found.sort(key=lambda item: item[0][0])
    return found


def find_due(text: str, now: dt.datetime) -> DueFound | None:
    """The due date and time a note asks for, or None if it names no date or time.

    `now` must be time-zone aware; dates are resolved in its time zone. A time with no
    date means today if that time is still ahead, else tomorrow.
    """
    today = now.date()
    dates = find_dates(text, today)
    date_spans = [s for s, _ in dates]
    times = find_times(text, date_spans)
    if not dates and not times:
        return None
    day = dates[0][1] if dates else None
    tod = times[0][1] if times else None
    if day is None and tod is not None:
        day = today if tod > now.timetz().replace(tzinfo=None) else today + dt.timedelta(days=1)
    spans = tuple(sorted(date_spans + [s for s, _ in times]))
    return DueFound(day, tod, spans)
