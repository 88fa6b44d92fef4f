"""Qt-free logic of a rep's day: home numbers, quick add, stage totals per currency, the
account bundle, tel:/mailto: links, the local user name, demo data per language."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desktop import home, quickadd, rep
from desktop.demo import DemoData, make_demo
from desktop.demo_op import add_demo
from desktop.errors import ValidationError
from desktop.followup.clock import iso, parse_iso
from desktop.records_summary import (
    NO_OWNER,
    account_bundle,
    deal_owners,
    mailto_url,
    stage_totals,
    tel_url,
)

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 4, 10, 30, tzinfo=ZONE)  # Friday


class NoProgress:
    def report(self, done: int, total: int = 0, text: str = "") -> None:
        pass


def test_home_numbers(store: Any) -> None:
    acts = store.repo("activity")
    for hours in (-30, -1, 2, 30):
        acts.create({"kind": "task", "subject": "t",
                     "due_at": iso(NOW + dt.timedelta(hours=hours))})
    for days, kind in ((0, "call"), (1, "visit"), (3, "note"), (5, "call"), (0, "task")):
        at = iso(NOW - dt.timedelta(days=days, minutes=5))
        acts.create({"kind": kind, "subject": "d", "due_at": at, "done_at": at})
    deals = store.repo("deal")
    deals.create({"title": "a", "amount": 100, "currency": "CNY", "close_date": "2026-12-10"})
    deals.create({"title": "b", "amount": 50, "currency": "USD", "close_date": "2026-12-18"})
    deals.create({"title": "won", "amount": 9, "currency": "CNY", "close_date": "2026-12-10",
                  "stage": "won"})
    deals.create({"title": "late", "amount": 9, "currency": "CNY", "close_date": "2026-12-19"})
    n = home.home_numbers(store, NOW, ZONE)
    assert (n.overdue, n.due_today) == (2, 1)
    assert n.closing_count == 2 and n.closing_amounts == {"CNY": 100, "USD": 50}
    # Monday 30 Nov to now: call today, visit Thursday, note Tuesday (the call of
    # Sunday 29 Nov belongs to last week; tasks are not logged contact)
    assert n.week_by_kind == {"call": 1, "visit": 1, "note": 1} and n.week_done == 3
    assert n.week_target == home.DEFAULT_WEEK_TARGET and n.leads_waiting is None  # no user
    leads = store.repo("lead")
    at = "2026-12-04T01:00:00Z"
    for owner, status, contacted in (("wang", "assigned", None), ("wang", "contacted", at),
                                     ("wang", "assigned", "2026-12-04T02:00:00Z"),
                                     ("li", "assigned", None), ("wang", "assigned", None)):
        leads.create({"name": "n", "phone": "13800138000", "owner": owner, "status": status,
                      "assigned_at": at, "last_contact_at": contacted})
    # assigned to wang and not contacted since: the first and the last
    assert home.home_numbers(store, NOW, ZONE, "wang").leads_waiting == 2
    home.set_week_target(store, 12)
    assert home.home_numbers(store, NOW, ZONE).week_ratio == 3 / 12
    with pytest.raises(ValidationError):
        home.set_week_target(store, 0)


def test_stage_totals_never_sum_across_currencies_and_filter_by_owner(store: Any) -> None:
    deals = store.repo("deal")
    deals.create({"title": "a", "amount": 100, "currency": "CNY", "stage": "proposal",
                  "owner": "张伟"})
    deals.create({"title": "b", "amount": 250.5, "currency": "USD", "stage": "proposal",
                  "owner": "李娜"})
    deals.create({"title": "c", "amount": 300, "currency": "CNY", "stage": "proposal"})
    deals.create({"title": "d"})  # no stage: a lead, no amount
    totals = stage_totals(store)
    assert totals["proposal"].count == 3
    assert totals["proposal"].amounts == {"CNY": 400, "USD": 250.5}
    assert totals["proposal"].lines() == ["CNY 400", "USD 250.50"]
    assert totals["lead"].count == 1 and totals["lead"].amounts == {}
    assert stage_totals(store, "张伟")["proposal"].amounts == {"CNY": 100}
    assert stage_totals(store, NO_OWNER)["proposal"].count == 1
    assert deal_owners(store) == ["张伟", "李娜"]


def test_account_bundle_and_links(store: Any) -> None:
    acc = store.repo("account").create({"name": "A"})
    deal = store.repo("deal").create({"title": "D", "account_id": acc["id"]})
    store.repo("contract").create({"contract_no": "HT-1", "deal_id": deal["id"]})
    store.repo("contract").create({"contract_no": "HT-2", "party_a_account_id": acc["id"]})
    store.repo("attachment").create({"sha256": "a" * 64, "file_name": "报价单.pdf",
                                     "deal_id": deal["id"]})
    store.repo("activity").create({"kind": "task", "subject": "t", "account_id": acc["id"],
                                   "due_at": "2026-12-05T01:00:00Z"})
    b = account_bundle(store, acc["id"])
    assert {c["contract_no"] for c in b["contracts"]} == {"HT-1", "HT-2"}
    assert [f["file_name"] for f in b["files"]] == ["报价单.pdf"]
    assert b["next_due"] == "2026-12-05T01:00:00Z" and b["open_deals"] == 1
    assert tel_url("+86 139-1234-5678") == "tel:+8613912345678"
    assert tel_url("12") is None and mailto_url("not an email") is None
    assert mailto_url(" wang.fang+crm@example.cn ") == "mailto:wang.fang+crm@example.cn"


def test_quick_add_finds_accounts_by_name_pinyin_phone_and_contact(store: Any) -> None:
    acc = store.repo("account").create({"name": "深圳华信机械有限公司", "phone": "0755-86001234"})
    con = store.repo("contact").create({"name": "欧阳娜娜", "account_id": acc["id"]})
    store.repo("account").create({"name": "上海远大物流有限公司"})
    for typed in ("华信", "huaxin", "hxjx", "8600 1234"):
        found = quickadd.find_accounts(store, typed)
        assert [m.account_id for m in found] == [acc["id"]], typed
    by_person = quickadd.find_accounts(store, "ouyang")
    assert by_person[0].account_id == acc["id"] and by_person[0].contact_id == con["id"]
    assert quickadd.find_accounts(store, "没有这家") == []


@pytest.mark.parametrize("kind", quickadd.KINDS)
def test_quick_add_writes_each_kind(store: Any, kind: str) -> None:
    acc = store.repo("account").create({"name": "A"})
    entry = quickadd.QuickEntry(kind, acc["id"], subject="二期扩容", outcome="同意报价",
                                next_step="寄合同", when=NOW - dt.timedelta(hours=1),
                                place="科技园", body="客户关心交期",
                                amount=quickadd.parse_amount("12.8万"))
    out = quickadd.add(store, entry, NOW)
    rec = store.repo(out["entity"]).get(out["id"])
    assert rec["account_id"] == acc["id"]
    if kind == "deal":
        assert (rec["title"], rec["amount"], rec["currency"], rec["stage"]) == (
            "二期扩容", 128000, "CNY", "lead")
    elif kind == "task":
        assert rec["done_at"] is None and parse_iso(rec["due_at"]) == entry.when
    elif kind == "note":
        assert rec["subject"] == "二期扩容" and rec["body"] == "客户关心交期" and rec["done_at"]
    else:
        assert rec["outcome"] == "同意报价" and len(out["ids"]) == 2
        assert ("📍 科技园" in (rec["body"] or "")) is (kind == "visit")


def test_quick_add_refuses_bad_input(store: Any) -> None:
    with pytest.raises(ValidationError):
        quickadd.add(store, quickadd.QuickEntry("call", None, outcome="x"), NOW)
    with pytest.raises(ValidationError):
        quickadd.parse_amount("很多")
    assert quickadd.parse_amount("1,200") == 1200 and quickadd.parse_amount("") is None
    assert quickadd.parse_amount("1.5亿") == 150_000_000
    assert store.repo("activity").count() == 0


def test_the_local_user_name_is_asked_once_and_owns_new_records(store: Any) -> None:
    assert rep.needs_user_name(store)
    rec = store.repo("account").create({"name": "before"})
    assert not rec.get("owner")
    with pytest.raises(ValidationError):
        rep.set_user_name(store, "   ")
    assert rep.set_user_name(store, "  张  伟 ") == "张 伟"
    assert not rep.needs_user_name(store)
    assert store.repo("account").create({"name": "after"})["owner"] == "张 伟"
    assert rep.claim_unowned(store, "张 伟") == 1
    assert store.repo("account").get(rec["id"])["owner"] == "张 伟"
    store.meta_set("sync_user", "zhangwei")
    store.set_user("zhangwei")
    with pytest.raises(ValidationError):
        rep.set_user_name(store, "别人")


def test_a_skipped_question_is_not_asked_again(store: Any) -> None:
    rep.skip_user_name(store)
    assert not rep.needs_user_name(store)


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_demo_in_chinese_is_chinese_and_foreign_customers_say_so(store: Any) -> None:
    counts = add_demo(store, NoProgress(), 120, seed=5, lang="zh")
    assert counts["activities"] > counts["accounts"]
    accounts = list(store.repo("account").iter_all())
    foreign = [a for a in accounts if a["region"] in ("新加坡", "香港特别行政区")]
    for a in accounts:
        assert not re.search(r" \d+$", a["name"])
        assert CJK.search(a["region"]) and CJK.search(a["industry"])
        if a not in foreign:
            assert a["name"][:2] in a["region"]  # named after the city it sits in
    by_acc = {a["id"]: a for a in accounts}
    for act in store.repo("activity").iter_all():
        zh = by_acc[act["account_id"]] not in foreign
        assert bool(CJK.search(act["subject"])) is zh
    for d in store.repo("deal").iter_all():
        assert (d["currency"] == "CNY") is (by_acc[d["account_id"]] not in foreign)
    subjects = {a["subject"] for a in store.repo("activity").iter_all()}
    assert "Quarterly review" not in subjects and "Demo for the IT team" not in subjects


def test_demo_in_english_is_english(store: Any) -> None:
    make_demo(store, accounts=40, lang="en")
    for rec in store.repo("account").iter_all():
        assert not CJK.search(str(rec)), rec
    for rec in store.repo("contact").iter_all():
        assert not CJK.search(rec["name"] + rec["title"])
    assert {d["currency"] for d in store.repo("deal").iter_all()} <= {"USD", "GBP"}
    with pytest.raises(ValueError):
        DemoData(lang="fr")


def test_the_cli_scripts_a_reps_day(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    import json

    from desktop import cli

    def run(*argv: str) -> Any:
        assert cli.main(["--profile", str(profile), *argv]) == 0
        return json.loads(capsys.readouterr().out)

    assert run("demo", "--accounts", "20", "--lang", "en", "--json")["accounts"] == 20
    assert run("me", "--name", "Wendy Walker", "--json")["user"] == "Wendy Walker"
    assert run("me", "--claim", "--json")["claimed"] > 0
    acc = run("account", "add", "--name", "Brightwater Farms LLC", "--phone",
              "+1 (512) 555-0199", "--json")
    out = run("quick-add", "task", "--account", "brightwater", "--subject", "Send quote",
              "--when", "2030-01-02T09:00", "--json")
    assert out["account"] == "Brightwater Farms LLC"
    agenda = run("agenda", "--json")
    ids = [i["id"] for g in agenda.values() for i in g]
    later = run("agenda-later", out["id"], "--days", "2", "--json")
    assert later["due_at"].startswith("2030-01-04")
    done = run("agenda-done", out["id"], "--outcome", "Sent", "--next-step", "Call back",
               "--json")
    assert len(done["ids"]) == 2
    home_n = run("home", "--json")
    assert home_n["leads_waiting"] == 0 and home_n["week_target"] == 20
    totals = run("deal-totals", "--json")
    assert sum(t["count"] for t in totals.values()) >= 1
    assert all(set(t["amounts"]) <= {"USD", "GBP"} for t in totals.values())
    assert isinstance(ids, list) and acc["name"] == "Brightwater Farms LLC"
    assert cli.main(["--profile", str(profile), "quick-add", "call", "--account",
                     "nothing like this", "--json"]) != 0
