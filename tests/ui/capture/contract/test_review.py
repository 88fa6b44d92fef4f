"""The contract review screen: regions on the page, flagged fields, edit, confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.capture.contract import ContractResult, capture_contract
from desktop.capture.ocr import get_engine
from tests.capture.contract_samples import make_sample
from tests.ui.helpers import shot


def _capture(tmp_path: Path, **kw: Any) -> tuple[ContractResult, dict[str, Any]]:
    sample = make_sample(**kw)
    return capture_contract([sample.write(tmp_path)], get_engine("rapidocr")), sample.truth


def test_review_zh_flags_problems_edit_and_confirm(qtbot: Any, tmp_path: Path) -> None:
    from desktop.ui.capture.contract.review import FLAG_STYLE, ContractReview

    # The printed capitals disagree with the figures: the screen must say so.
    result, truth = _capture(tmp_path, seed=41, lang="zh", layout=0,
                             kinds=("perspective", "light", "jpeg"),
                             overrides={"amount": 1200000.0,
                                        "amount_in_words": "人民币壹佰贰拾伍万元整"})
    w = ContractReview("zh")
    qtbot.addWidget(w)
    w.show()
    w.set_result(result)
    assert w.editors["contract_no"].text() == truth["contract_no"]
    assert w.editors["party_a_name"].text() == truth["party_a_name"]
    assert "amount_in_words" in w.flagged_fields()
    assert w.editors["amount_in_words"].styleSheet() == FLAG_STYLE
    assert "壹佰贰拾万元整" in w.notes["amount_in_words"].text()  # the expected capitals
    assert "contract_no" not in w.flagged_fields()
    drawn = {label for label, _box, _flag in w.page_view.boxes()}
    assert {"合同编号", "甲方", "合同金额", "签订日期"} <= drawn
    assert "不一致" in w.notes["amount"].text()  # warnings speak the screen's language
    w.editors["amount_in_words"].setFocus()
    qtbot.waitUntil(lambda: w.page_view.selected == "大写金额", timeout=2000)
    shot(w, "contract_review_zh")

    w.editors["amount_in_words"].setText("人民币壹佰贰拾万元整")  # the rep corrects it
    w.editors["party_b_name"].setText("北京华信贸易有限公司")
    with qtbot.waitSignal(w.confirmed, timeout=2000) as sig:
        w.confirm_btn.click()
    values = sig.args[0]
    assert values["amount"] == 1200000 and values["amount_in_words"] == "人民币壹佰贰拾万元整"
    assert values["party_b_name"] == "北京华信贸易有限公司"
    assert values["sign_date"] == truth["sign_date"] and values["currency"] == "CNY"


def test_review_en_blocks_a_bad_credit_code(qtbot: Any, tmp_path: Path) -> None:
    from desktop.ui.capture.contract.review import ContractReview

    result, truth = _capture(tmp_path, seed=42, lang="en", layout=2, kinds=("rotate", "noise"))
    w = ContractReview("en")
    qtbot.addWidget(w)
    w.show()
    w.set_result(result)
    assert w.editors["party_b_name"].text() == truth["party_b_name"]
    assert w.editors["currency"].currentText() == truth["currency"]
    shot(w, "contract_review_en")
    code = truth["party_a_uscc"]
    w.editors["party_a_uscc"].setText(code[:17] + ("0" if code[17] != "0" else "1"))
    emitted: list[dict] = []
    w.confirmed.connect(emitted.append)
    w.confirm_btn.click()
    assert emitted == [] and "check digit" in w.error.text()
    w.editors["party_a_uscc"].setText(code)
    w.confirm_btn.click()
    assert emitted and emitted[0]["party_a_uscc"] == code


@pytest.mark.parametrize("lang", ["en"])
def test_review_without_result_is_empty(qtbot: Any, lang: str) -> None:
    from desktop.ui.capture.contract.review import ContractReview

    w = ContractReview(lang)
    qtbot.addWidget(w)
    w.show_page(0)
    assert w.page_label.text() == "Page 1 of 1" and not w.next_btn.isEnabled()


def test_field_name_tags_never_cover_a_box_or_each_other() -> None:
    from PySide6.QtCore import QRect, QSize

    from desktop.ui.capture.contract.review import place_labels

    # two lines of close boxes, as on a dense contract page
    boxes = [QRect(50 + 90 * i, 100 + 22 * (i % 2), 80, 18) for i in range(6)]
    sizes = [QSize(60, 14)] * 6
    bounds = QRect(0, 0, 700, 400)
    tags = place_labels(boxes, sizes, bounds, [i == 3 for i in range(6)])
    assert tags[3] is not None  # the field being edited always shows its name
    shown = [t for t in tags if t is not None]
    assert len(shown) >= 3
    for t in shown:
        assert bounds.contains(t)
        assert not any(t.intersects(b) for b in boxes)
        assert sum(t.intersects(o) for o in shown) == 1  # only itself
