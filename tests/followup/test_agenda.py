"""The agenda and its actions, without Qt (desktop.followup.agenda)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desktop.errors import ValidationError
from desktop.followup import agenda
from desktop.followup.clock import iso, parse_iso

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 4, 10, 30, tzinfo=ZONE)  # a Friday, 10:30 local


def _task(store: Any, subject: str, hours: float, **kw: Any) -> dict[str, Any]:
    return store.repo("activity").create({
        "kind": kw.pop("kind", "task"), "subject": subject,
        "due_at": iso(NOW + dt.timedelta(hours=hours)), **kw})


@pytest.fixture
def book(store: Any) -> dict[str, Any]:
    acc = store.repo("account").create({"name": "深圳华信机械有限公司", "phone": "0755-86001234"})
    con = store.repo("contact").create({"name": "王芳", "account_id": acc["id"],
                                        "phones": ["139 1234 5678"]})
    return {"acc": acc, "con": con}


def test_open_activities_fall_into_overdue_today_and_upcoming(store: Any, book: Any) -> None:
    acc, con = book["acc"], book["con"]
    _task(store, "回电确认参数", -26, account_id=acc["id"], contact_id=con["id"])
    _task(store, "准备报价单", 2, account_id=acc["id"])
    _task(store, "上门拜访", 13.4, kind="visit")  # 23:54 local: still today
    _task(store, "寄送合同", 13.6)  # 00:06 tomorrow: upcoming
    _task(store, "八天后", 24 * 8)  # beyond the upcoming week: not shown
    done = _task(store, "已完成", -1)
    store.repo("activity").update(done["id"], {"done_at": iso(NOW)})
    got = agenda.load_agenda(store, NOW, ZONE)
    assert [i.subject for i in got.overdue] == ["回电确认参数"]
    assert [i.subject for i in got.today] == ["准备报价单", "上门拜访"]
    assert [i.subject for i in got.upcoming] == ["寄送合同"]
    first = got.overdue[0]
    assert (first.account, first.contact, first.phone) == ("深圳华信机械有限公司", "王芳",
                                                           "+8613912345678")
    # without a contact the account's phone is the one to call
    assert got.today[0].phone == "+8675586001234" and got.today[1].account == ""


def test_the_agenda_shows_only_the_reps_own_and_unowned_records(store: Any) -> None:
    store.set_user("张伟")
    _task(store, "mine", 1)
    _task(store, "theirs", 1, owner="李娜")
    _task(store, "nobody's", 1, owner="")
    assert {i.subject for i in agenda.load_agenda(store, NOW, ZONE, me="张伟").items()} == {
        "mine", "nobody's"}
    assert len(agenda.load_agenda(store, NOW, ZONE, me="").items()) == 3


def test_done_with_outcome_and_a_next_step_makes_a_task(store: Any, book: Any) -> None:
    t = _task(store, "电话跟进", -1, kind="call", account_id=book["acc"]["id"],
              contact_id=book["con"]["id"])
    nxt = agenda.next_step_due(NOW, ZONE)
    ids = agenda.complete(store, t["id"], "  客户同意下周签约 ", NOW, "寄送合同", nxt)
    act = store.repo("activity").get(t["id"])
    assert act["outcome"] == "客户同意下周签约" and parse_iso(act["done_at"]) == NOW
    task = store.repo("activity").get(ids[1])
    assert (task["kind"], task["subject"], task["contact_id"]) == ("task", "寄送合同",
                                                                    book["con"]["id"])
    assert parse_iso(task["due_at"]) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZONE)
    with pytest.raises(ValidationError):
        agenda.complete(store, t["id"], "again", NOW)  # already done: nothing written
    assert len(agenda.complete(store, _task(store, "x", 1)["id"], "", NOW)) == 1


def test_a_long_outcome_is_refused_and_nothing_is_written(store: Any) -> None:
    t = _task(store, "x", 1)
    with pytest.raises(ValidationError):
        agenda.complete(store, t["id"], "很" * 501, NOW, "next")
    assert store.repo("activity").get(t["id"])["done_at"] is None
    assert store.repo("activity").count() == 1


def test_a_visit_is_logged_with_check_in_time_place_and_next_step(store: Any,
                                                                 book: Any) -> None:
    at = NOW - dt.timedelta(hours=2)
    ids = agenda.log_contact(store, "visit", book["acc"]["id"], "样品测试通过", NOW,
                             at=at, place="南山区科技园 A 栋", next_step="发送报价", lang="zh")
    visit = store.repo("activity").get(ids[0])
    assert parse_iso(visit["done_at"]) == at and visit["body"] == "📍 南山区科技园 A 栋"
    assert visit["subject"] == "拜访：样品测试通过"
    assert agenda.default_subject("call", "no answer") == "Call: no answer"
    assert store.repo("activity").get(ids[1])["kind"] == "task"
    with pytest.raises(ValidationError):
        agenda.log_contact(store, "task", None, "", NOW)


def test_reschedule_by_days_and_by_dropping_on_a_group(store: Any) -> None:
    t = _task(store, "x", -3)  # 07:30 today, overdue
    agenda.reschedule(store, t["id"], 1)
    assert parse_iso(store.repo("activity").get(t["id"])["due_at"]) == NOW + dt.timedelta(
        hours=21)
    agenda.reschedule_to_group(store, t["id"], "today", NOW, ZONE)  # 07:30 is past: 11:00
    assert parse_iso(store.repo("activity").get(t["id"])["due_at"]) == NOW.replace(
        hour=11, minute=0)
    agenda.reschedule_to_group(store, t["id"], "upcoming", NOW, ZONE)
    assert parse_iso(store.repo("activity").get(t["id"])["due_at"]) == dt.datetime(
        2026, 12, 5, 11, 0, tzinfo=ZONE)
    with pytest.raises(ValidationError):
        agenda.reschedule_to_group(store, t["id"], "overdue", NOW, ZONE)
    assert agenda.group_of(NOW + dt.timedelta(days=9), NOW, ZONE) is None


def test_a_managers_agenda_and_counts_are_theirs_and_nobodys_in_due_order(store: Any) -> None:
    """Read by owner and merged (followup_open_by_owner): the same items, in due order
    across owners, as walking the whole book would give, however many the team's are."""
    from desktop.home import home_numbers

    store.repo("activity").import_many([
        {"kind": "task", "subject": f"rep {i}", "owner": f"rep{i % 7}",
         "due_at": iso(NOW - dt.timedelta(days=30, minutes=i))} for i in range(800)])
    for subject, hours, owner in (("mine late", -5, "boss"), ("nobody's", -3, ""),
                                  ("unowned", -3, None), ("mine soon", -1, "boss"),
                                  ("rep today", 2, "rep1"), ("mine today", 3, "boss"),
                                  ("mine tomorrow", 26, "boss")):
        _task(store, subject, hours, **({"owner": owner} if owner is not None else {}))
    got = agenda.load_agenda(store, NOW, ZONE, me="boss")
    assert [i.subject for i in got.overdue] == ["mine late", "nobody's", "unowned", "mine soon"]
    assert [i.subject for i in got.today] == ["mine today"]
    assert [i.subject for i in got.upcoming] == ["mine tomorrow"]
    numbers = home_numbers(store, NOW, ZONE, "boss")
    assert (numbers.overdue, numbers.due_today) == (4, 1)
    everyone = home_numbers(store, NOW, ZONE)
    assert (everyone.overdue, everyone.due_today) == (804, 2)
