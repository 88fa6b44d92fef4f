"""The outbox: one entry per local write, committed with the write itself.

Entries are `pending` until the server acknowledges them (then they are removed) or
`parked` when the server rejected them, with the reason, so one bad entry never blocks
the queue and the local value stays as the rep typed it.

A record made by a bulk import gets an entry whose fields are `FROM_ROW`: "the record
as its row holds it". Its row keeps one stamp for all fields (desktop.store.rows.
clocks_of) until its first change, and `before_change` writes the values into the entry
before that change, so the entry always reads as the create it stands for. Reading the
row at push time instead of copying every value into the journal halves what an import
writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

from desktop.schema import ENTITIES, Entity
from desktop.store.ids import utc_now_iso
from desktop.store.rows import clocks_of, from_row, is_compact

# meta keys "sync_lost:<entity>:<record id>" -> {field: stamp of this device's write the
# server superseded}; cleared when the pull applies that record.
LOST_PREFIX = "sync_lost:"
FROM_ROW = "@row"

if TYPE_CHECKING:
    from desktop.store.store import Store


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    device_id: str
    entity: str
    record_id: str
    fields_json: str  # as stored: the wire form of `fields`
    created_at: str
    state: str
    reason: str | None

    @cached_property
    def fields(self) -> dict[str, dict[str, Any]]:
        """name -> {"value": v, "hlc": stamp[, "base": stamp]}, parsed on first use: a push
        sends the stored text as it is (`to_wire`), so it never needs the objects."""
        parsed: dict[str, dict[str, Any]] = orjson.loads(self.fields_json)
        return parsed

    def to_wire(self) -> dict[str, Any]:
        """The PushRequest entry, for orjson (the fields go in unparsed, as a Fragment)."""
        return {"device_id": self.device_id, "seq": self.seq, "entity": self.entity,
                "record_id": self.record_id, "fields": orjson.Fragment(self.fields_json)}


def _entry(row: sqlite3.Row, fields_json: str | None = None) -> JournalEntry:
    return JournalEntry(row["seq"], row["device_id"], row["entity"], row["record_id"],
                        fields_json or row["fields"], row["created_at"], row["state"],
                        row["reason"])


def _created_fields(ent: Entity, row: sqlite3.Row) -> str:
    """The wire fields of a record's create, from its row (see FROM_ROW)."""
    rec = from_row(ent, row)
    return orjson.dumps({k: {"value": rec[k], "hlc": stamp}
                         for k, stamp in clocks_of(ent, row).items()}).decode()


def _entries(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[JournalEntry]:
    """Journal rows as entries, FROM_ROW ones with their record's values."""
    wanted: dict[str, list[str]] = {}
    for r in rows:
        if r["fields"] == FROM_ROW:
            wanted.setdefault(r["entity"], []).append(r["record_id"])
    created: dict[tuple[str, str], str] = {}
    for name, ids in wanted.items():
        ent = ENTITIES[name]
        for rec in conn.execute(
                f'SELECT * FROM "{name}" WHERE id IN (SELECT value FROM json_each(?))',
                (orjson.dumps(ids).decode(),)):
            created[(name, rec["id"])] = _created_fields(ent, rec)
    # A record is never removed, only tombstoned, so every FROM_ROW entry finds its row.
    return [_entry(r, created.get((r["entity"], r["record_id"]))) for r in rows]


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store

    def append(self, conn: sqlite3.Connection, entity: str, record_id: str,
               values: Mapping[str, Any], stamps: Mapping[str, str],
               bases: Mapping[str, str | None] | None = None) -> int:
        """`bases`: the stamp each field held before this write (see protocol.FieldWrite)."""
        fields: dict[str, dict[str, Any]] = {
            k: {"value": v, "hlc": stamps[k]} for k, v in values.items()}
        for k, base in (bases or {}).items():
            if base is not None and k in fields:
                fields[k]["base"] = base
        cur = conn.execute(
            "INSERT INTO journal (device_id, entity, record_id, fields, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.store.device_id, entity, record_id, orjson.dumps(fields).decode(),
             utc_now_iso()))
        return int(cur.lastrowid or 0)

    def append_created(self, conn: sqlite3.Connection, entity: str, record_ids: list[str]) -> None:
        """The creates of imported records, whose rows hold their values (FROM_ROW).
        One statement, not executemany: each execution of an insert also updates the
        AUTOINCREMENT counter, which made executemany cost twice as much per entry."""
        conn.execute(
            "INSERT INTO journal (device_id, entity, record_id, fields, created_at) "
            "SELECT ?, ?, value, ?, ? FROM json_each(?)",
            (self.store.device_id, entity, FROM_ROW, utc_now_iso(), orjson.dumps(record_ids)))

    def before_change(
            self, conn: sqlite3.Connection, ent: Entity, row: sqlite3.Row) -> dict[str, str]:
        """The row's clocks, for a write about to change the row. If the row is still
        as an import wrote it, its create entry takes the row's values first."""
        if is_compact(row):
            conn.execute(
                "UPDATE journal SET fields = ? WHERE entity = ? AND record_id = ? AND fields = ?",
                (_created_fields(ent, row), ent.name, row["id"], FROM_ROW))
        return clocks_of(ent, row)

    def pending(self, limit: int = 500, after_seq: int = 0) -> list[JournalEntry]:
        conn = self.store.conn
        rows = conn.execute(
            "SELECT * FROM journal WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit)).fetchall()
        return _entries(conn, rows)

    def parked(self) -> list[JournalEntry]:
        conn = self.store.conn
        return _entries(conn, conn.execute(
            "SELECT * FROM journal WHERE state = 'parked' ORDER BY seq").fetchall())

    def unsent(
            self, conn: sqlite3.Connection, entity: str, record_ids: list[str],
    ) -> list[JournalEntry]:
        """Pending and parked entries of these records, oldest first."""
        rows = conn.execute(
            "SELECT * FROM journal WHERE entity = ? "
            "AND record_id IN (SELECT value FROM json_each(?)) "
            "AND state IN ('pending', 'parked') ORDER BY seq",
            (entity, orjson.dumps(record_ids).decode()))
        return _entries(conn, rows.fetchall())

    def counts(self) -> dict[str, int]:
        rows = self.store.conn.execute(
            "SELECT state, count(*) FROM journal GROUP BY state").fetchall()
        out = {"pending": 0, "parked": 0}
        out.update({r[0]: r[1] for r in rows})
        return out

    def acknowledge(self, seqs: Iterable[int]) -> None:
        """The server has applied (or already had) these entries: drop them."""
        with self.store.write() as w:
            w.conn.executemany("DELETE FROM journal WHERE seq = ?", [(s,) for s in seqs])

    def settle(self, acked: Iterable[int], parked: Iterable[tuple[int, str]] = (),
               superseded: Mapping[int, Iterable[str]] | None = None) -> None:
        """Record the server's verdict on pushed entries in one transaction: acknowledged
        ones are dropped, rejected ones parked with the reason. For an acknowledged write
        that lost to a newer value already on the server (`superseded` fields), the
        write's stamp is remembered so the pull that brings the winner records the
        conflict (see desktop.store.remote)."""
        acked, parked = list(acked), list(parked)
        with self.store.write() as w:
            if superseded:
                self._remember_lost(w.conn, superseded)
            w.conn.executemany("DELETE FROM journal WHERE seq = ?", [(s,) for s in acked])
            if parked:
                w.conn.executemany("UPDATE journal SET state = 'parked', reason = ? WHERE seq = ?",
                                   [(reason, seq) for seq, reason in parked])
                w.changed("journal", None)

    def _remember_lost(
            self, conn: sqlite3.Connection, superseded: Mapping[int, Iterable[str]]) -> None:
        for seq, names in superseded.items():
            row = conn.execute("SELECT * FROM journal WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                continue
            fields = _entries(conn, [row])[0].fields
            key = f"{LOST_PREFIX}{row['entity']}:{row['record_id']}"
            old = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            lost: dict[str, str] = json.loads(old[0]) if old else {}
            lost.update({n: fields[n]["hlc"] for n in names if n in fields})
            if lost:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, json.dumps(lost)))

    def park(self, seq: int, reason: str) -> None:
        with self.store.write() as w:
            w.conn.execute(
                "UPDATE journal SET state = 'parked', reason = ? WHERE seq = ?", (reason, seq))
            w.changed("journal", None)

    def discard(self, seq: int) -> None:
        """Give up a parked entry (the rep decided the server's value stands)."""
        with self.store.write() as w:
            w.conn.execute("DELETE FROM journal WHERE seq = ? AND state = 'parked'", (seq,))
            w.changed("journal", None)

    def retry(self, seq: int) -> None:
        """Send a parked entry again (after the cause was fixed, e.g. a role change).
        It goes out under a new sequence number: the server remembers its verdict on
        the old one."""
        with self.store.write() as w:
            row = w.conn.execute("SELECT * FROM journal WHERE seq = ? AND state = 'parked'",
                                 (seq,)).fetchone()
            if row is None:
                return
            w.conn.execute(
                "INSERT INTO journal (device_id, entity, record_id, fields, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.store.device_id, row["entity"], row["record_id"], row["fields"],
                 utc_now_iso()))
            w.conn.execute("DELETE FROM journal WHERE seq = ?", (seq,))
            w.changed("journal", None)
