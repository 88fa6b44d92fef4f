"""The golden 72 hours: warning at 48 h, overdue at 72 h with a review task for the
manager; what counts as a valid follow-up."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from desktop.followup.clock import FakeClock
from desktop.followup.reminders import TABLE, golden_reminders
from desktop.followup.settings import Criterion, FollowupSettings
from desktop.store import Store
from tests.followup.conftest import at, make_scheduler

SHA = "a" * 64


def log(store: Store, account_id: str, **values: object) -> None:
    store.repo("activity").create({"subject": "follow-up", "account_id": account_id, **values})


def test_warning_at_48_overdue_at_72_and_one_review_task(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, manager="manager.li")
    acc = fstore.repo("account").create({"name": "美团", "lifecycle": "lead"})["id"]
    sched.tick()
    clock.advance(hours=47, minutes=59)
    assert sched.tick() == []
    clock.advance(minutes=1)
    (warn,) = sched.tick()
    assert warn.title == "No follow-up yet (48 h): 美团" and not warn.urgent
    clock.advance(hours=23, minutes=59)
    assert sched.tick() == []
    assert fstore.repo("activity").find(owner="manager.li") == []
    clock.advance(minutes=1)
    (over,) = sched.tick()
    assert over.title == "Follow-up overdue (72 h): 美团" and over.urgent
    (review,) = fstore.repo("activity").find(owner="manager.li")
    assert review["kind"] == "task" and review["account_id"] == acc
    assert review["subject"] == "Review: “美团” had no valid follow-up within 72 hours"
    assert review["due_at"] == at(clock)
    sched.snooze(over.keys[0], 5)  # fires again after the snooze, but no second review task
    clock.advance(minutes=5)
    assert len(sched.tick()) == 1
    assert len(fstore.repo("activity").find(owner="manager.li")) == 1


def test_two_criteria_make_a_valid_follow_up(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, manager="manager.li")
    acc = fstore.repo("account").create({"name": "京东"})["id"]
    clock.advance(hours=10)
    log(fstore, acc, kind="call", duration_s=95)
    clock.advance(hours=1)
    log(fstore, acc, kind="note", outcome="quote_sent", done_at=at(clock))
    clock.advance(hours=70)
    sched.full_pass()
    assert sched.tick() == []
    assert fstore.repo("activity").find(owner="manager.li") == []


def test_short_call_and_photo_visit_is_only_one_criterion(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock)
    acc = fstore.repo("account").create({"name": "小米"})["id"]
    log(fstore, acc, kind="call", duration_s=89)  # under 90 s: does not count
    log(fstore, acc, kind="visit", attachments=[SHA])
    log(fstore, acc, kind="task", outcome="客户回复")  # a planned task, not done: no
    clock.advance(hours=48)
    assert [n.kinds for n in sched.tick()] == [("golden_warning",)]
    # The customer replies: now two criteria hold and the pending overdue is cancelled.
    log(fstore, acc, kind="note", outcome="客户回复：下周见面", done_at=at(clock))
    clock.advance(hours=24)
    assert sched.tick() == []


def test_follow_up_rule_is_configurable(fstore: Store, clock: FakeClock) -> None:
    one_call = (Criterion("long_call", kind="call", min_duration_s=300),)
    sched = make_scheduler(fstore, clock, criteria=one_call, required_criteria=1,
                           golden_warn_hours=24, golden_overdue_hours=36)
    a = fstore.repo("account").create({"name": "Acme"})["id"]
    b = fstore.repo("account").create({"name": "Globex"})["id"]
    log(fstore, a, kind="call", duration_s=301)
    log(fstore, b, kind="call", duration_s=120)
    clock.advance(hours=24)
    (n,) = sched.tick()
    assert n.record_id == b


def test_deals_have_a_golden_72_too_and_old_records_do_not(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, golden_window_days=5)
    fstore.repo("deal").create({"title": "ERP rollout"})
    clock.advance(hours=48)
    assert [n.title for n in sched.tick()] == ["No follow-up yet (48 h): ERP rollout"]
    clock.advance(days=6)
    sched.full_pass()
    assert [p.kind for p in sched.due_now()] == []


def test_settings_round_trip_through_the_store(fstore: Store) -> None:
    from desktop.followup.settings import load_settings, save_settings

    s = FollowupSettings(quiet_start="21:30", manager="li", stalled_days={"proposal": 3})
    save_settings(fstore, s)
    assert load_settings(fstore) == s
    # what counts is the admin's rule (desktop.followup.rule), never kept here: a warning
    # saved with the settings is not read back
    save_settings(fstore, replace(s, golden_warn_hours=24))
    assert load_settings(fstore) == s


def test_imported_accounts_start_their_golden_72_when_imported(fstore: Store,
                                                               clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock)
    fstore.repo("account").import_many([{"name": "导入甲"},
                                        {"name": "导入乙", "lifecycle": "lead"}])
    sched.full_pass()
    scheduled = {(r[0], r[1]): (r[2], r[3]) for r in fstore.conn.execute(
        f"SELECT record_id, kind, key, fire_at FROM {TABLE} WHERE state = 'scheduled'")}
    # per record: the same times
    for row in fstore.conn.execute("SELECT * FROM account").fetchall():
        for g in golden_reminders("account", row, [], sched.settings, clock.now()):
            assert scheduled[row["id"], g.kind] == (g.key, g.fire_at)
    assert len(scheduled) == 4
    clock.advance(hours=47, minutes=59)
    assert sched.tick() == []
    clock.advance(minutes=1)
    assert sorted(n.title for n in sched.tick()) == ["No follow-up yet (48 h): 导入乙",
                                                     "No follow-up yet (48 h): 导入甲"]


def test_records_pulled_on_a_first_sync_start_their_golden_72_at_their_first_write(
        fstore: Store, clock: FakeClock) -> None:
    """A manager's first sync: every record arrives now (created_at); the rule's clock
    started at each one's first write on the rep's device (first_write_at), so a record
    written 30 hours ago warns in 18 hours and one written 40 days ago (outside the
    rule's window) has no reminder."""
    import datetime as dt

    clock.instant = dt.datetime.now(dt.UTC).replace(microsecond=0)
    sched = make_scheduler(fstore, clock)

    def stamp(hours_ago: float) -> str:
        moment = clock.now() - dt.timedelta(hours=hours_ago)
        return f"{int(moment.timestamp() * 1000):013d}-0000-0190f1a2-b3c4-7d5e-8f90-repdevice"

    recent, old = "0190f1a2-0000-7000-8000-00000000a001", "0190f1a2-0000-7000-8000-00000000a002"
    fstore.apply_remote([
        {"entity": "account", "record_id": rid, "fields": {
            "name": {"value": name, "hlc": stamp(hours)},
            "owner": {"value": "alice", "hlc": stamp(hours)}}}
        for rid, name, hours in ((recent, "新客户", 30), (old, "老客户", 24 * 40))])
    sched.full_pass()
    scheduled = {(r[0], r[1]): (r[2], r[3]) for r in fstore.conn.execute(
        f"SELECT record_id, kind, key, fire_at FROM {TABLE} WHERE state = 'scheduled'")}
    assert {rid for rid, _ in scheduled} == {recent}
    row = fstore.conn.execute("SELECT * FROM account WHERE id = ?", (recent,)).fetchone()
    for g in golden_reminders("account", row, [], sched.settings, clock.now()):
        assert scheduled[recent, g.kind] == (g.key, g.fire_at)
    assert scheduled[recent, "golden_warning"][1] == at(clock, hours=18)


def test_a_managers_whole_new_book_gets_its_golden_reminders(fstore: Store,
                                                             clock: FakeClock) -> None:
    """A first sync makes a whole region new at once: more records than one SQLite
    statement may name (32,766), in the full pass and in the pass over what changed."""
    import sqlite3

    from desktop.store.store import Changes

    # SQLite's own default, as in the Windows and macOS Pythons (Debian's allows 250,000)
    fstore.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
    fstore.repo("account").import_many({"name": f"客户{i:05d}", "owner": "bob"}
                                       for i in range(33_000))
    sched = make_scheduler(fstore, clock)
    sched.full_pass()
    count = f"SELECT count(*) FROM {TABLE} WHERE kind LIKE 'golden%' AND state = 'scheduled'"
    assert fstore.conn.execute(count).fetchone()[0] == 2 * 33_000
    ids = [r[0] for r in fstore.conn.execute("SELECT id FROM account LIMIT 12000")]
    fstore.conn.execute(f"DELETE FROM {TABLE} WHERE record_id IN "
                        "(SELECT value FROM json_each(?))", (json.dumps(ids),))
    changes = Changes()
    for i in ids:
        changes.add("account", i)
    assert sched.rules.on_changes(changes, clock.now())
    assert fstore.conn.execute(count).fetchone()[0] == 2 * 33_000
    assert sched.pending_for(due_before=clock.now() + dt.timedelta(days=4)) == []  # bob's
