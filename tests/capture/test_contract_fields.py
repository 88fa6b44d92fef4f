"""Field rules without OCR: capitals, credit-code repair, dates, figures, layout."""

from __future__ import annotations

import random
from decimal import Decimal

import cn2an
import pytest

from desktop.capture.amounts_cn import parse_capitals, repair_capitals, to_capitals
from desktop.capture.contract_fields import check_uscc, extract_fields, parse_date, parse_figure
from desktop.capture.ocr import OcrLine
from desktop.schema import is_valid_uscc, uscc_check_char
from tests.capture.contract_samples import make_uscc


def test_capitals_round_trip_against_cn2an() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        v = (Decimal(rng.randint(1, 10**10)) / rng.choice([1, 100])).quantize(Decimal("0.01"))
        assert parse_capitals(to_capitals(v)) == v
        assert parse_capitals(cn2an.an2cn(str(v), "rmb")) == v
    assert to_capitals(1200000) == "壹佰贰拾万元整"
    assert to_capitals(Decimal("1005.07")) == "壹仟零伍元零柒分"
    assert parse_capitals("人民币壹佰贰拾万元整") == Decimal(1200000)
    assert parse_capitals("拾万元整") == Decimal(100000)
    assert parse_capitals("人民币壹佰abc") is None


def test_capitals_repair_only_fills_unreadable_characters() -> None:
    assert repair_capitals("人民币过佰贰拾万元整", 1200000) == "人民币壹佰贰拾万元整"
    assert repair_capitals("人民币贰佰贰拾万元整", 1200000) is None  # a real mismatch


def test_uscc_lookalikes_repaired_only_when_check_digit_holds() -> None:
    code = "91310115MA1K4A0C2X"
    code = code[:17] + (uscc_check_char(code[:17]) or "")
    assert is_valid_uscc(code)
    misread = code.replace("0", "O")
    assert check_uscc(misread) == (code, None, 0.9)
    wrong = code[:5] + ("7" if code[5] != "7" else "8") + code[6:]
    value, warning, _ = check_uscc(wrong)
    assert value == wrong and warning and "check digit" in warning


def test_dates_and_figures() -> None:
    assert parse_date("签订日期：2026年3月15日")[0] == "2026-03-15"
    assert parse_date("Date of Signing: March 5, 2026")[0] == "2026-03-05"
    assert parse_date("Dated 15th Sept. 2026")[0] == "2026-09-15"
    assert parse_date("2026年]月20日")[0] == "2026-01-20"
    assert parse_date("2026-02-30") is None
    assert parse_figure("1,200,000.00") == Decimal("1200000.00")
    assert parse_figure("1.200.000,50") == Decimal("1200000.50")
    assert parse_figure("12,34,5") is None


def _line(text: str, y: int, conf: float = 0.99, x: int = 100) -> OcrLine:
    return OcrLine(text, conf, (x, y, x + 30 * len(text), y + 30), 0)


def test_extract_chinese_with_mismatched_capitals_warns_with_expected() -> None:
    rng = random.Random(3)
    a, b = make_uscc(rng), make_uscc(rng)
    lines = [_line("合同编号：HT-2026-00123", 100),
             _line("甲方（买方）：上海星辰科技有限公司", 160),
             _line("统一社会信用代码：" + a.replace("0", "O"), 200),
             _line("乙方：北京华信贸易有限公司", 260),
             _line("信用代码：" + b, 300),
             _line("合同总金额：人民币1,200,000.00元（大写：人民币壹佰贰拾伍万元整）", 400),
             _line("签订日期：2026年3月15日", 900)]
    fields, warnings = extract_fields(lines)
    values = {k: v.value for k, v in fields.items()}
    assert values == {"contract_no": "HT-2026-00123", "party_a_name": "上海星辰科技有限公司",
                      "party_a_uscc": a, "party_b_name": "北京华信贸易有限公司", "party_b_uscc": b,
                      "amount": 1200000, "amount_in_words": "人民币壹佰贰拾伍万元整",
                      "currency": "CNY", "sign_date": "2026-03-15"}
    assert fields["amount_in_words"].flagged and fields["amount"].flagged
    assert any("expected 壹佰贰拾万元整" in w for w in warnings)
    assert fields["party_a_name"].bbox is not None and fields["party_a_name"].bbox[1] == 160


def test_extract_english_layout_and_unreadable_code_is_flagged() -> None:
    lines = [_line("Contract No.: SC2026-0087", 100),
             _line("Buyer: Shanghai Antai Trading Co., Ltd.", 160),
             _line("Unified Social Credit Code: 91310115MA1K4ABC2Q", 200),
             _line("Seller: Wuhan Boyuan Logistics Co., Ltd.", 260),
             _line("Total Contract Value: USD 250,000.00", 400),
             _line("Date of Signing: 15 March 2026", 900)]
    fields, warnings = extract_fields(lines)
    assert fields["party_a_name"].value == "Shanghai Antai Trading Co., Ltd."
    assert fields["party_b_name"].value == "Wuhan Boyuan Logistics Co., Ltd."
    assert fields["amount"].value == 250000 and fields["currency"].value == "USD"
    assert fields["sign_date"].value == "2026-03-15" and fields["amount_in_words"].value is None
    assert fields["party_a_uscc"].value == "91310115MA1K4ABC2Q"  # kept as read, not guessed
    assert fields["party_a_uscc"].flagged
    assert any("party_a_uscc" in w and "check digit" in w for w in warnings)
    assert "party_b_uscc: not found" in warnings


@pytest.mark.parametrize("text", ["AA(买方):上海星辰科技有限公司",
                                  "甲方〈买方):上海星辰科技有限公司"])
def test_garbled_party_label_still_found(text: str) -> None:
    fields, _ = extract_fields([_line(text, 100, 0.9)])
    assert fields["party_a_name"].value == "上海星辰科技有限公司"


def test_a_year_misread_under_a_seal_is_repaired_and_flagged() -> None:
    from desktop.capture.contract_fields import repair_year

    assert repair_year("2526-11-04") == "2026-11-04"
    assert repair_year("2526年11月4日") == "2026年11月4日"
    assert repair_year("2026-11-04") is None  # nothing to repair
    assert repair_year("3526-1-1") is None  # no year one digit away
    fields, _ = extract_fields([_line("合同编号：HT-2026-00123", 100),
                                _line("签约日期：2526-11-04", 900)])
    date = fields["sign_date"]
    assert date.value == "2026-11-04" and date.flagged and date.raw == "2526-11-04"


def test_a_yuan_sign_read_as_8_and_traditional_labels() -> None:
    lines = [_line("合同編號：SC2026-3143", 100),
             _line("合同价款总计：817,720.12", 400),
             _line("大写金额：人民币壹万類仟柒佰貳拾元壹角贰分", 440),
             _line("簽訂日期：2026年3月15日", 900)]
    fields, _ = extract_fields(lines)
    assert fields["contract_no"].value == "SC2026-3143"
    assert fields["sign_date"].value == "2026-03-15"
    assert fields["amount"].value == 17720.12 and fields["amount"].flagged
    assert fields["amount_in_words"].value == "人民币壹万柒仟柒佰贰拾元壹角贰分"
    # Figures that disagree with the capitals in another way are not "repaired".
    lines[1] = _line("合同价款总计：817,720.12", 400)
    lines[2] = _line("大写金额：人民币捌拾壹万柒仟柒佰贰拾元壹角贰分", 440)
    fields, _ = extract_fields(lines)
    assert fields["amount"].value == 817720.12 and not fields["amount"].flagged
