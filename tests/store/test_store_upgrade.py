"""Every store generation ever released opens in this app and upgrades without loss.

The fixtures under tests/fixtures/stores/ are real store files written by earlier
releases (tests/fixtures/stores/make_fixture.py; every schema change adds one).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop.followup.service import scheduler_for
from desktop.store import Store
from desktop.store import migrations as mig
from desktop.store.followup_tables import REMINDER_TABLE

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "stores").glob("*.db"))


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
        "AND name NOT LIKE 'search_fts%' AND name != '_sqlite_migrations' ORDER BY name")]


def _snapshot(path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row of every table (columns, rows in rowid order)."""
    conn = sqlite3.connect(path)
    try:
        out = {}
        for t in _tables(conn):
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
            out[t] = (cols, conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall())
        return out
    finally:
        conn.close()


def _project(path: Path, table: str, cols: list[str]) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        names = ", ".join(f'"{c}"' for c in cols)
        return conn.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid').fetchall()
    finally:
        conn.close()


def test_there_is_a_fixture_for_the_release_before_the_newest_step() -> None:
    names = {p.stem for p in FIXTURES}
    assert {"m005_drop_unused_account_indexes", "m007_dedupe_keys"} <= names
    assert all(n in mig.known_names() for n in names), "a fixture from an unknown store generation"


@pytest.fixture(params=FIXTURES, ids=[p.stem for p in FIXTURES])
def old_profile(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    profile = tmp_path / "profile"
    profile.mkdir()
    shutil.copyfile(request.param, profile / "store.db")
    return profile


def test_old_store_upgrades_without_losing_anything(old_profile: Path) -> None:
    db = old_profile / "store.db"
    before = _snapshot(db)
    assert before["journal"][1], "the fixture has journal entries"

    with Store.open(old_profile) as store:
        assert mig.applied_names(store.db) == set(mig.known_names())
        assert store.check_integrity() == []
        parked = store.journal.parked()
        pending = store.journal.pending(limit=100_000)
        conflicts = store.open_conflicts()

    for table, (cols, rows) in before.items():
        assert _project(db, table, cols) == rows, f"{table} changed in the upgrade"
    journal_cols, journal_rows = before["journal"]
    state = journal_cols.index("state")
    assert len(parked) == sum(r[state] == "parked" for r in journal_rows) > 0
    assert len(pending) == sum(r[state] == "pending" for r in journal_rows) > 0
    conflict_cols, conflict_rows = before["conflicts"]
    resolved = conflict_cols.index("resolved_at")
    assert len(conflicts) == sum(r[resolved] is None for r in conflict_rows) > 0


def test_upgraded_store_searches_edits_and_reminds(old_profile: Path) -> None:
    with Store.open(old_profile) as store:
        hits = store.search("tengxun")
        assert [h.title for h in hits if "腾讯" in h.title], hits
        acc_tx = next(a for a in store.repo("account").iter_all()
                      if a["name"] == "深圳市腾讯计算机系统有限公司")
        assert any(h.title == "张伟" for h in store.search("zhangwei"))
        assert store.search_backlog() > 0
        store.index_backlog()
        assert any(h.title == "李娜" for h in store.search("lina"))
        # The index holds exactly the documents (rank 1: checked against search_doc),
        # written without the insert trigger older stores had (m011).
        store.conn.execute(
            "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
        assert store.conn.execute("SELECT count(*) FROM sqlite_master "
                                  "WHERE name = 'search_doc_ai'").fetchone()[0] == 0
        store.repo("account").update(acc_tx["id"], {"name": "腾讯云计算（北京）有限责任公司"})
        assert [h.title for h in store.search("tengxunyun")] == ["腾讯云计算（北京）有限责任公司"]
        assert not [h for h in store.search("shenzhen") if h.id == acc_tx["id"]]
        store.conn.execute(
            "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")

        reminders_before = store.conn.execute(
            f"SELECT count(*) FROM {REMINDER_TABLE}").fetchone()[0]
        assert reminders_before > 0
        sched = scheduler_for(store)
        states = {r[0] for r in store.conn.execute(f"SELECT state FROM {REMINDER_TABLE}")}
        assert {"delivered", "seen", "snoozed"} <= states

        acc = next(a for a in store.repo("account").iter_all() if a["cf_employees"])
        store.repo("account").update(acc["id"], {"cf_employees": acc["cf_employees"] + 1})
        assert store.journal.pending(limit=100_000)[-1].record_id == acc["id"]
        sched.full_pass()
    with Store.open(old_profile) as store:
        assert store.repo("account").get(acc["id"])["cf_employees"] == acc["cf_employees"] + 1


def test_upgraded_store_reads_and_takes_the_admins_follow_up_rule(old_profile: Path) -> None:
    """m020: the follow-up rule's table; the built-in rule until one arrives, the old
    store's personal settings kept."""
    from desktop.followup import rule
    from desktop.followup.settings import local_settings

    with Store.open(old_profile) as store:
        assert rule.current_rule(store).id is None
        personal = local_settings(store)
        set_to = rule.set_rule(store, criteria=[{"name": "call", "kind": "call"}],
                               required_criteria=1, golden_overdue_hours=24)
        sched = scheduler_for(store)
        assert sched.settings.golden_overdue_hours == 24
        assert sched.settings.quiet_start == personal.quiet_start
        assert store.journal.pending(limit=100_000)[-1].entity == "followup_rule"
    with Store.open(old_profile) as store:
        assert rule.current_rule(store) == set_to
        assert local_settings(store) == personal


def test_new_store_has_the_followup_tables_without_the_followup_package(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p") as store:
        names = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
    assert {REMINDER_TABLE, f"{REMINDER_TABLE}_due", "followup_task_due"} <= names


def test_wipe_empties_every_table_and_leaves_a_working_store(tmp_path: Path) -> None:
    heard: list[set[str]] = []
    with Store.open(tmp_path / "p") as store:
        store.repo("account").create({"name": "深圳市腾讯计算机系统有限公司"})
        scheduler_for(store).full_pass()
        store.on_change(lambda ch: heard.append(set(ch.entities)))
        store.wipe()
        for t in _tables(store.conn):
            assert store.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == 0, t
        assert store.search("tengxun") == []
        assert heard == [{"*"}]
        store.repo("account").create({"name": "腾讯"})
        assert [h.title for h in store.search("tengxun")] == ["腾讯"]
        store.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
