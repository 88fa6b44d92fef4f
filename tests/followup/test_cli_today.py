"""`fieldcrm reminders --json` and the Today view data."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import pytest

from desktop.followup.cli_commands import add_subcommands
from desktop.followup.clock import FakeClock
from desktop.followup.today import today_data, tooltip
from desktop.store import Store
from tests.followup.conftest import at, make_scheduler


def test_reminders_json_lists_what_is_pending_and_why(
        fstore: Store, clock: FakeClock, profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fstore.repo("activity").create({"kind": "task", "subject": "Call back 王总",
                                    "due_at": (now + dt.timedelta(hours=2)).isoformat()})
    fstore.repo("activity").create({"kind": "task", "subject": "Later",
                                    "due_at": (now + dt.timedelta(hours=30)).isoformat()})
    fstore.close()
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(["reminders", "--due-before",
                              (now + dt.timedelta(hours=3)).isoformat(), "--json"])
    args.profile = profile
    assert args.func(args) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["why"] == "Task due: Call back 王总"
    assert item["recipient"] == "alice" and item["state"] == "scheduled"
    args = parser.parse_args(["reminders", "--due-before", "tomorrow"])
    args.profile = profile
    with pytest.raises(Exception, match="is not a date and time"):
        args.func(args)


def test_today_agenda_counts_and_heat_map(fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock)
    acts = fstore.repo("activity")
    acts.create({"kind": "task", "subject": "Overdue 1", "due_at": at(clock, hours=-26)})
    acts.create({"kind": "task", "subject": "Overdue 2", "due_at": at(clock, hours=-1)})
    acts.create({"kind": "task", "subject": "Later today", "due_at": at(clock, hours=5)})
    acts.create({"kind": "task", "subject": "Tomorrow", "due_at": at(clock, hours=20)})
    acts.create({"kind": "task", "subject": "Bob's", "due_at": at(clock, hours=1), "owner": "bob"})
    acts.create({"kind": "task", "subject": "Done late", "due_at": at(clock, hours=-3),
                 "done_at": at(clock, hours=-2)})
    fstore.repo("deal").create({"title": "Stuck deal", "stage": "proposal",
                                "stage_changed_at": at(clock, days=-11)})
    sched.full_pass()
    data = today_data(sched)
    assert [i.title for i in data.overdue] == ["Overdue 1", "Overdue 2"]
    assert [i.title for i in data.due_today] == ["Later today"]
    assert data.due_today[0].due_local == "14:00"  # 06:00Z in Shanghai
    assert [p.title for p in data.stalled] == ["Stuck deal"]
    assert data.counts == {"overdue": 2, "due_today": 1, "warnings": 0, "stalled": 1}
    assert tooltip(data.counts) == ("FieldCRM: 2 overdue, 1 due today, 0 follow-up warnings, "
                                    "1 stalled deals")
    # Heat map: local days x hours; "Overdue 2" was due 08:00 today, "Done late" 06:00.
    assert data.heat_days[-1] == "2026-06-10"
    assert data.heatmap[6][8] == 1 and data.heatmap[6][6] == 1 and data.heatmap[5][7] == 1
    assert sum(map(sum, data.heatmap)) == 3


def test_the_agenda_shows_my_tasks_behind_a_teams_thousands_of_overdue_ones(
        fstore: Store, clock: FakeClock) -> None:
    """A manager's book holds every rep's tasks: the ones reps never closed, older than
    any of the manager's own, must not push the manager's tasks out of the agenda."""
    sched = make_scheduler(fstore, clock)
    acts = fstore.repo("activity")
    acts.import_many([{"kind": "task", "subject": f"Bob's old {i}", "owner": "bob",
                       "due_at": at(clock, days=-40, minutes=i)} for i in range(1500)])
    acts.create({"kind": "task", "subject": "回访王总", "due_at": at(clock, hours=-1)})
    acts.create({"kind": "task", "subject": "Later today", "due_at": at(clock, hours=5)})
    acts.create({"kind": "task", "subject": "Nobody's", "owner": "",
                 "due_at": at(clock, days=-50)})
    data = today_data(sched)
    assert [i.title for i in data.overdue] == ["Nobody's", "回访王总"]
    assert [i.title for i in data.due_today] == ["Later today"]


def test_hundreds_of_my_overdue_tasks_never_hide_the_ones_due_today(
        fstore: Store, clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock)
    acts = fstore.repo("activity")
    acts.import_many([{"kind": "task", "subject": f"Old {i}",
                       "due_at": at(clock, days=-90, minutes=i)} for i in range(1300)])
    acts.create({"kind": "task", "subject": "下午拜访客户", "due_at": at(clock, hours=4)})
    data = today_data(sched)
    assert [i.title for i in data.due_today] == ["下午拜访客户"]
    assert len(data.overdue) == 300 and data.overdue[0].title == "Old 0"
