"""A first sync's bulk of activities into an empty table leaves its heavy indexes for
after the pull (desktop.store.bulkindex): the queries that name them still run and give
the same answers meanwhile, and `restore` brings back exactly the indexes a new store has."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from desktop.followup.reminders import _activities_for
from desktop.reports import ReportFilter, run
from desktop.store import Store, bulkindex
from desktop.store.remote import DEFER_INDEX_MIN

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _stamp(at: dt.datetime, n: int = 0) -> str:
    return f"{int(at.timestamp() * 1000):013d}-{n:04x}-srv"


def _iso(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def book(accounts: int, activities: int, owner: str = "wang") -> list[dict[str, Any]]:
    """Pulled changes: accounts, then activities linked to them (calls, visits, tasks)."""
    acc = [f"0190f1a2-0000-7000-8000-{i:012d}" for i in range(accounts)]
    out: list[dict[str, Any]] = [
        {"entity": "account", "record_id": rid, "fields": {
            "name": {"value": f"客户{i}", "hlc": _stamp(NOW - dt.timedelta(days=20), i)},
            "owner": {"value": owner, "hlc": _stamp(NOW - dt.timedelta(days=20), i)}}}
        for i, rid in enumerate(acc)]
    for i in range(activities):
        at = NOW - dt.timedelta(days=19, minutes=-37 * i)
        kind = ("call", "visit", "task", "note")[i % 4]
        values: dict[str, Any] = {"kind": kind, "subject": f"跟进{i}", "owner": owner,
                                  "account_id": acc[i % accounts]}
        if kind == "task":
            values["due_at"] = _iso(at)
        else:
            values["done_at"] = _iso(at)
            values["duration_s"] = 60 + i % 300
        out.append({"entity": "activity", "record_id": f"0190f1a2-0000-7000-8000-a{i:011d}",
                    "fields": {k: {"value": v, "hlc": _stamp(at, i)} for k, v in values.items()}})
    return out


def indexes(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                             "AND sql IS NOT NULL").fetchall())


def answers(store: Store) -> tuple[Any, ...]:
    """What the queries that name a deferred index return."""
    ids = [r[0] for r in store.conn.execute("SELECT id FROM account ORDER BY id")]
    evidence = {k: sorted(map(repr, v)) for k, v in _activities_for(store.conn, ids).items()}
    f = ReportFilter(NOW.date() - dt.timedelta(weeks=4), NOW.date())
    # a cell's ids as a set: without its index a report lists them in table order
    return (evidence, *([(c.key, c.values, sorted(c.ids or ())) for c in run(
        store, name, f, now=NOW).cells] for name in ("activities", "golden-72")))


def test_a_pulled_bulk_into_an_empty_table_defers_and_restore_rebuilds(
        tmp_path: Path, store: Store) -> None:
    fresh = Store.open(tmp_path / "fresh")
    want = indexes(fresh.conn)
    fresh.close()
    changes = book(50, DEFER_INDEX_MIN + 100)
    store.apply_remote(changes[:50], cursor=50)
    store.apply_remote(changes[50:], cursor=len(changes))
    held = bulkindex.held(store.conn)
    assert set(held) == set(bulkindex.HEAVY["activity"])
    assert not set(held) & set(indexes(store.conn))
    during = answers(store)  # no "no such index": the hints are left out meanwhile
    assert bulkindex.restore(store) == sorted(held)
    assert bulkindex.held(store.conn) == {} and indexes(store.conn) == want
    assert answers(store) == during
    assert during[0] and during[1] and during[2]  # the book has evidence and report cells
    assert store.check_integrity() == []
    assert bulkindex.restore(store) == []  # nothing left to do


def test_no_deferral_outside_a_pull_or_into_a_table_that_has_rows(
        tmp_path: Path, store: Store) -> None:
    changes = book(20, DEFER_INDEX_MIN + 10)
    store.apply_remote(changes)  # no cursor: not a page of a pull, nobody would restore
    assert bulkindex.held(store.conn) == {}
    other = Store.open(tmp_path / "other")
    other.apply_remote(changes[:30], cursor=30)  # 10 activities: not a bulk
    other.apply_remote(book(20, 2 * DEFER_INDEX_MIN)[30:], cursor=99)  # a table with rows
    assert bulkindex.held(other.conn) == {}
    other.close()


def test_a_restore_killed_between_two_indexes_leaves_each_built_or_noted(store: Store) -> None:
    changes = book(20, DEFER_INDEX_MIN)
    store.apply_remote(changes, cursor=len(changes))
    first = sorted(bulkindex.held(store.conn))[0]
    with store.write() as w:  # what restore's first transaction commits
        pending = bulkindex.held(w.conn)
        w.conn.execute(pending.pop(first))
        bulkindex._note(w.conn, pending)
    assert first in indexes(store.conn) and first not in bulkindex.held(store.conn)
    assert len(bulkindex.restore(store)) == len(bulkindex.HEAVY["activity"]) - 1
    assert set(bulkindex.HEAVY["activity"]) <= set(indexes(store.conn))


def test_bulk_writing_grows_the_cache_and_spaces_checkpoints_then_puts_them_back(
        store: Store) -> None:
    from desktop.store.database import (
        BULK_CACHE_KIB,
        BULK_CHECKPOINT_PAGES,
        CHECKPOINT_PAGES,
        PLAIN_CACHE_KIB,
        bulk_writing,
    )

    def pragmas() -> tuple[int, int]:
        return (store.conn.execute("PRAGMA cache_size").fetchone()[0],
                store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    assert pragmas() == (-PLAIN_CACHE_KIB, CHECKPOINT_PAGES)
    try:
        with bulk_writing(store.conn):
            assert pragmas() == (-BULK_CACHE_KIB, BULK_CHECKPOINT_PAGES)
            store.repo("account").create({"name": "批量写入中"})
            raise RuntimeError("the pull fails midway")
    except RuntimeError:
        pass
    assert pragmas() == (-PLAIN_CACHE_KIB, CHECKPOINT_PAGES)
    assert store.repo("account").count() == 1
