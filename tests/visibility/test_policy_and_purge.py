"""The rules themselves (desktop.visibility) and a store purging what its user may no
longer read (desktop.store.visibility), without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.store import Store
from desktop.store.visibility import (
    converge,
    held_policy,
    repull_progress,
    repull_wanted,
    unreadable_in,
)
from desktop.visibility import (
    VisibilityRuleError,
    filter_fields,
    mask_text,
    parse_rules,
    policy_for,
)

PHONE = "13812345678"
NOTE = "INTERNAL-NOTE-8842"


def test_policy_per_role_with_a_grant_that_expires() -> None:
    rules = parse_rules({"rules": [
        {"entity": "account", "field": "phone", "readable_by": ["director"], "others": "masked"},
        {"entity": "activity", "field": "body", "readable_by": ["director"],
         "grants": [{"roles": ["rep"], "until": "2026-12-08T10:00:00+08:00"}]}]})
    assert rules[1].grants[0].until == "2026-12-08T02:00:00Z"  # stored in UTC
    assert policy_for(rules, "director", "2026-12-05T00:00:00Z") == {}
    assert policy_for(rules, "rep", "2026-12-05T00:00:00Z") == {"account": {"phone": "masked"}}
    assert policy_for(rules, "rep", "2026-12-08T02:00:00Z") == {
        "account": {"phone": "masked"}, "activity": {"body": "hidden"}}
    assert policy_for(rules, "manager", "2026-12-05T00:00:00Z")["activity"] == {"body": "hidden"}


def test_masking_keeps_only_the_edges_and_empties_what_is_not_text() -> None:
    assert mask_text("13812345678") == "138****5678"
    assert mask_text("张伟") == "****"
    fields = {"name": {"value": "甲", "hlc": "s1"}, "phone": {"value": "+8613812345678",
                                                              "hlc": "s2"},
              "lifecycle": {"value": "customer", "hlc": "s3"},
              "uscc": {"value": "91440300708461136X", "hlc": "s4"}}
    out = filter_fields(fields, {"phone": "masked", "lifecycle": "masked", "uscc": "hidden"},
                        "account")
    assert out == {"name": {"value": "甲", "hlc": "s1"},
                   "phone": {"value": "+86****5678", "hlc": "s2"},
                   "lifecycle": {"value": None, "hlc": "s3"}}


@pytest.mark.parametrize("rules, reason", [
    ({"rules": [{"entity": "pipeline_rule", "field": "name", "readable_by": []}]},
     "record type 'pipeline_rule'"),
    ({"rules": [{"entity": "deal", "field": "amount", "readable_by": ["admin"]}] * 2},
     "Two rules for deal.amount"),
    ({"rules": [{"entity": "deal", "field": "amount", "readable_by": "admin"}]},
     "roles must be a list"),
    ({"rules": [{"entity": "deal", "field": "amount", "readable_by": ["admin"],
                 "grants": [{"roles": ["rep"], "until": "next week"}]}]},
     "'next week' is not a date and time"),
    ([{"entity": "deal", "field": "amount", "readable_by": ["admin"], "who": 1}],
     "unknown key 'who'"),
])
def test_bad_rules_say_why(rules: object, reason: str) -> None:
    with pytest.raises(VisibilityRuleError, match=reason):
        parse_rules(rules)


def profile_bytes_hold(profile: Path, needle: str) -> list[str]:
    return [f.name for f in profile.rglob("*") if f.is_file() and needle.encode() in f.read_bytes()]


def test_a_newly_hidden_field_leaves_no_byte_in_the_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "p")
    acc = store.repo("account").create({"name": "上海浦东发展银行", "phone": PHONE})
    act = store.repo("activity").create({"kind": "note", "subject": "投诉", "body": NOTE,
                                         "account_id": acc["id"]})
    with store.write() as w:  # a parked entry and a conflict that hold the values too
        w.conn.execute("UPDATE journal SET state = 'parked', reason = 'x' WHERE record_id = ?",
                       (act["id"],))
        w.conn.execute(
            "INSERT INTO conflicts (entity, record_id, field, local_value, local_hlc, "
            "remote_value, remote_hlc, detected_at) VALUES ('account', ?, 'phone', ?, 'a', "
            "'\"+8613800000000\"', 'b', 'now')", (acc["id"], f'"+86{PHONE}"'))
    assert [h.id for h in store.search(PHONE)] == [acc["id"]]
    store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    assert profile_bytes_hold(store.profile, PHONE) and profile_bytes_hold(store.profile, NOTE)

    purged = converge(store, {"account": {"phone": "hidden"}, "activity": {"body": "hidden"}})
    assert purged == {"account": {"phone"}, "activity": {"body"}}
    assert store.repo("account").get(acc["id"])["phone"] is None
    assert store.repo("activity").get(act["id"])["body"] is None
    assert store.repo("activity").get(act["id"])["subject"] == "投诉"
    assert store.search(PHONE) == [] and [h.id for h in store.search("浦东")] == [acc["id"]]
    entries = store.journal.pending() + store.journal.parked()
    assert entries and all("phone" not in e.fields and "body" not in e.fields for e in entries)
    assert store.open_conflicts() == []
    assert profile_bytes_hold(store.profile, PHONE) == []
    assert profile_bytes_hold(store.profile, NOTE) == []
    assert profile_bytes_hold(store.profile, "8613800000000") == []
    assert held_policy(store) == {"account": {"phone": "hidden"}, "activity": {"body": "hidden"}}
    assert unreadable_in(store.profile, "account") == {"phone": "hidden"}
    assert repull_wanted(store) is None  # nothing more to read: nothing to pull again
    # The same policy again: nothing to do. Readable again: pulled again from the start.
    assert converge(store, held_policy(store)) == {}
    converge(store, {"activity": {"body": "hidden"}})
    assert repull_wanted(store) == (["account"], 0)
    repull_progress(store, ["account"], 40)
    converge(store, {"activity": {"body": "masked"}})  # more again, elsewhere: from 0
    assert repull_wanted(store) == (["account", "activity"], 0)
    repull_progress(store, ["account"], None)  # an older pull-again: does not end this one
    assert repull_wanted(store) == (["account", "activity"], 0)
    repull_progress(store, ["account", "activity"], None)
    assert repull_wanted(store) is None
    store.close()


def test_the_first_page_of_a_pull_from_the_start_asks_for_no_pull_again(
        tmp_path: Path) -> None:
    store = Store.open(tmp_path / "p")
    rid = "0190f5a8-0000-7000-8000-000000000001"
    page = [{"entity": "account", "record_id": rid, "fields": {
        "name": {"value": "甲", "hlc": "1790000000000-0000-srv"},
        "phone": {"value": "+86****5678", "hlc": "1790000000000-0000-srv"}}}]
    store.apply_remote(page, 10, {"account": {"phone": "masked"}})
    assert held_policy(store) == {"account": {"phone": "masked"}}
    assert repull_wanted(store) is None  # every record comes in this pull anyway
    assert store.repo("account").get(rid)["phone"] == "+86****5678"
    # Once records were pulled, a policy that lets the user read more pulls them again.
    store.apply_remote([], 11, {"account": {"phone": "hidden"}})
    store.apply_remote([], 12, {})
    assert repull_wanted(store) == (["account"], 0)
    store.close()
