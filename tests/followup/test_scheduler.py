"""Delivery rules with an injected clock: once, quiet hours, sleep, zones, DST, snooze,
ownership."""

from __future__ import annotations

import datetime as dt

from desktop.followup.clock import FakeClock
from desktop.followup.reminders import TABLE
from desktop.store import Store
from tests.followup.conftest import at, make_scheduler


def task(store: Store, subject: str, due_at: str, **extra: object) -> str:
    return str(store.repo("activity").create(
        {"kind": "task", "subject": subject, "due_at": due_at, **extra})["id"])


def state(store: Store, record_id: str) -> list[str]:
    return [r[0] for r in store.conn.execute(
        f"SELECT state FROM {TABLE} WHERE record_id = ? ORDER BY fire_at", (record_id,))]


def test_due_reminder_fires_once_at_its_lead_time(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=15)
    tid = task(fstore, "Call Tencent about the renewal", at(clock, minutes=30))
    assert sched.tick() == []
    clock.advance(minutes=14, seconds=59)
    assert sched.tick() == []
    clock.advance(seconds=1)
    notices = sched.tick()
    assert [n.title for n in notices] == ["Task due: Call Tencent about the renewal"]
    assert notices[0].record_id == tid and not notices[0].grouped
    assert notices[0].body == "2026-06-10 09:30"  # shown in the rep's zone (Shanghai)
    for _ in range(3):
        clock.advance(minutes=1)
        assert sched.tick() == []
    assert state(fstore, tid) == ["delivered"]


def test_quiet_hours_hold_all_but_urgent(fstore: Store, clock: FakeClock) -> None:
    clock.instant = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)  # 20:00 in Shanghai
    # Warning at 22:00 and overdue (urgent) at 23:00, two days later.
    sched = make_scheduler(fstore, clock, task_lead_minutes=0, golden_warn_hours=50,
                           golden_overdue_hours=51)
    fstore.repo("account").create({"name": "华为"})
    normal = task(fstore, "Send brochure", at(clock, hours=49))  # 21:00, not in quiet hours
    clock.advance(hours=48, minutes=59)  # 20:59
    sched.full_pass()
    assert sched.tick() == []
    clock.advance(minutes=66)  # 22:05: the laptop slept through 21:00
    assert sched.tick() == []  # the missed task and the 22:00 warning are held
    assert state(fstore, normal) == ["scheduled"]
    clock.advance(minutes=55)  # 23:00
    (urgent,) = sched.tick()
    assert urgent.kinds == ("golden_overdue",) and urgent.urgent and not urgent.grouped
    clock.instant = dt.datetime(2026, 6, 12, 22, 59, tzinfo=dt.UTC)  # 06:59
    assert sched.tick() == []
    clock.advance(minutes=1)  # 07:00: the held ones arrive together, once
    (held,) = sched.tick()
    assert held.grouped and held.title == "2 reminders held during quiet hours"
    assert held.kinds == ("golden_warning", "task_due")
    assert state(fstore, normal) == ["delivered"]
    clock.advance(minutes=1)
    assert sched.tick() == []


def test_task_set_inside_quiet_hours_is_delivered_then(fstore: Store, clock: FakeClock) -> None:
    clock.instant = dt.datetime(2026, 6, 10, 14, 50, tzinfo=dt.UTC)  # 22:50 local
    sched = make_scheduler(fstore, clock, task_lead_minutes=10)
    task(fstore, "Call the client's night shift", at(clock, minutes=20))  # due 23:10
    sched.tick()
    clock.advance(minutes=10)
    assert [n.title for n in sched.tick()] == ["Task due: Call the client's night shift"]


def test_ten_hour_sleep_delivers_missed_once_grouped(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    ids = [task(fstore, f"Visit {i}", at(clock, hours=1 + i)) for i in range(6)]
    assert sched.tick() == []
    clock.advance(hours=10)  # the laptop slept
    notices = sched.tick()
    assert len(notices) == 1
    group = notices[0]
    assert group.grouped and set(group.keys) == {
        f"task:{i}:" + fstore.repo("activity").get(i)["due_at"] for i in ids}
    assert group.title == "6 reminders while you were away"
    assert group.body.splitlines()[-1] == "and 3 more"
    clock.advance(minutes=1)
    assert sched.tick() == []
    clock.advance(hours=10)
    assert sched.tick() == []


def test_app_closed_then_started_delivers_missed_once(fstore: Store, clock: FakeClock,
                                                      profile: object) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    task(fstore, "A", at(clock, hours=1))
    task(fstore, "B", at(clock, hours=2))
    sched.tick()
    clock.advance(hours=5)
    from desktop.followup.scheduler import Scheduler  # a new process: new scheduler object
    again = Scheduler(fstore, clock, sched.settings)
    notices = again.tick()
    assert len(notices) == 1 and notices[0].grouped and len(notices[0].keys) == 2
    assert again.tick() == []


def test_zone_change_moves_wall_clock_rules_not_due_times(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    due = "2026-06-10T03:00:00Z"  # 11:00 Shanghai, 23:00 New York the day before
    task(fstore, "Quarterly review", due)
    sched.tick()
    clock.set_zone("America/New_York")  # the rep flew to New York
    clock.instant = dt.datetime(2026, 6, 10, 2, 59, tzinfo=dt.UTC)
    assert sched.tick() == []
    clock.instant = dt.datetime(2026, 6, 10, 3, 0, tzinfo=dt.UTC)
    notices = sched.tick()
    # The due instant did not move; it is shown in the new zone; and since 23:00 is now
    # inside quiet hours where the rep is, it counts as urgent (the rep chose that time).
    assert [n.body for n in notices] == ["2026-06-09 23:00"]
    acc = fstore.repo("account").create({"name": "Acme"})
    clock.advance(hours=48)  # 23:00 NY: quiet there, while 11:00 in Shanghai would not be
    sched.full_pass()
    assert sched.tick() == []
    assert sched.due_now()[0].record_id == acc["id"]
    clock.set_zone("Asia/Shanghai")
    assert [n.kinds for n in sched.tick()] == [("golden_warning",)]


def test_dst_change_keeps_instants_and_ends_quiet_hours_at_local_seven(
        fstore: Store, clock: FakeClock) -> None:
    clock.set_zone("Europe/Berlin")
    # 2026-03-29: 02:00 CET becomes 03:00 CEST; 07:00 local is 05:00 UTC that morning.
    clock.instant = dt.datetime(2026, 3, 26, 22, 30, tzinfo=dt.UTC)  # 23:30 CET, Thursday
    sched = make_scheduler(fstore, clock, task_lead_minutes=15)
    fstore.repo("account").create({"name": "Siemens"})
    task(fstore, "Morning call", "2026-03-29T08:00:00Z")  # 10:00 CEST
    sched.tick()
    clock.instant = dt.datetime(2026, 3, 29, 4, 59, tzinfo=dt.UTC)  # 06:59 CEST: still quiet
    sched.full_pass()
    assert sched.tick() == []  # the 48 h warning (Saturday night) is held
    clock.instant = dt.datetime(2026, 3, 29, 5, 0, tzinfo=dt.UTC)  # 07:00 CEST
    assert [n.kinds for n in sched.tick()] == [("golden_warning",)]
    clock.instant = dt.datetime(2026, 3, 29, 7, 44, tzinfo=dt.UTC)
    assert sched.tick() == []
    clock.instant = dt.datetime(2026, 3, 29, 7, 45, tzinfo=dt.UTC)  # 09:45 CEST, not 08:45
    assert [n.body for n in sched.tick()] == ["2026-03-29 10:00"]


def test_snooze_delivers_again_once_after_the_snooze(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    tid = task(fstore, "Follow up quote", at(clock, minutes=1))
    sched.tick()
    clock.advance(minutes=1)
    (n,) = sched.tick()
    sched.snooze(n.keys[0], minutes=30)
    assert state(fstore, tid) == ["snoozed"]
    clock.advance(minutes=29)
    assert sched.tick() == []
    clock.advance(minutes=1)
    assert [x.keys for x in sched.tick()] == [n.keys]
    assert sched.tick() == []
    assert state(fstore, tid) == ["delivered"]


def test_mark_done_completes_the_task_and_nothing_fires_again(fstore: Store,
                                                              clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    tid = task(fstore, "Sign NDA", at(clock, minutes=1))
    sched.tick()
    clock.advance(minutes=1)
    (n,) = sched.tick()
    sched.mark_done(n.keys[0])
    assert fstore.repo("activity").get(tid)["done_at"]
    assert state(fstore, tid) == ["acted"]
    sched.snooze(n.keys[0], 1)  # even a stale snooze on a done task never fires
    clock.advance(minutes=5)
    assert sched.tick() == []


def test_task_done_elsewhere_cancels_the_pending_reminder(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    tid = task(fstore, "Send contract", at(clock, hours=2))
    sched.tick()
    fstore.repo("activity").update(tid, {"done_at": at(clock)})
    assert state(fstore, tid) == ["obsolete"]
    clock.advance(hours=3)
    assert sched.tick() == []


def test_rescheduled_task_fires_at_the_new_time_only(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    tid = task(fstore, "Demo", at(clock, hours=1))
    sched.tick()
    fstore.repo("activity").update(tid, {"due_at": at(clock, hours=3)})
    clock.advance(hours=1, minutes=1)
    assert sched.tick() == []
    clock.advance(hours=2)
    assert len(sched.tick()) == 1


def test_ownership_change_moves_pending_reminders(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock, task_lead_minutes=0)
    tid = task(fstore, "Hand-over call", at(clock, hours=1))
    acc = fstore.repo("account").create({"name": "字节跳动"})["id"]
    sched.tick()
    fstore.repo("activity").update(tid, {"owner": "bob"})
    # ...and the account is reassigned by a manager, arriving through sync.
    owner_stamp = "9999999999999-0000-server"
    fstore.apply_remote([{"entity": "account", "record_id": acc,
                          "fields": {"owner": {"value": "bob", "hlc": owner_stamp}}}])
    clock.advance(hours=49)
    sched.full_pass()
    assert sched.tick() == []  # nothing for alice
    bobs = sched.pending_for("bob", due_before=clock.now())
    assert {p.owner for p in bobs} == {"bob"}
    assert {p.kind for p in bobs} == {"task_due", "golden_warning"}
    assert sched.pending_for("alice") == []
    assert sched.pending_for(due_before=clock.now()) == []  # alice's own: none left
    fstore.set_user("bob")  # bob's laptop: the same reminders reach him, once
    assert {p.owner for p in sched.pending_for(due_before=clock.now())} == {"bob"}
    notices = sched.tick()
    assert sorted(k for n in notices for k in n.kinds) == ["golden_warning", "task_due"]
    assert sched.tick() == []


def test_bulk_pass_and_per_record_rules_agree(fstore: Store, clock: FakeClock) -> None:
    """The full pass computes tasks and stalled deals in SQL, edits in Python: an edit
    right after a full pass must find exactly the reminders the pass made."""
    from desktop.followup.reminders import stalled_reminder, task_reminder

    clock.instant = dt.datetime.now(dt.UTC)  # a deal without stage time falls back to created_at
    sched = make_scheduler(fstore, clock, task_lead_minutes=25, stalled_days={"proposal": 1.25})
    t = task(fstore, "Lead-time check", at(clock, hours=3, minutes=7))
    d1 = fstore.repo("deal").create({"title": "Old", "stage": "proposal",
                                     "stage_changed_at": at(clock, days=-9)})["id"]
    d2 = fstore.repo("deal").create({"title": "No stage time", "stage": "proposal"})["id"]
    fstore.conn.execute(f"DELETE FROM {TABLE}")
    sched.full_pass()
    rows = {(r[0], r[1]): (r[2], r[3]) for r in fstore.conn.execute(
        f"SELECT record_id, kind, key, fire_at FROM {TABLE} WHERE state = 'scheduled'")}
    conn = fstore.conn
    act = conn.execute("SELECT * FROM activity WHERE id = ?", (t,)).fetchone()
    r = task_reminder(act, sched.settings)
    assert r is not None and rows[t, "task_due"] == (r.key, r.fire_at)
    assert r.fire_at == at(clock, hours=2, minutes=42)
    for d in (d1, d2):
        row = conn.execute("SELECT * FROM deal WHERE id = ?", (d,)).fetchone()
        s = stalled_reminder(row, sched.settings)
        assert s is not None and rows[d, "stalled"] == (s.key, s.fire_at), d
    acc = fstore.repo("account").create({"name": "Golden"})["id"]
    fstore.conn.execute(f"DELETE FROM {TABLE}")
    sched.full_pass()
    rows = {(r[0], r[1]): (r[2], r[3]) for r in fstore.conn.execute(
        f"SELECT record_id, kind, key, fire_at FROM {TABLE} WHERE state = 'scheduled'")}
    from desktop.followup.reminders import golden_reminders

    for ent, rid in (("account", acc), ("deal", d1)):
        row = conn.execute(f"SELECT * FROM {ent} WHERE id = ?", (rid,)).fetchone()
        for g in golden_reminders(ent, row, [], sched.settings, clock.now()):
            assert rows[rid, g.kind] == (g.key, g.fire_at)
    assert rows[acc, "golden_overdue"][1] == at(clock, hours=72)  # 72 h after creation
    before = conn.total_changes
    snapshot = conn.execute(f"SELECT * FROM {TABLE} ORDER BY key").fetchall()
    sched.rules.recompute({"activity": {t}, "deal": {d1, d2}, "account": {acc}}, clock.now())
    after = conn.execute(f"SELECT * FROM {TABLE} ORDER BY key").fetchall()
    assert [tuple(x) for x in after] == [tuple(x) for x in snapshot]
    assert conn.total_changes == before  # nothing new, nothing obsolete


def test_reminder_bookkeeping_leaves_user_edits_durable(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock)
    full = fstore.conn.execute("PRAGMA synchronous").fetchone()[0]
    task(fstore, "Durable", at(clock, hours=1))  # the edit, then the derived write it causes
    sched.full_pass()
    assert fstore.conn.execute("PRAGMA synchronous").fetchone()[0] == full == 2  # FULL
