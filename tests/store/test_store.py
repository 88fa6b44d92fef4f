"""The local store as a rep relies on it: writes are journaled, validated, searchable,
undoable, and a bad or newer store file is refused without being touched."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.errors import (
    DiskFullError,
    NotFoundError,
    StoreDamagedError,
    StoreTooNewError,
    ValidationError,
)
from desktop.schema import ACCOUNT, is_valid_uscc, validate_value
from desktop.store import Store
from desktop.store.hlc import HybridClock
from desktop.store.ids import new_id, new_ids
from desktop.store.search import _SCORE_SQL, _score

TENCENT = "深圳市腾讯计算机系统有限公司"


def test_create_update_delete_restore_are_journaled_with_field_stamps(store: Store) -> None:
    repo = store.repo("account")
    rec = repo.create({"name": TENCENT, "phone": "+86 139-1234-5678"})
    repo.update(rec["id"], {"industry": "互联网", "name": TENCENT})  # name unchanged: not sent
    repo.delete(rec["id"])
    with pytest.raises(NotFoundError):
        repo.get(rec["id"])
    repo.restore(rec["id"])
    entries = store.journal.pending()
    assert [sorted(e.fields) for e in entries] == [
        ["name", "phone"], ["industry"], ["deleted"], ["deleted"]]
    assert [e.seq for e in entries] == sorted({e.seq for e in entries})
    assert entries[0].fields["phone"]["value"] == "+8613912345678"
    stamps = [e.fields[next(iter(e.fields))]["hlc"] for e in entries]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    row = store.conn.execute("SELECT _clocks FROM account WHERE id = ?", (rec["id"],)).fetchone()
    clocks = json.loads(row[0])
    assert clocks["industry"] == stamps[1] and clocks["deleted"] == stamps[3]
    assert repo.get(rec["id"])["industry"] == "互联网"


def test_invalid_values_are_refused_and_nothing_is_written(store: Store) -> None:
    repo = store.repo("account")
    for bad in ({"name": "A", "phone": "12"}, {"name": "A", "uscc": "91350100M000100Y44"},
                {"name": ""}, {"name": "   "}, {"name": "A", "lifecycle": "sleeping"}):
        with pytest.raises(ValidationError) as err:
            repo.create(bad)
        assert err.value.field in bad
    with pytest.raises(ValidationError, match="Email"):
        store.repo("contact").create({"name": "张伟", "email": "not-an-email"})
    with pytest.raises(ValidationError, match="Expected close"):
        store.repo("deal").create({"title": "X", "close_date": "next week"})
    assert repo.count() == 0 and store.journal.counts()["pending"] == 0
    with pytest.raises(ValidationError, match="Name is required"):  # the import checks the same
        repo.import_many([{"name": "甲"}, {"name": "  "}])
    assert repo.count() == 0


def test_uscc_check_digit_accepts_letters_in_first_positions() -> None:
    assert is_valid_uscc("91350100M000100Y43")
    # Built codes with letters where GB 32100 allows them (registration authority, region).
    from desktop.schema import uscc_check_char

    for first17 in ("Y1440300MA5DBCDE1", "A1110108MA01ABCD9", "51110000500021676"):
        code = first17 + (uscc_check_char(first17) or "")
        assert is_valid_uscc(code)
        assert validate_value(ACCOUNT, "uscc", code.lower()) == code


def test_search_finds_by_substring_pinyin_initials_phone_and_email(store: Store) -> None:
    acc = store.repo("account").create({"name": TENCENT, "phone": "+86 755 8601 3388"})
    store.repo("account").create({"name": "腾达物流有限公司"})
    con = store.repo("contact").create({"name": "张伟", "phones": ["+86 139-1234-5678"],
                                        "email": "zhang.wei@example.com", "account_id": acc["id"]})
    store.repo("contact").create({"name": "Anna Schmidt", "email": "anna@beispiel.de"})

    def ids(q: str) -> list[str]:
        return [h.id for h in store.search(q)]

    assert ids("腾讯") == [acc["id"]]
    assert ids("tengxun") == [acc["id"]]
    assert ids("txjs") == [acc["id"]]
    assert ids("139 1234") == [con["id"]]
    assert ids("13912345678") == [con["id"]]
    assert ids("zhang.wei@") == [con["id"]]
    assert ids("张伟") == [con["id"]]
    assert ids("schmid") and store.search("schmid")[0].title == "Anna Schmidt"
    assert ids("张") == [con["id"]]
    assert ids("不存在的公司") == []
    assert len(ids("腾")) == 2


def test_search_ranks_exact_and_prefix_matches_first(store: Store) -> None:
    repo = store.repo("account")
    repo.create({"name": "北京华为代理有限公司"})
    repo.create({"name": "华为技术有限公司"})
    exact = repo.create({"name": "华为"})
    titles = [h.title for h in store.search("华为")]
    assert titles[0] == "华为" and titles[1] == "华为技术有限公司"
    repo.delete(exact["id"])
    assert "华为" not in [h.title for h in store.search("华为")]
    repo.restore(exact["id"])
    assert store.search("华为")[0].id == exact["id"]


def test_renamed_record_is_found_by_new_name_only(store: Store) -> None:
    repo = store.repo("account")
    rec = repo.create({"name": "旧名字科技"})
    repo.update(rec["id"], {"name": "新名字科技"})
    assert store.search("旧名字") == []
    assert [h.id for h in store.search("新名字")] == [rec["id"]]


def test_custom_fields_are_validated_stored_and_journaled(store: Store) -> None:
    deal = store.repo("deal").create(
        {"title": "ERP", "cf_competitor": "SAP", "cf_next_review": "2026-12-01"})
    assert deal["cf_next_review"] == "2026-12-01"
    with pytest.raises(ValidationError):
        store.repo("deal").update(deal["id"], {"cf_next_review": "soon"})
    assert "cf_competitor" in store.journal.pending()[-1].fields


def test_reopen_keeps_device_clock_and_data(profile: Path) -> None:
    with Store.open(profile) as s:
        rec = s.repo("account").create({"name": "Acme"})
        device, last = s.device_id, s.clock.last
    with Store.open(profile) as s:
        assert s.device_id == device and s.clock.last == last
        assert s.repo("account").get(rec["id"])["name"] == "Acme"
        s.repo("account").update(rec["id"], {"region": "Shanghai"})
        assert s.clock.last > last


def test_store_from_newer_app_is_refused_untouched(profile: Path) -> None:
    Store.open(profile).close()
    db = profile / "store.db"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('fieldcrm', 'm999_future', 'x')")
    before = db.read_bytes()
    with pytest.raises(StoreTooNewError, match=str(db)):
        Store.open(profile)
    assert db.read_bytes() == before


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100,
                                     b"SQLite format 3\x00" + b"\xff" * 8000])
def test_damaged_store_is_refused_with_its_name(profile: Path, content: bytes) -> None:
    profile.mkdir(parents=True)
    (profile / "store.db").write_bytes(content)
    with pytest.raises(StoreDamagedError, match="store.db"):
        Store.open(profile)
    assert (profile / "store.db").read_bytes() == content


def test_disk_full_is_reported_and_nothing_half_written(store: Store) -> None:
    repo = store.repo("account")
    rec = repo.create({"name": "Acme"})
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(DiskFullError):
        repo.import_many({"name": f"公司{i}" * 20, "address": "路" * 400} for i in range(500))
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    assert repo.count() == 1 and store.journal.counts()["pending"] == 1
    assert repo.get(rec["id"])["name"] == "Acme"
    assert store.check_integrity() == []


def test_blobs_are_content_addressed_and_stored_once(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "contract.jpg"
    f.write_bytes(b"\xff\xd8fake jpeg" * 1000)
    sha = store.blobs.put_file(f)
    assert store.blobs.put_bytes(f.read_bytes()) == sha
    assert store.blobs.path(sha).read_bytes() == f.read_bytes()
    assert store.blobs.path(sha).parent.name == sha[:2]
    assert len(list((store.profile / "blobs").rglob("*"))) == 2  # one folder, one file


def test_remote_changes_merge_per_field_and_record_concurrent_conflicts(store: Store) -> None:
    repo = store.repo("account")
    rec = repo.create({"name": "Acme", "region": "Shanghai"})
    store.journal.acknowledge([e.seq for e in store.journal.pending()])
    repo.update(rec["id"], {"region": "Beijing"})  # local, not yet acknowledged
    later = f"{int(store.clock.last[:13]) + 1000:013d}-0000-other-device"
    earlier = "0000000000001-0000-other-device"
    result = store.apply_remote([
        {"entity": "account", "record_id": rec["id"],
         "fields": {"region": {"value": "Shenzhen", "hlc": later},
                    "name": {"value": "Old", "hlc": earlier}}},
    ], cursor=42)
    got = repo.get(rec["id"])
    assert got["region"] == "Shenzhen" and got["name"] == "Acme"  # newer wins per field
    assert result.conflicts == 1 and store.meta_get("sync_cursor") == "42"
    [conflict] = store.open_conflicts()
    assert (conflict.local_value, conflict.remote_value) == ("Beijing", "Shenzhen")
    pending_before = store.journal.counts()["pending"]
    store.resolve_conflict(conflict.id, "mine")
    assert repo.get(rec["id"])["region"] == "Beijing"
    assert store.journal.counts()["pending"] == pending_before + 1
    assert store.journal.pending()[-1].fields["region"]["hlc"] > later  # outranks what it saw
    assert store.open_conflicts() == []


def test_remote_new_record_and_tombstone_apply_without_journaling(store: Store) -> None:
    rid = "01a20000-0000-7000-8000-000000000001"
    stamp = "1795000000000-0000-phone"
    store.apply_remote([{"entity": "contact", "record_id": rid,
                         "fields": {"name": {"value": "李娜", "hlc": stamp}}}])
    assert [h.id for h in store.search("李娜")] == [rid]
    store.apply_remote([{"entity": "contact", "record_id": rid,
                         "fields": {"deleted": {"value": True,
                                                "hlc": "1795000000001-0000-phone"}}}])
    assert store.search("李娜") == []
    assert store.journal.counts()["pending"] == 0


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=60))
def test_hlc_is_strictly_monotonic_even_when_the_wall_clock_steps_back(steps: list[int]) -> None:
    wall = iter([1_700_000_000_000 - s * 7 for s in steps])
    clock = HybridClock("dev", now_ms=lambda: next(wall))
    stamps = [clock.now() for _ in steps]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_bulk_import_is_listed_at_once_and_searchable_before_and_after_indexing(
        store: Store) -> None:
    repo = store.repo("account")
    n = repo.import_many(({"name": f"华南物流{i}号有限公司", "phone": "+86 139 0000 0000"}
                          for i in range(3000)),
                         index=False)
    assert n == 3000 and repo.count() == 3000 and store.search_backlog() == 3000
    assert store.journal.counts()["pending"] == 3000
    # found by the backlog scan
    assert store.search("物流2999号")[0].title == "华南物流2999号有限公司"
    seen: list[tuple[int, int]] = []
    assert store.index_backlog(chunk=1000, progress=lambda d, t: seen.append((d, t))) == 3000
    assert seen == [(1000, 3000), (2000, 3000), (3000, 3000)] and store.search_backlog() == 0
    assert store.search("hnwl")  # pinyin initials only exist in the built index
    assert store.search("物流2999号")[0].title == "华南物流2999号有限公司"


def test_an_imported_record_goes_out_as_its_create_even_after_it_changed(store: Store) -> None:
    repo = store.repo("account")
    rows = [{"name": f"导入{i}", "phone": "139 0000 000" + str(i), "tags": "VIP, 华南"}
            for i in range(3)]
    assert repo.import_many(rows) == 3
    first, second, third = (r["id"] for r in repo.iter_all())
    created = {e.record_id: e.fields for e in store.journal.pending()}
    stamp = created[first]["name"]["hlc"]
    assert created[first] == {"name": {"value": "导入0", "hlc": stamp},
                              "phone": {"value": "+8613900000000", "hlc": stamp},
                              "tags": {"value": ["VIP", "华南"], "hlc": stamp}}
    repo.update(first, {"name": "改名", "industry": "物流"})
    repo.delete(second)
    # A pulled change to the third: the server's newer value wins the field.
    newer = "9" * 13 + "-0000-other-device"
    store.apply_remote([{"entity": "account", "record_id": third,
                         "fields": {"name": {"value": "远端", "hlc": newer}}}])
    entries = store.journal.pending()
    by_record: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_record.setdefault(e.record_id, []).append(e.fields)
    assert by_record[first][0] == created[first]  # the create still says what was imported
    assert (by_record[first][1]["name"]["value"] == "改名"
            and by_record[first][1]["name"]["base"] == stamp)
    assert by_record[second] == [created[second], by_record[second][1]]
    assert by_record[second][1]["deleted"]["value"] is True
    assert by_record[third] == [created[third]]
    assert repo.get(third)["name"] == "远端" and repo.get(first)["name"] == "改名"
    conflicts = store.open_conflicts()  # the import had not reached the server: a real conflict
    assert [(c.field, c.local_value, c.remote_value) for c in conflicts] == [
        ("name", "导入2", "远端")]


def test_ids_made_for_an_import_are_unique_time_ordered_uuid7() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_ids(20_000)
    assert len(set(ids)) == 20_000 and ids == sorted(ids)
    for text in (ids[0], ids[-1], new_id()):
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 7 and u.variant == uuid.RFC_4122
        assert before <= u.int >> 80 <= time.time_ns() // 1_000_000  # the millisecond it was made


@given(st.text(st.sampled_from("华为技术有限公司 abcAB1"), max_size=12),
       st.text(st.sampled_from("华为技术有限公司 abcAB1"), min_size=1, max_size=4))
def test_search_ranks_in_sql_exactly_as_the_python_rule(name: str, query: str) -> None:
    conn = sqlite3.connect(":memory:")
    in_sql = conn.execute(f"SELECT {_SCORE_SQL} FROM (SELECT :n AS n)",
                          {"q": query, "qlen": len(query), "n": name}).fetchone()[0]
    assert in_sql == _score(query, name)


def test_activities_list_newest_first_by_when_they_happen_across_pages(store: Store) -> None:
    acts = store.repo("activity")
    acts.create({"kind": "note", "subject": "A 旧笔记"})  # neither due nor done: when it was made
    for i, (kind, when) in enumerate([("task", "2099-05-02T09:00:00Z"),
                                      ("call", "1999-01-03T08:00:00Z"),
                                      ("visit", "2098-12-24T10:00:00Z"),
                                      ("task", "2098-12-24T10:00:00Z")]):
        field = "due_at" if kind == "task" else "done_at"
        acts.create({"kind": kind, "subject": f"Z{i} 拜访", field: when})
    seen: list[str] = []
    after = None
    while page := acts.page(after=after, limit=2):  # keyset pages continue where they left off
        seen += [r["subject"] for r in page]
        after = page[-1]["_key"]
    # due or done, else made; two at one time: the later made first
    assert seen == ["Z0 拜访", "Z3 拜访", "Z2 拜访", "A 旧笔记", "Z1 拜访"]
    plan = " ".join(str(tuple(r)) for r in store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM activity WHERE deleted = 0 "
        "ORDER BY coalesce(done_at, due_at, created_at) DESC, rid DESC LIMIT 5"))
    assert "activity_when" in plan and "TEMP B-TREE" not in plan


def test_edits_are_flushed_to_disk_and_only_refetchable_sync_writes_skip_the_flush(
        profile: Path) -> None:
    # synchronous: 2 = FULL (a save is on disk when it returns), 1 = NORMAL
    with Store.open(profile) as app, Store.open(profile, refetchable=True) as sync:
        assert app.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert sync.conn.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_a_stage_change_restarts_the_stage_clock_however_it_is_made(store: Store) -> None:
    deals = store.repo("deal")
    deal = deals.create({"title": "年度框架协议", "stage": "qualified"})
    assert deal["stage_changed_at"]  # a new deal with a stage: in it since now
    store.conn.execute(
        "UPDATE deal SET stage_changed_at = '2020-01-01T00:00:00Z' WHERE id = ?", (deal["id"],))
    assert deals.update(deal["id"], {"amount": 5})["stage_changed_at"] == "2020-01-01T00:00:00Z"
    moved = deals.update(deal["id"], {"stage": "proposal"})
    assert moved["stage_changed_at"] > "2026"
    # synced with it
    assert store.journal.pending()[-1].fields.keys() == {"stage", "stage_changed_at"}
    kept = deals.update(deal["id"], {"stage": "won", "stage_changed_at": "2026-01-02T03:04:05Z"})
    assert kept["stage_changed_at"] == "2026-01-02T03:04:05Z"
    assert deals.create({"title": "无阶段"}).get("stage_changed_at") is None
