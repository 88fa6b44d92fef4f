"""The duplicate check over a real store: keys kept current by every kind of write."""

from __future__ import annotations

from desktop.dedupe import index
from desktop.dedupe.service import check, scan
from desktop.store import Store


def names(found: list) -> list[str]:  # type: ignore[type-arg]
    return [c.name for c in found]


def test_check_finds_a_saved_record_and_says_why(store: Store) -> None:
    acc = store.repo("account")
    a = acc.create({"name": "深圳市腾讯计算机系统有限公司", "phone": "+86 139-1234-5678"})
    acc.create({"name": "深圳市腾达计算机系统有限公司"})
    found = check(store, "account", {"name": "腾讯计算机系统（深圳）有限公司"})
    assert [(c.id, c.reasons) for c in found] == [(a["id"], ("name",))]
    found = check(store, "account", {"name": "完全不同", "phone": "139 1234 5678"})
    assert [(c.id, c.reasons, c.score) for c in found] == [(a["id"], ("phone",), 100.0)]
    assert check(store, "account", {"name": "腾讯计算机系统"}, exclude_id=a["id"]) == []


def test_keys_follow_updates_deletes_and_restores(store: Store) -> None:
    acc = store.repo("account")
    a = acc.create({"name": "Acme Technologies Co., Ltd."})
    assert names(check(store, "account", {"name": "ACME Technologies"})) == [
        "Acme Technologies Co., Ltd."]
    acc.update(a["id"], {"name": "Brightstar Foods Ltd"})
    assert check(store, "account", {"name": "ACME Technologies"}) == []
    assert names(check(store, "account", {"name": "Brightstar Foods"})) == ["Brightstar Foods Ltd"]
    acc.delete(a["id"])
    assert check(store, "account", {"name": "Brightstar Foods"}) == []
    acc.restore(a["id"])
    assert names(check(store, "account", {"name": "Brightstar Foods"})) == ["Brightstar Foods Ltd"]
    assert index.pending(store) == 0


def test_bulk_import_without_search_index_is_checked_after_refresh(store: Store) -> None:
    store.repo("account").import_many(
        [{"name": f"Company {i} Trading Ltd"} for i in range(50)]
        + [{"name": "杭州市海天食品有限公司"}],
        index=False)
    assert store.search_backlog() == 51
    found = check(store, "account", {"name": "海天食品（杭州）有限公司"})
    assert names(found) == ["杭州市海天食品有限公司"]
    assert store.search_backlog() == 0 and index.pending(store) == 0


def test_a_contact_moved_to_another_account_is_checked_there(store: Store) -> None:
    a = store.repo("account").create({"name": "A 公司"})["id"]
    b = store.repo("account").create({"name": "B 公司"})["id"]
    c = store.repo("contact").create({"name": "张伟", "account_id": a})
    assert names(check(store, "contact", {"name": "张 伟", "account_id": a})) == ["张伟"]
    assert check(store, "contact", {"name": "张伟", "account_id": b}) == []
    store.repo("contact").update(c["id"], {"account_id": b})
    assert check(store, "contact", {"name": "张伟", "account_id": a}) == []
    assert names(check(store, "contact", {"name": "张伟", "account_id": b})) == ["张伟"]


def test_check_reads_only_records_that_share_a_key(store: Store) -> None:
    store.repo("account").import_many(
        [{"name": f"杭州市{i:05d}号贸易有限公司"} for i in range(3000)])
    index.refresh(store)
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        check(store, "account", {"name": "杭州市00042号贸易有限公司"})
    finally:
        store.conn.set_trace_callback(None)
    reads = [s for s in seen if 'FROM "account"' in s]
    assert reads and all("rid IN" in s or "rid = " in s for s in reads)
    assert not any("dedupe_key" in s and "WHERE key =" not in s for s in seen if "dedupe_key" in s
                   and "SELECT" in s)


def test_scan_lists_each_pair_once_with_its_reasons(store: Store) -> None:
    acc = store.repo("account")
    a = acc.create({"name": "深圳市腾讯计算机系统有限公司", "phone": "13912345678"})
    b = acc.create({"name": "腾讯计算机系统（深圳）有限公司", "phone": "+86 139 1234 5678"})
    c = acc.create({"name": "腾讯计算机系统有限公司上海分公司"})
    acc.create({"name": "Orion Electronics Inc."})
    acc.create({"name": "Horizon Electronics Inc."})
    progress: list[tuple[str, int, int]] = []
    result = scan(store, "account", progress=lambda *p: progress.append(p))
    assert [(p.a, p.b, p.reasons, p.score) for p in result.pairs] == [
        (a["id"], b["id"], ("phone", "name"), 100.0)]
    assert c["id"] not in {p.a for p in result.pairs} | {p.b for p in result.pairs}
    assert progress and progress[-1][1] == progress[-1][2]


def test_scan_and_check_agree_on_every_record(store: Store) -> None:
    """The scan's shortcuts (brands scored once per group, weak parts per pair) give the
    pairs that checking each record on its own gives."""
    from desktop.store.rows import from_row
    from tests.dedupe.eval_set import cases

    items = cases(12, 4)
    store.repo("account").import_many(
        [r for c in items if c.entity == "account" for r in (c.a, c.b)])
    partners: dict[str, set[str]] = {}
    for p in scan(store, "account").pairs:
        partners.setdefault(p.a, set()).add(p.b)
        partners.setdefault(p.b, set()).add(p.a)
    ent = store.repo("account").entity
    rows = store.conn.execute("SELECT * FROM account").fetchall()
    assert len(partners) > len(rows) // 3
    for row in rows:
        rec = from_row(ent, row)
        found = {c.id for c in check(store, "account", rec, exclude_id=rec["id"], limit=1000)}
        assert found == partners.get(rec["id"], set()), rec["name"]
