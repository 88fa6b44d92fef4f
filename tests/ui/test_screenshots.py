"""Screenshots of every main screen, in English and Chinese, with Chinese data and long
names, written to screenshots/ (git-ignored) for people to look at. The test also
checks that each screen shows what it should."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from desktop.demo_op import add_demo
from desktop.schema import to_utc_iso, uscc_check_char
from tests.ui.helpers import settle, shot

LONG_CN = "新疆生产建设兵团第十二师三坪农场五一农场联合农业机械化服务专业合作社有限责任公司"
LONG_EN = ("The International Consolidated Industrial Machinery and Heavy Equipment Trading "
           "Company of Greater Shenzhen Ltd")


class NoProgress:
    def report(self, done: int, total: int = 0, text: str = "") -> None:
        pass


def seed(store: Any) -> str:
    add_demo(store, NoProgress(), 40, seed=5)
    first17 = "91650000MA7ABCDE1"
    acc = store.repo("account").create({
        "name": LONG_CN, "uscc": first17 + (uscc_check_char(first17) or ""), "industry": "农业",
        "region": "新疆维吾尔自治区石河子市", "lifecycle": "customer", "phone": "0993 266 8888",
        "address": "新疆维吾尔自治区乌鲁木齐市头屯河区三坪农场五一路 88 号综合服务楼三层",
        "tags": ["重点", "VIP"], "cf_employees": 1200, "cf_source": "exhibition"})
    store.repo("account").create({"name": LONG_EN, "industry": "Machinery",
                                  "region": "深圳市南山区"})
    now = dt.datetime.now(dt.UTC)
    for name, title in (("欧阳娜娜", "采购总监"), ("司马相如", "总经理兼首席技术官")):
        store.repo("contact").create({"name": name, "title": title, "account_id": acc["id"],
                                      "phones": ["139 1234 5678"], "email": "buyer@xjbt.cn"})
    store.repo("deal").create({"title": "2027 年度农机设备集中采购及配套售后服务框架合同",
                               "account_id": acc["id"], "amount": 12800000, "currency": "CNY",
                               "stage": "negotiation",
                               "close_date": (now + dt.timedelta(days=5)).date().isoformat()})
    for hours, kind, subject, done in ((1, "visit", "上门拜访：确认农机型号和交付时间", False),
                                       (-3, "call", "电话跟进报价，客户要求再降 3%", True),
                                       (-30, "task", "准备投标文件（技术部分）", False)):
        at = to_utc_iso(now + dt.timedelta(hours=hours))
        store.repo("activity").create({"kind": kind, "subject": subject, "account_id": acc["id"],
                                       "due_at": at, "done_at": at if done else None,
                                       "body": "对方关心售后网点覆盖范围。"})
    return str(acc["id"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_of_every_screen(qtbot: Any, make_window: Any, tmp_path: Path,
                                     lang: str) -> None:
    # empty states first, on an empty profile
    empty = make_window(lang, profile_dir=tmp_path / "empty")
    for index, name in ((0, "empty_today"), (1, "empty_accounts"), (3, "empty_deals")):
        empty.show_tab(index)
        settle(qtbot, empty.ctx)
        shot(empty, f"{lang}_{name}")
    assert empty.records_ui.accounts.empty.isVisible() is False  # (tab 3 is showing now)
    empty.show_tab(1)
    assert empty.records_ui.accounts.stack.currentWidget() is empty.records_ui.accounts.empty
    empty.close()

    window = make_window(lang, profile_dir=tmp_path / "full")
    ctx = window.ctx
    account_id = ctx.run_and_wait(seed, timeout=60)
    for index, name in enumerate(("today", "accounts", "contacts", "deals", "activities")):
        window.show_tab(index)
        settle(qtbot, ctx)
        qtbot.wait(50)
        shot(window, f"{lang}_{index + 1}_{name}")
    assert window.records_ui.accounts.model.rowCount() == 42
    today = window.records_ui.today
    assert today.due.count() >= 2 and not today.empty.isVisible()

    window.records_ui.open_account(account_id)
    settle(qtbot, ctx)
    assert window.records_ui.account_page.title.full == LONG_CN
    page = window.records_ui.account_page
    assert page.contacts.count() == 2 and page.timeline.count() == 3
    shot(window, f"{lang}_6_account_page")

    window.records_ui.search.box.setText("xinjiang")
    qtbot.waitUntil(lambda: LONG_CN in window.records_ui.search.titles(), timeout=5000)
    shot(window, f"{lang}_7_search")
    window.records_ui.search.clear()

    rec = ctx.run_and_wait(lambda s: s.repo("account").get(account_id))
    dlg = window.records_ui.edit_record("account", rec)
    dlg.editors["phone"].widget.setText("12345")
    good = rec["uscc"]
    dlg.editors["uscc"].widget.setText(good[:-1] + ("1" if good[-1] == "0" else "0"))
    dlg.editors["cf_employees"].widget.setText("很多")
    settle(qtbot, ctx)
    assert set(dlg.errors()) == {"phone", "uscc", "cf_employees"}
    shot(dlg, f"{lang}_8_edit_dialog_errors")
    dlg.reject()

    settings = window.open_settings()
    shot(settings, f"{lang}_9_settings")
    settings.reject()
