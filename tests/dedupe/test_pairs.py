"""The "Possible duplicates" list: pairs found for records that changed, kept, dismissed."""

from __future__ import annotations

import pytest

from desktop.dedupe import pairs
from desktop.store import Store


def two_pairs(store: Store) -> tuple[str, str, str, str]:
    acc = store.repo("account")
    a = acc.create({"name": "杭州市海天食品有限公司"})["id"]
    b = acc.create({"name": "海天食品（杭州）有限公司"})["id"]
    c = store.repo("contact").create({"name": "李娜", "email": "lina@example.com"})["id"]
    d = store.repo("contact").create({"name": "Li Na", "email": "LiNa@Example.com"})["id"]
    return a, b, c, d


@pytest.mark.parametrize("scan_from", [pairs.SCAN_FROM, 2])
def test_changed_records_are_checked_once_and_pairs_kept(
        store: Store, monkeypatch: pytest.MonkeyPatch, scan_from: int) -> None:
    monkeypatch.setattr(pairs, "SCAN_FROM", scan_from)  # 2: the whole-book scan path
    a, b, c, d = two_pairs(store)
    assert pairs.check_arrivals(store) == 4
    assert pairs.check_arrivals(store) == 0  # nothing changed since
    got = [(p.a, p.b, p.reasons) for p in pairs.open_pairs(store)]
    assert got == [(a, b, ("name",)), (c, d, ("email",))]
    assert pairs.count_open(store) == 2


def test_a_dismissed_pair_stays_dismissed_and_a_merged_one_goes(store: Store) -> None:
    from desktop.dedupe.merge import merge

    a, b, c, d = two_pairs(store)
    pairs.check_arrivals(store)
    pairs.dismiss(store, "contact", d, c)
    store.repo("contact").update(c, {"title": "采购"})
    pairs.check_arrivals(store)
    assert [(p.a, p.b) for p in pairs.open_pairs(store)] == [(a, b)]
    merge(store, "account", a, b)
    pairs.check_arrivals(store)
    assert pairs.open_pairs(store) == []


def test_a_big_backlog_is_keyed_a_slice_at_a_time(store: Store) -> None:
    store.repo("account").import_many([{"name": f"公司{i}号贸易有限公司"} for i in range(30)]
                                      + [{"name": "Acme Ltd"}, {"name": "ACME Limited"}])
    assert pairs.check_arrivals(store, max_rows=10) == 0  # keyed 10, not checked yet
    while not pairs.open_pairs(store):
        pairs.check_arrivals(store, max_rows=10)
    assert [(p.a_name, p.b_name) for p in pairs.open_pairs(store)] == [("Acme Ltd", "ACME Limited")]
