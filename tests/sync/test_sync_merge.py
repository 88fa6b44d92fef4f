"""Merging duplicates across devices, against the real server (SQLite and PostgreSQL):
one device merges while another edits the dropped record offline; every replica ends on
the survivor with no child left pointing at the merged-away record."""

from __future__ import annotations

import time
from typing import Any

from desktop.dedupe.merge import merge
from desktop.dedupe.pairs import dismiss, open_pairs
from desktop.dedupe.service import scan
from tests.sync.conftest import Device, Server, snapshot

ENTITIES = ("account", "contact", "deal", "activity", "merge_log")


def no_orphans(d: Device) -> None:
    """Every live child refers to a live account (or contact)."""
    for child, field, parent in (("contact", "account_id", "account"),
                                 ("deal", "account_id", "account"),
                                 ("activity", "account_id", "account"),
                                 ("activity", "contact_id", "contact")):
        bad = d.store.conn.execute(
            f'SELECT c.id FROM "{child}" c JOIN "{parent}" p ON p.id = c."{field}" '
            "WHERE c.deleted = 0 AND p.deleted = 1").fetchall()
        assert bad == [], f"{child}.{field} points at a merged-away {parent}"


def settle(*devs: Device) -> None:
    for _ in range(2):
        for d in devs:
            d.sync()


def test_offline_edits_and_children_of_the_merged_away_record_land_on_the_survivor(
        server: Server, devices: Any) -> None:
    server.user("alice")
    a, b = devices("a"), devices("b")
    a.login("alice")
    b.login("alice")
    keep = a.repo("account").create({"name": "深圳市腾讯计算机系统有限公司"})
    drop = a.repo("account").create(
        {"name": "腾讯计算机系统（深圳）有限公司", "industry": "互联网"})
    contact = a.repo("contact").create({"name": "张伟", "account_id": drop["id"]})
    a.sync()
    b.sync()
    # a merges; b, offline and unaware, edits the dropped record and adds to it
    merge(a.store, "account", keep["id"], drop["id"])
    time.sleep(0.005)
    b.repo("account").update(drop["id"], {"address": "南山区科技园", "industry": "软件"})
    deal = b.repo("deal").create({"title": "年度采购", "account_id": drop["id"]})
    act = b.repo("activity").create({"kind": "call", "subject": "回访", "account_id": drop["id"],
                                     "contact_id": contact["id"]})
    a.sync()
    b.sync()  # pushes onto a record merged away: the server redirects
    settle(a, b)
    sa_, sb = snapshot(a.store, ENTITIES), snapshot(b.store, ENTITIES)
    assert sa_ == sb
    for d in (a, b):
        survivor = d.repo("account").get(keep["id"])
        assert (survivor["address"], survivor["industry"]) == ("南山区科技园", "软件")
        assert d.repo("account").get(drop["id"], include_deleted=True)["merged_into"] == keep["id"]
        assert d.repo("deal").get(deal["id"])["account_id"] == keep["id"]
        assert d.repo("activity").get(act["id"])["account_id"] == keep["id"]
        assert d.repo("contact").get(contact["id"])["account_id"] == keep["id"]
        no_orphans(d)
        assert d.store.journal.counts() == {"pending": 0, "parked": 0}


def test_an_edit_that_reached_the_server_before_the_merge_is_carried_over(
        server: Server, devices: Any) -> None:
    server.user("alice")
    a, b, c = devices("a"), devices("b"), devices("c")
    for d in (a, b, c):
        d.login("alice")
    keep = a.repo("account").create({"name": "Acme Technologies Co., Ltd."})
    drop = a.repo("account").create({"name": "ACME Technologies Ltd"})
    a.sync()
    b.sync()
    b.repo("account").update(drop["id"], {"address": "1 Harbor Road"})
    b.repo("deal").create({"title": "Fleet renewal", "account_id": drop["id"]})
    b.sync()  # on the server before the merge arrives
    merge(a.store, "account", keep["id"], drop["id"])  # a has not pulled b's edit
    a.sync()  # pushes the merge, pulls b's edit: follows the merge and journals it
    settle(a, b, c)
    snaps = [snapshot(d.store, ENTITIES) for d in (a, b, c)]
    assert snaps[0] == snaps[1] == snaps[2]
    for d in (a, b, c):
        assert d.repo("account").get(keep["id"])["address"] == "1 Harbor Road"
        [deal] = d.repo("deal").find()
        assert deal["account_id"] == keep["id"]
        no_orphans(d)


def test_two_devices_offline_make_the_same_customer_and_both_list_the_pair(
        server: Server, devices: Any) -> None:
    server.user("alice", teams=("south",))
    server.user("bob", teams=("south",))
    a, b = devices("a"), devices("b")
    a.login("alice")
    b.login("bob")
    x = a.repo("account").create({"name": "杭州市海天食品有限公司"})
    y = b.repo("account").create({"name": "海天食品（杭州）有限公司", "phone": "13912345678"})
    settle(a, b)
    server.user("carol", role="manager", teams=("south",))
    m = devices("m")
    m.login("carol")
    m.sync()
    for d in (a, b, m):
        pairs = scan(d.store, "account").pairs
        assert [(p.a, p.b, p.reasons) for p in pairs] == [(x["id"], y["id"], ("name",))]
        # found after the pull, without a scan: the "Possible duplicates" list
        assert [(p.a, p.b) for p in open_pairs(d.store)] == [(x["id"], y["id"])]
    dismiss(m.store, "account", y["id"], x["id"])
    assert open_pairs(m.store) == []
    m.repo("account").update(y["id"], {"industry": "食品"})
    m.sync()
    assert open_pairs(m.store) == []  # checked again, still dismissed
