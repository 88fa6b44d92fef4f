"""What counts as a valid follow-up is the admin's synced rule (desktop.followup.rule):
the reminders, the agenda's settings and the reports all read it, personal settings keep
what is personal, and the CLI sets it through the same service."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.errors import ValidationError
from desktop.followup import rule as rules
from desktop.followup.clock import FakeClock
from desktop.followup.service import apply_settings, scheduler_for
from desktop.followup.settings import (
    DEFAULT_CRITERIA,
    SETTINGS_KEY,
    Criterion,
    FollowupSettings,
    load_settings,
)
from desktop.store import Store
from tests.followup.conftest import at, open_store

SHORT_CALL = [{"name": "call_30s", "kind": "call", "min_duration_s": 30},
              {"name": "demo", "outcomes": ["demo", "演示"]}]


def _stamp(clock: FakeClock, n: int = 0) -> str:
    ms = int(clock.now().timestamp() * 1000)
    return f"{ms:013d}-{n:04d}-0190f1a2-b3c4-7d5e-8f90-admindevice0"


def pulled_rule(store: Store, clock: FakeClock,
                record_id: str = "0190f1a2-0000-7000-8000-r00000000001",
                stamp: str | None = None, **values: Any) -> None:
    """The admin's rule as a pull brings it (stamped now, or `stamp`)."""
    clock.advance(seconds=1)
    fields = {"criteria": json.dumps(SHORT_CALL), "required_criteria": 1, "golden_hours": 24.0,
              "warn_hours": 12.0, "active": True, **values}
    store.apply_remote([{"entity": "followup_rule", "record_id": record_id, "fields": {
        k: {"value": v, "hlc": stamp or _stamp(clock)} for k, v in fields.items()}}])


def test_without_a_rule_the_built_in_one_counts(fstore: Store) -> None:
    got = rules.current_rule(fstore)
    assert got.id is None and got.criteria == DEFAULT_CRITERIA
    assert (got.required_criteria, got.golden_warn_hours, got.golden_overdue_hours) == (2, 48, 72)
    assert load_settings(fstore) == FollowupSettings()


def test_reminders_follow_the_rule_the_admin_synced(fstore: Store, clock: FakeClock) -> None:
    sched = scheduler_for(fstore, clock)
    acc = fstore.repo("account").create({"name": "美团"})["id"]
    fstore.repo("activity").create({"subject": "电话", "account_id": acc, "kind": "call",
                                    "duration_s": 40})
    clock.advance(hours=12)
    assert sched.tick() == []
    pulled_rule(fstore, clock)  # a 30-second call is enough now, and the window is 24 h
    assert sched.settings.required_criteria == 1
    assert sched.settings.golden_overdue_hours == 24
    other = fstore.repo("account").create({"name": "京东"})["id"]
    clock.advance(hours=12)
    (warn,) = sched.tick()  # 美团 is followed up; 京东 warned at 12 h
    assert warn.record_id == other and warn.title == "No follow-up yet (12 h): 京东"
    clock.advance(hours=12)
    (over,) = sched.tick()
    assert over.title == "Follow-up overdue (24 h): 京东"
    # the admin turns the rule off: the built-in rule again (72 h, two criteria)
    pulled_rule(fstore, clock, active=False)
    assert sched.settings.golden_overdue_hours == 72 and sched.settings.required_criteria == 2


def test_personal_settings_stay_local_and_the_rule_wins(fstore: Store, clock: FakeClock) -> None:
    # a store from before m020 kept its own criteria: no longer read
    old = FollowupSettings(criteria=(Criterion("any_call", kind="call"),), required_criteria=1,
                           golden_warn_hours=10, golden_overdue_hours=20, quiet_start="21:00")
    fstore.meta_set(SETTINGS_KEY, old.to_json())
    got = load_settings(fstore)
    assert got.quiet_start == "21:00"
    assert (got.criteria, got.required_criteria, got.golden_overdue_hours) == (
        DEFAULT_CRITERIA, 2, 72)
    pulled_rule(fstore, clock)
    saved = apply_settings(fstore, FollowupSettings(quiet_start="23:00", required_criteria=2,
                                                    time_zone="Asia/Shanghai"))
    assert (saved.quiet_start, saved.required_criteria, saved.golden_overdue_hours) == (
        "23:00", 1, 24)
    assert "criteria" not in json.loads(fstore.meta_get(SETTINGS_KEY) or "{}")


def test_set_rule_refuses_nonsense_and_writes_one_record(fstore: Store) -> None:
    with pytest.raises(ValidationError, match="1 to 2 kinds"):
        rules.set_rule(fstore, criteria=SHORT_CALL, required_criteria=3)
    with pytest.raises(ValidationError, match="asks for nothing"):
        rules.set_rule(fstore, criteria=[{"name": "anything"}])
    with pytest.raises(ValidationError, match="not one of"):
        rules.set_rule(fstore, criteria=[{"name": "x", "kind": "fax"}])
    with pytest.raises(ValidationError, match="warning must come before"):
        rules.set_rule(fstore, golden_overdue_hours=24, golden_warn_hours=30)
    assert fstore.repo("followup_rule").find() == []
    first = rules.set_rule(fstore, criteria=SHORT_CALL, required_criteria=1)
    second = rules.set_rule(fstore, golden_overdue_hours=36)
    assert first.id == second.id and len(fstore.repo("followup_rule").find()) == 1
    assert (second.required_criteria, second.golden_overdue_hours, second.golden_warn_hours) == (
        1, 36, 24)
    assert [c.name for c in second.criteria] == ["call_30s", "demo"]
    entry = fstore.journal.pending(limit=100)[-1]
    assert entry.entity == "followup_rule"  # synced like any record


def test_a_malformed_rule_is_read_leniently(fstore: Store, clock: FakeClock) -> None:
    # (the shape, a list of named objects, is checked on every write: desktop.schema)
    pulled_rule(fstore, clock, criteria=json.dumps(
        [{"name": "ok", "kind": "visit"}, {"name": "fax", "kind": "fax"}, {"name": "all"},
         {"name": "ok", "kind": "call"}]), required_criteria=9, golden_hours=-1.0)
    got = rules.current_rule(fstore)
    assert got.criteria == (Criterion("ok", kind="visit"),)
    assert (got.required_criteria, got.golden_overdue_hours) == (1, 72)
    with fstore.write() as w:  # as an older or newer app might have left it
        w.conn.execute("UPDATE followup_rule SET criteria = '{not json'")
    assert rules.current_rule(fstore).criteria == DEFAULT_CRITERIA


def test_of_two_active_rules_the_newest_stamp_wins_everywhere(tmp_path: Path,
                                                              clock: FakeClock) -> None:
    # two admins offline: every replica chooses the same, whatever order they arrived in
    chosen = []
    for order in ((1, 2), (2, 1)):
        store = open_store(tmp_path / f"p{order[0]}", clock)
        try:
            for n in order:  # rule 2 was written later than rule 1
                pulled_rule(store, clock, record_id=f"0190f1a2-0000-7000-8000-r0000000000{n}",
                            stamp=f"{1781053200000 + n:013d}-0000-0190f1a2-b3c4-7d5e-8f90-adm",
                            required_criteria=n)
            chosen.append(rules.current_rule(store).required_criteria)
        finally:
            store.close()
    assert chosen == [2, 2]


def _cli(profile: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    from desktop.followup.cli_commands import add_subcommands

    parser = argparse.ArgumentParser(prog="fieldcrm")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.profile = profile
    assert args.func(args) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_cli_shows_and_sets_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "cli"
    shown = _cli(profile, ["followup-rule", "show", "--json"], capsys)
    assert shown["builtin"] and shown["required_criteria"] == 2
    file = tmp_path / "criteria.json"
    file.write_text(json.dumps(SHORT_CALL, ensure_ascii=False), encoding="utf-8")
    got = _cli(profile, ["followup-rule", "set", "--criteria", f"@{file}", "--required", "1",
                         "--golden-hours", "48", "--name", "华东区", "--json"], capsys)
    assert not got["builtin"] and got["name"] == "华东区"
    assert [c["name"] for c in got["criteria"]] == ["call_30s", "demo"]
    assert (got["golden_overdue_hours"], got["golden_warn_hours"]) == (48, 32)
    assert _cli(profile, ["followup-rule", "show", "--json"], capsys) == got
    off = _cli(profile, ["followup-rule", "set", "--off", "--json"], capsys)
    assert off["builtin"]
    with Store.open(profile) as store:
        assert load_settings(store).required_criteria == 2
    on = _cli(profile, ["followup-rule", "set", "--required", "2", "--json"], capsys)
    assert on["id"] == got["id"] and on["required_criteria"] == 2  # the same record again


def test_reports_count_by_the_rule(fstore: Store, clock: FakeClock) -> None:
    import datetime as dt

    from desktop.reports import ReportFilter, run

    acc = fstore.repo("account").create({"name": "小米"})["id"]
    fstore.repo("activity").create({"subject": "电话", "account_id": acc, "kind": "call",
                                    "duration_s": 40, "done_at": at(clock, hours=1)})
    day = clock.now().date()
    f = ReportFilter(day - dt.timedelta(days=7), day + dt.timedelta(days=1))
    assert run(fstore, "golden-72", f).totals["met"] == 0
    assert run(fstore, "activities", f).totals["follow_ups"] == 0
    pulled_rule(fstore, clock)
    assert run(fstore, "golden-72", f).totals["met"] == 1
    assert run(fstore, "activities", f).totals["follow_ups"] == 1


def test_criteria_that_are_not_a_list_of_named_objects_are_refused_on_write(
        fstore: Store) -> None:
    # the check the server's push runs too (desktop.schema.validate_value)
    from desktop.schema import ENTITIES, validate_value

    for bad in ("{not json", '{"name": "x"}', '[{"kind": "call"}]', '["call"]'):
        with pytest.raises(ValidationError, match="JSON list of objects"):
            validate_value(ENTITIES["followup_rule"], "criteria", bad)
        with pytest.raises(ValidationError):
            fstore.repo("followup_rule").create({"criteria": bad, "active": True})
    assert validate_value(ENTITIES["followup_rule"], "criteria", json.dumps(SHORT_CALL))
