"""The record dialog: inline validation, and a failed save keeps what was typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.errors import DiskFullError, StoreBusyError
from desktop.schema import uscc_check_char
from desktop.store import Store
from tests.ui.helpers import closed, settle


def uscc(first17: str) -> str:
    return first17 + (uscc_check_char(first17) or "")


GOOD_USCC = uscc("91440300708461136")
LETTER_USCC = uscc("N2110000MA01ABCDE")  # letters in the first positions are allowed
BAD_USCC = GOOD_USCC[:-1] + ("0" if GOOD_USCC[-1] != "0" else "1")


def count(ctx: Any, entity: str) -> int:
    return int(ctx.run_and_wait(lambda s: s.repo(entity).count()))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_inline_validation_blocks_bad_values_and_keeps_text(qtbot: Any, make_window: Any,
                                                            lang: str) -> None:
    window = make_window(lang)
    dlg = window.records_ui.new_record("account")
    dlg.editors["name"].widget.setText("上海某某贸易有限公司")
    assert dlg.save_button.isEnabled()

    for field, bad, expect_en, expect_zh in (
            ("phone", "12345", "Not a valid phone number", "电话号码"),
            ("uscc", BAD_USCC, "Not a valid credit code", "统一社会信用代码"),
    ):
        dlg.editors[field].widget.setText(bad)
        assert not dlg.save_button.isEnabled()
        message = dlg.errors()[field]
        assert (expect_zh if lang == "zh" else expect_en) in message
        assert dlg.editors[field].widget.text() == bad  # what the rep typed stays
        dlg.save()  # Enter / a forced save does nothing while invalid
        assert dlg.isVisible()
        dlg.editors[field].widget.setText("")
        assert field not in dlg.errors()
    assert dlg.save_button.isEnabled()

    dlg.editors["uscc"].widget.setText(LETTER_USCC)
    assert "uscc" not in dlg.errors() and dlg.save_button.isEnabled()
    dlg.editors["name"].widget.setText("")
    assert not dlg.save_button.isEnabled()
    assert "name" in dlg.errors()
    dlg.reject()
    assert count(window.ctx, "account") == 0  # nothing saved half-way


def test_contact_email_and_phones_are_checked(qtbot: Any, window: Any) -> None:
    dlg = window.records_ui.new_record("contact")
    dlg.editors["name"].widget.setText("张伟")
    dlg.editors["email"].widget.setText("zhang.wei@")
    assert "email" in dlg.errors() and not dlg.save_button.isEnabled()
    dlg.editors["email"].widget.setText("zhang.wei@example.cn")
    dlg.editors["phones"].widget.setText("139 1234 5678, 021-6234 5678")
    assert dlg.errors() == {} and dlg.save_button.isEnabled()
    dlg.editors["phones"].widget.setText("139 1234 5678, 12")
    assert "phones" in dlg.errors()
    dlg.editors["phones"].widget.setText("139 1234 5678, 021-6234 5678")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    (rec,) = window.ctx.run_and_wait(lambda s: s.repo("contact").find(name="张伟"))
    assert rec["phones"] == ["+8613912345678", "+862162345678"]
    assert rec["email"] == "zhang.wei@example.cn"


def test_custom_fields_and_local_times_are_in_the_dialog(qtbot: Any, window: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        dlg = window.records_ui.new_record("account")
        assert "cf_employees" in dlg.editors and "cf_source" in dlg.editors  # custom fields
        dlg.editors["cf_employees"].widget.setText("many")
        assert "cf_employees" in dlg.errors()
        dlg.reject()
        act = window.records_ui.new_record("activity")
        act.editors["kind"].widget.setCurrentIndex(act.editors["kind"].widget.findData("visit"))
        act.editors["subject"].widget.setText("拜访采购部")
        act.editors["due_at"].widget.setText("2026-11-23 09:30")  # typed in local time
        qtbot.mouseClick(act.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: closed(act), timeout=5000)
        (rec,) = window.ctx.run_and_wait(lambda s: s.repo("activity").find(subject="拜访采购部"))
        assert rec["due_at"] == "2026-11-23T01:30:00Z"  # stored in UTC
        again = window.records_ui.edit_record("activity", rec)
        assert again.editors["due_at"].widget.text() == "2026-11-23 09:30"  # shown local
        again.reject()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def failing_store(error: Exception, box: dict[str, Any]) -> Any:
    def factory(profile: Path, progress: Any = None) -> Store:
        store = Store.open(profile)
        repo = store.repo("account")

        def create(values: Any, **kw: Any) -> Any:
            if box.get("fail", True):
                raise error
            return type(repo).create(repo, values, **kw)

        repo.create = create  # type: ignore[method-assign]
        return store
    return factory


@pytest.mark.parametrize("error", [DiskFullError(), StoreBusyError()])
def test_failed_save_keeps_the_dialog_open_with_the_text(qtbot: Any, make_window: Any,
                                                         error: Exception) -> None:
    box: dict[str, Any] = {"fail": True}
    window = make_window("en", store_factory=failing_store(error, box))
    dlg = window.records_ui.new_record("account")
    dlg.editors["name"].widget.setText("成都天府软件园有限公司")
    dlg.editors["phone"].widget.setText("028 8512 3456")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window.ctx)
    assert dlg.isVisible()
    assert dlg.message.isVisible() and dlg.message.text() == str(error)
    assert dlg.editors["name"].widget.text() == "成都天府软件园有限公司"
    assert dlg.editors["phone"].widget.text() == "028 8512 3456"
    assert dlg.save_button.isEnabled()  # the rep can try again
    box["fail"] = False
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: closed(dlg), timeout=5000)
    assert count(window.ctx, "account") == 1


def test_unexpected_error_is_generic_and_logged(qtbot: Any, window: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from desktop.errors import Cancelled, FieldCRMError

    ctx = window.ctx
    shown: list[str] = []
    ctx.error_shown.connect(shown.append)
    ctx.run(lambda s: (_ for _ in ()).throw(FieldCRMError("The server said no.")))
    ctx.run(lambda s: (_ for _ in ()).throw(Cancelled()))
    ctx.run(lambda s: 1 / 0)
    settle(qtbot, ctx)
    assert shown[0] == "The server said no."
    assert len(shown) == 2 and "went wrong" in shown[1]  # Cancelled is silent
    assert "ZeroDivisionError" in caplog.text
    assert "went wrong" in window.statusBar().currentMessage()


def test_an_activity_planned_in_new_york_shows_in_beijing_with_its_own_hour(
        qtbot: Any, make_window: Any) -> None:
    from desktop.ui.common.formatting import set_viewer_zone
    from desktop.ui.records.lazy_model import RecordTableModel

    window = make_window("zh")
    try:
        set_viewer_zone("America/New_York")  # the New York rep plans a meeting at 10:00
        act = window.records_ui.new_record("activity")
        act.editors["kind"].widget.setCurrentIndex(act.editors["kind"].widget.findData("visit"))
        act.editors["subject"].widget.setText("纽约客户会议")
        act.editors["due_at"].widget.setText("2026-03-08 02:30")  # the hour clocks skip
        qtbot.mouseClick(act.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "due_at" in act.errors(), timeout=5000)
        assert "纽约没有 2026-03-08 02:30 这个时刻" in act.errors()["due_at"]
        act.editors["due_at"].widget.setText("2026-07-15 10:00")
        qtbot.mouseClick(act.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: closed(act), timeout=5000)
        (rec,) = window.ctx.run_and_wait(lambda s: s.repo("activity").find(subject="纽约客户会议"))
        assert (rec["due_at"], rec["time_zone"]) == ("2026-07-15T14:00:00Z", "America/New_York")
        set_viewer_zone("Asia/Shanghai")  # the Beijing manager's list
        model = RecordTableModel(window.ctx, "activity")
        col = next(c for c in model.columns if c.key == "due_at")
        assert model.cell_text(rec, col) == "2026-07-15 22:00 (10:00 纽约)"
    finally:
        set_viewer_zone("")
