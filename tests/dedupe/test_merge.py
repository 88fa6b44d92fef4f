"""Merging two records on one device: field choice, children, tombstone, journal, audit."""

from __future__ import annotations

import json

import pytest

from desktop.dedupe.merge import merge, survivor
from desktop.errors import NotFoundError, ValidationError
from desktop.store import Store


def test_fields_default_to_the_newer_non_empty_value(store: Store) -> None:
    acc = store.repo("account")
    keep = acc.create({"name": "腾讯", "industry": "互联网", "region": "深圳"})
    drop = acc.create({"name": "腾讯科技", "industry": "软件", "phone": "13912345678"})
    acc.update(keep["id"], {"region": "广东深圳"})  # newer than anything on drop
    result = merge(store, "account", keep["id"], drop["id"])
    kept = acc.get(keep["id"])
    # name, industry: drop's were written later; phone: keep had none; region: keep's is newer
    assert (kept["name"], kept["industry"], kept["phone"], kept["region"]) == (
        "腾讯科技", "软件", "+8613912345678", "广东深圳")
    assert set(result.taken) == {"name", "industry", "phone"}


def test_take_names_fields_from_the_dropped_record(store: Store) -> None:
    acc = store.repo("account")
    drop = acc.create({"name": "Old name", "region": "Beijing"})
    keep = acc.create({"name": "New name", "region": "Shanghai"})
    merge(store, "account", keep["id"], drop["id"], take=["region"])
    assert (acc.get(keep["id"])["name"], acc.get(keep["id"])["region"]) == ("New name", "Beijing")
    with pytest.raises(ValidationError):
        merge(store, "account", keep["id"], acc.create({"name": "x"})["id"], take=["nonsense"])


def test_children_move_and_the_dropped_record_is_a_tombstone(store: Store) -> None:
    acc = store.repo("account")
    keep, drop = acc.create({"name": "A"}), acc.create({"name": "A2"})
    d = drop["id"]
    contact = store.repo("contact").create({"name": "张伟", "account_id": d})
    deal = store.repo("deal").create({"title": "ERP", "account_id": d})
    act = store.repo("activity").create({"kind": "call", "subject": "s", "account_id": d})
    att = store.repo("attachment").create(
        {"sha256": "a" * 64, "file_name": "x.pdf", "account_id": d})
    con = store.repo("contract").create({"contract_no": "C1", "party_a_account_id": d,
                                         "party_b_account_id": d})
    before = store.journal.counts()["pending"]
    result = merge(store, "account", keep["id"], d)
    k = keep["id"]
    assert store.repo("contact").get(contact["id"])["account_id"] == k
    assert store.repo("deal").get(deal["id"])["account_id"] == k
    assert store.repo("activity").get(act["id"])["account_id"] == k
    assert store.repo("attachment").get(att["id"])["account_id"] == k
    c = store.repo("contract").get(con["id"])
    assert c["party_a_account_id"] == c["party_b_account_id"] == k
    assert result.moved == {"contact.account_id": 1, "deal.account_id": 1, "activity.account_id": 1,
                            "attachment.account_id": 1, "contract.party_a_account_id": 1,
                            "contract.party_b_account_id": 1}
    gone = acc.get(d, include_deleted=True)
    assert gone["deleted"] and gone["merged_into"] == k and survivor(store, "account", d) == k
    with pytest.raises(NotFoundError):
        acc.get(d)
    # every write is an ordinary journal entry: name, 6 children, merged_into, deleted, audit
    entries = store.journal.pending(limit=100)[before:]
    assert (len(entries) == 1 + 5 + 1 + 1 + 1
            and {e.entity for e in entries} >= {"merge_log", "contract"})
    log = store.repo("merge_log").get(result.log_id)
    assert (log["kept_id"], log["dropped_id"], log["entity"]) == (k, d, "account")
    assert json.loads(log["choices"])["name"] == {"value": "A2", "from": "dropped"}


def test_contacts_merge_and_activities_follow(store: Store) -> None:
    keep = store.repo("contact").create({"name": "张伟", "phones": ["13812345678"]})
    drop = store.repo("contact").create({"name": "张 伟", "email": "zw@example.com"})
    act = store.repo("activity").create({"kind": "call", "subject": "s", "contact_id": drop["id"]})
    merge(store, "contact", keep["id"], drop["id"])
    assert store.repo("activity").get(act["id"])["contact_id"] == keep["id"]
    assert store.repo("contact").get(keep["id"])["email"] == "zw@example.com"


def test_a_failed_merge_changes_nothing(store: Store) -> None:
    keep = store.repo("account").create({"name": "A"})
    before = store.journal.counts()["pending"]
    with pytest.raises(NotFoundError):
        merge(store, "account", keep["id"], "01a20000-0000-7000-8000-000000000001")
    with pytest.raises(ValidationError):
        merge(store, "deal", keep["id"], keep["id"])
    assert store.journal.counts()["pending"] == before


def test_pulled_writes_to_a_merged_away_record_land_on_the_survivor_and_leave_the_page_as_it_came(
        store: Store) -> None:
    import copy

    acc = store.repo("account")
    keep, drop = acc.create({"name": "华为"}), acc.create({"name": "华为技术"})
    merge(store, "account", keep["id"], drop["id"])
    stamp = "9999999999999-0000-phone"
    page = [{"entity": "account", "record_id": drop["id"],
             "fields": {"industry": {"value": "通信", "hlc": stamp}}},
            {"entity": "contact", "record_id": "c" * 8 + "-0000-4000-8000-" + "0" * 12,
             "fields": {"name": {"value": "李雷", "hlc": stamp},
                        "account_id": {"value": drop["id"], "hlc": stamp}}}]
    before = copy.deepcopy(page)
    store.apply_remote(page)
    assert acc.get(keep["id"])["industry"] == "通信"
    assert store.repo("contact").get(page[1]["record_id"])["account_id"] == keep["id"]
    # the same page applied elsewhere (another profile, a retry) must see what came
    assert page == before
