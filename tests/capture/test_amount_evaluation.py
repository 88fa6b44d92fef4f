"""The amount parser on generated notes of every kind issue 20 names (amount_cases):
Chinese amounts in yuan unless another currency is said, English amounts in figures and
words, ranges with both ends, and traps (phones, order numbers, versions, dates) that
must give no amount. Two seeds, so no kind is tuned to one draw."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.capture.note_parse import parse_note
from tests.capture.amount_cases import generate
from tests.capture.evaluate_amounts import TARGET, evaluate

NOW = dt.datetime(2026, 3, 11, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.mark.parametrize("seed", [20, 2026])
def test_amounts_meet_the_target_on_every_kind(seed: int) -> None:
    result = evaluate(list(generate(seed, 40)))
    assert result["accuracy"] >= TARGET, result["wrong"][:10]
    for kind, rate in result["kinds"].items():
        assert rate >= 0.9, (kind, [w for w in result["wrong"] if w["kind"] == kind][:5])


@pytest.mark.parametrize(("text", "low", "high", "currency", "said"), [
    ("预算50–60万", 500_000, 600_000, "CNY", False),
    ("报价在5万到8万之间", 50_000, 80_000, "CNY", False),
    ("somewhere between 1 and 2 million dollars", 1_000_000, 2_000_000, "USD", True),
    ("they're looking at 3 to 5 million", 3_000_000, 5_000_000, None, False),
    ("price 40-50k USD", 40_000, 50_000, "USD", True),
    ("预算200万美元", 2_000_000, None, "USD", True),
    ("budget is around 1.2M", 1_200_000, None, None, False),
])
def test_ranges_keep_both_ends_and_the_currency_says_if_it_was_said(
        text: str, low: float, high: float | None, currency: str | None, said: bool) -> None:
    p = parse_note(text, NOW)
    assert (p.amount, p.amount_high, p.currency, p.currency_said) == (low, high, currency, said)
    assert p.to_json()["amount_max"] == high


def test_a_range_upper_end_is_not_a_second_amount_and_traps_stay_traps() -> None:
    assert parse_note("预算5万到8万，电话13812345678", NOW).amount == 50_000
    for text in ("版本2.3.1到2.4", "订单号20261201到货", "下周二到周五出差"):
        assert parse_note(text, NOW).amount is None, text
