"""Secondary indexes built once after a first sync instead of row by row during it.

A manager's first sync writes millions of rows into empty tables. An index keyed on
values in random order (an activity's account, deal or contact; a contact's or deal's
account; the wide follow-up evidence indexes) touches a page of its own for nearly every
row: once such an index outgrows SQLite's cache, each row reads pages back and each page
of a pull's transaction writes its dirty pages again (issue 26, 200,000 activities: 49 µs
of CPU per row with every index, 10 µs with none; the evidence indexes +14 and +16 µs;
a 1.29M-row book: 94 µs a row keeping these row by row, 64 deferring them). Building such
an index once, from a sort of the finished table, costs a fraction of that. The name
indexes and `activity_when` stay: they are the lists' orders, which the rep reads while
the pull runs (a first page would otherwise sort the whole table). Until the pull is done,
a record's page lists its activities, contacts and deals by scanning (correct, slower).

So the pull's first bulk page of an entity into its empty table drops them, in its own
write transaction, and notes their SQL in `meta` (`deferred_indexes`) in the same
transaction; `restore` builds them again, one index per transaction with its note, when
the pull has caught up (`SyncEngine.sync_once`), or when the network went with the pull
half done and stays gone (`SyncEngine._restore_indexes`). A kill -9 anywhere leaves either the
index or its note, never neither: the next sync's `restore` brings it back. Meanwhile
the queries that name one of them (`INDEXED BY`: the follow-up reminders, golden-72)
ask `indexed_by`, which leaves the hint out while the index is missing (the
query then uses another index or scans: correct, slower, during a first sync only).
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.store.store import Store

META_KEY = "deferred_indexes"
# The indexes a first sync builds after its bulk pull instead of keeping them row by row
# (the random-keyed ones; the lists' orders stay: the rep reads them while the pull runs).
# activity_ix4 (kind, done_at) and the deals' stage and report indexes joined them later:
# no list reads them, and a 1.29M-row book's pull spent ~4 s of CPU keeping them. Not
# activity_when, the activities list's order: without it a first page sorts the table
# (0.8-1.3 s at 600k activities); a narrow stand-in of it cost as much as keeping it.
HEAVY: dict[str, tuple[str, ...]] = {
    "activity": ("followup_evidence_account", "followup_evidence_deal", "activity_ix0",
                 "activity_ix1", "activity_ix2", "activity_ix3", "activity_ix4"),
    "contact": ("contact_ix1",),
    "deal": ("deal_ix1", "deal_ix2", "deal_report"),
}


def held(conn: sqlite3.Connection) -> dict[str, str]:
    """The indexes dropped and not yet built again: {name: CREATE INDEX statement}."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    return {} if row is None or not row[0] else dict(json.loads(row[0]))


def _note(conn: sqlite3.Connection, pending: dict[str, str]) -> None:
    if pending:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (META_KEY, json.dumps(pending, sort_keys=True)))
    else:
        conn.execute("DELETE FROM meta WHERE key = ?", (META_KEY,))


def defer(conn: sqlite3.Connection, entity: str) -> list[str]:
    """Drop `entity`'s heavy indexes and note them, in the caller's write transaction (a
    bulk insert into an empty table). Returns the names dropped."""
    names = HEAVY.get(entity, ())
    if not names:
        return []
    found = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL AND name IN (SELECT value FROM json_each(?))",
        (entity, json.dumps(names))).fetchall()
    if not found:
        return []
    pending = held(conn)
    for name, sql in found:
        pending[name] = sql
        conn.execute(f'DROP INDEX "{name}"')
    _note(conn, pending)
    return [name for name, _ in found]


def restore(store: Store) -> list[str]:
    """Build every noted index again, one transaction each (other connections' writes
    wait for one index at a time). Returns the names built. The sort spills to a
    temporary file, not to memory (a full book's evidence index is ~200 MB of keys)."""
    pending = held(store.conn)
    if not pending:
        return []
    built: list[str] = []
    store.conn.execute("PRAGMA temp_store = FILE")
    try:
        for name in sorted(pending):
            with store.write() as w:
                now = held(w.conn)
                sql = now.pop(name, None)
                if sql is None:  # another connection built it meanwhile
                    continue
                if not _exists(w.conn, name):
                    w.conn.execute(sql)
                _note(w.conn, now)
            built.append(name)
    finally:
        store.conn.execute("PRAGMA temp_store = MEMORY")
    return built


def _exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                        (name,)).fetchone() is not None


def indexed_by(conn: sqlite3.Connection, name: str) -> str:
    """`INDEXED BY "name"` for a query, or nothing while the index is deferred."""
    return f'INDEXED BY "{name}"' if _exists(conn, name) else ""
