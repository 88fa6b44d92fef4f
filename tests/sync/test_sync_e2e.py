"""End to end against the real server (SQLite and PostgreSQL): two and three devices
editing the same records online and offline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from desktop.errors import AuthError
from desktop.sync.errors import OfflineError
from tests.sync.conftest import Server, snapshot


def test_two_devices_same_user_converge_and_conflicts_are_recorded(
    server: Server, devices: Any
) -> None:
    server.user("alice")
    a, b = devices("a"), devices("b")
    a.login("alice")
    b.login("alice")
    acc = a.repo("account").create({"name": "华信科技", "industry": "软件"})
    assert a.sync().pushed == 1
    b.sync()
    assert b.repo("account").get(acc["id"])["name"] == "华信科技"
    assert b.repo("account").get(acc["id"])["owner"] == "alice"

    # Both edit offline: different fields merge; the same field is a conflict, recorded
    # on the device whose concurrent value lost (a wrote first, b later: b's value wins).
    a.repo("account").update(acc["id"], {"industry": "互联网", "region": "北京"})
    time.sleep(0.005)
    b.repo("account").update(acc["id"], {"industry": "制造业", "address": "朝阳区科技园路1号"})
    assert b.sync().conflicts == 0
    rep = a.sync()  # a's write is superseded on push; the pull brings the winner
    assert rep.conflicts == 1
    b.sync()
    ra, rb = a.repo("account").get(acc["id"]), b.repo("account").get(acc["id"])
    assert ra == {**rb, "created_at": ra["created_at"], "updated_at": ra["updated_at"]}
    assert ra["region"] == "北京" and ra["address"] == "朝阳区科技园路1号"
    assert b.store.open_conflicts() == []
    [c] = a.store.open_conflicts()
    assert (c.field, c.local_value, c.remote_value) == ("industry", "互联网", "制造业")
    assert ra["industry"] == "制造业"


def test_keep_mine_becomes_a_new_edit_that_wins_everywhere(server: Server, devices: Any) -> None:
    server.user("alice")
    a, b = devices("a"), devices("b")
    a.login("alice")
    b.login("alice")
    acc = a.repo("account").create({"name": "鼎盛实业"})
    a.sync()
    b.sync()
    b.repo("account").update(acc["id"], {"industry": "B"})
    time.sleep(0.005)  # a later millisecond: the stamps order the two writes
    a.repo("account").update(acc["id"], {"industry": "A"})  # later stamp: wins
    a.sync()
    b.sync()
    [c] = b.store.open_conflicts()
    assert (c.local_value, c.remote_value) == ("B", "A")
    b.store.resolve_conflict(c.id, "mine")
    b.sync()
    a.sync()
    assert a.repo("account").get(acc["id"])["industry"] == "B"
    assert b.repo("account").get(acc["id"])["industry"] == "B"
    assert b.store.open_conflicts() == []


def test_an_edit_pushed_first_then_overwritten_blind_is_a_conflict_on_its_device(
        server: Server, devices: Any) -> None:
    """The earlier writer pushes first and a concurrent later edit then wins on the
    server: the earlier writer learns it lost on its next pull, nobody else does."""
    server.user("alice")
    a, b, c = devices("a"), devices("b"), devices("c")
    for d in (a, b, c):
        d.login("alice")
    acc = a.repo("account").create({"name": "远景能源", "industry": "能源"})
    a.sync()
    b.sync()
    c.sync()
    b.repo("account").update(acc["id"], {"industry": "制造业"})  # earlier stamp
    time.sleep(0.005)
    a.repo("account").update(acc["id"], {"industry": "新能源", "region": "江苏"})  # never saw b's
    assert b.sync().conflicts == 0  # b pushes first: applied
    assert a.sync().conflicts == 0  # a's later stamp wins over a value a never saw
    assert b.sync().conflicts == 1
    assert c.sync().conflicts == 0  # c wrote nothing: no conflict of its own
    [conflict] = b.store.open_conflicts()
    assert (conflict.field, conflict.local_value, conflict.remote_value) == (
        "industry", "制造业", "新能源")
    assert a.store.open_conflicts() == [] and c.store.open_conflicts() == []
    assert b.repo("account").get(acc["id"])["industry"] == "新能源"

    # An edit made after seeing the other's value overwrites nothing unseen: no conflict.
    b.store.resolve_conflict(conflict.id, "theirs")
    a.repo("account").update(acc["id"], {"industry": "储能"})
    a.sync()
    assert b.sync().conflicts == 0
    assert b.repo("account").get(acc["id"])["industry"] == "储能"
    b.repo("account").update(acc["id"], {"industry": "光伏"})
    b.sync()
    assert a.sync().conflicts == 0
    assert a.repo("account").get(acc["id"])["industry"] == "光伏"


def test_a_lost_edit_is_still_a_conflict_after_later_edits_by_others(
        server: Server, devices: Any) -> None:
    """a pushes first, b overwrites it blind, then c edits after seeing b's value, all
    before a pulls: a still learns that its edit was lost."""
    server.user("alice")
    a, b, c = devices("a"), devices("b"), devices("c")
    for d in (a, b, c):
        d.login("alice")
    acc = a.repo("account").create({"name": "宁德时代", "industry": "电池"})
    for d in (a, b, c):
        d.sync()
    a.repo("account").update(acc["id"], {"industry": "储能"})
    time.sleep(0.005)
    b.repo("account").update(acc["id"], {"industry": "新能源"})  # never saw a's
    assert a.sync().conflicts == 0
    assert b.sync().conflicts == 0
    assert c.sync().conflicts == 0
    c.repo("account").update(acc["id"], {"industry": "汽车零部件"})  # saw b's: a plain edit
    c.sync()
    assert a.sync().conflicts == 1
    [conflict] = a.store.open_conflicts()
    assert (conflict.local_value, conflict.remote_value) == ("储能", "汽车零部件")
    assert b.sync().conflicts == 0 and c.store.open_conflicts() == []


def test_three_devices_offline_edits_and_delete_converge(server: Server, devices: Any) -> None:
    server.user("alice", teams=("north",))
    server.user("bob", teams=("north",))
    a, b, c = devices("a"), devices("b"), devices("c")
    a.login("alice")
    b.login("bob")
    c.login("alice")
    ids = [a.repo("account").create({"name": f"客户{i}"})["id"] for i in range(5)]
    contact = a.repo("contact").create(
        {"name": "张伟", "account_id": ids[0], "phones": ["13912345678"]})
    a.sync()
    b.sync()
    c.sync()
    # Offline: everyone edits; c deletes one that b edits.
    a.repo("account").update(ids[0], {"industry": "a-ind"})
    b.repo("account").update(ids[1], {"industry": "b-ind"})
    b.repo("account").update(ids[2], {"region": "b-region"})
    c.repo("account").delete(ids[2])
    c.repo("contact").update(contact["id"], {"title": "总经理"})
    b.repo("account").create({"name": "bob's own"})
    for d in (c, b, a, c, b, a):
        d.sync()
    snaps = [snapshot(d.store) for d in (a, b, c)]
    assert snaps[0] == snaps[1] == snaps[2]
    assert len([k for k in snaps[0] if k.startswith("account/")]) == 6
    s = snaps[0]
    assert s[f"account/{ids[0]}"]["industry"] == "a-ind"
    assert s[f"account/{ids[1]}"]["industry"] == "b-ind"
    assert (s[f"account/{ids[2]}"]["deleted"] is True
            and s[f"account/{ids[2]}"]["region"] == "b-region")
    assert s[f"contact/{contact['id']}"]["title"] == "总经理"
    assert s[f"contact/{contact['id']}"]["phones"] == ["+8613912345678"]


def test_rejected_entry_is_parked_and_the_rest_keeps_flowing(server: Server, devices: Any) -> None:
    server.user("rita")
    a = devices("a")
    a.login("rita")
    deal = a.repo("deal").create({"title": "大单", "amount": 1000})
    a.repo("deal").update(deal["id"], {"collected_amount": 500})  # finance only
    other = a.repo("account").create({"name": "照常同步"})
    rep = a.sync()
    assert rep.parked == 1 and rep.pushed == 2
    [parked] = a.store.journal.parked()
    assert ("collected" in (parked.reason or "").lower()
            or "finance" in (parked.reason or "").lower())
    # The local value stays as typed, and the next sync does not send it again.
    assert a.repo("deal").get(deal["id"])["collected_amount"] == 500
    assert a.sync().pushed == 0
    b = devices("b")
    b.login("rita")
    b.sync()
    assert b.repo("account").get(other["id"])["name"] == "照常同步"
    assert b.repo("deal").get(deal["id"]).get("collected_amount") is None
    # Discarding the problem leaves the queue empty.
    a.store.journal.discard(parked.seq)
    assert a.store.journal.counts() == {"pending": 0, "parked": 0}


def test_offline_is_a_state_and_changes_wait(tmp_path: Any, server: Server, devices: Any) -> None:
    server.user("alice")
    a = devices("a")
    a.login("alice")
    a.repo("account").create({"name": "离线客户"})
    from desktop.sync.engine import SyncEngine

    # Same profile, a server address nobody listens on.
    with a.store as st:
        st.meta_set("sync_server", "http://127.0.0.1:9")
    a._store = None
    eng = SyncEngine(a.profile, live=False)
    with pytest.raises((OfflineError, AuthError)):
        eng.sync_once()
    eng.close()
    assert a.store.journal.counts()["pending"] == 1


def test_attachment_files_follow_their_records(server: Server, devices: Any) -> None:
    server.user("alice")
    a, b = devices("a"), devices("b")
    a.login("alice")
    b.login("alice")
    photo = "合同第一页".encode() * 5000
    sha = a.store.blobs.put_bytes(photo)
    a.repo("attachment").create({"sha256": sha, "file_name": "contract-p1.jpg", "size": len(photo)})
    a.sync()
    assert not b.store.blobs.has(sha)
    report = b.sync()
    assert report.blobs == 1
    assert b.store.blobs.read(sha) == photo


def test_an_import_edited_and_deleted_before_its_first_sync_arrives_whole(
    server: Server, devices: Any
) -> None:
    server.user("alice")
    a, b = devices("a"), devices("b")
    a.login("alice")
    b.login("alice")
    accounts = a.repo("account")
    accounts.import_many({"name": f"导入客户{i}", "phone": f"139 1234 {i:04d}", "tags": ["展会"]}
                         for i in range(40))
    ids = [r["id"] for r in accounts.iter_all()]
    accounts.update(ids[0], {"name": "改过名的客户", "industry": "物流"})  # before any push
    accounts.delete(ids[1])
    contacts = a.repo("contact")
    contacts.import_many([{"name": "李娜", "account_id": ids[2], "phones": "13800138000"}])
    assert a.sync().pushed == 40 + 2 + 1
    b.sync()
    assert snapshot(a.store) == snapshot(b.store)
    got = b.repo("account")
    assert (got.get(ids[0])["name"] == "改过名的客户"
            and got.get(ids[0])["phone"] == "+8613912340000")
    assert got.get(ids[1], include_deleted=True)["deleted"] is True
    assert got.get(ids[39])["tags"] == ["展会"] and got.get(ids[39])["owner"] == "alice"
    [li] = b.repo("contact").find(name="李娜")
    assert li["phones"] == ["+8613800138000"] and li["account_id"] == ids[2]
    assert a.store.open_conflicts() == b.store.open_conflicts() == []
