"""Repositories: the only way to write records. Every write commits the row, its
per-field clocks, its search document and its journal entry in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from desktop.errors import NotFoundError, ValidationError
from desktop.schema import DELETED, Entity, FieldType, to_utc_iso, validate_changes
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.firstwrite import ENTITIES as FIRST_WRITE_ENTITIES
from desktop.store.firstwrite import iso_ms, oldest_ms, stamp_ms
from desktop.store.gcpause import collector_paused
from desktop.store.ids import new_id, new_ids
from desktop.store.rows import field_type, from_row, to_column
from desktop.store.textindex import DOC_FIELDS, build_doc, replace_doc

if TYPE_CHECKING:
    import sqlite3

    from desktop.store.store import Store

IMPORT_CHUNK = 10_000  # rows per transaction: each commit waits for the disk once
# Lists that do not read in title order, as (SQL expression, newest first). Activities:
# by when they happened or are due, newest first, like the account timeline
# (desktop.ui.account_page.timeline_key). Each has an index on the same expression
# (desktop.store.migrations), so a page stays a short index walk at a million rows.
LIST_ORDER: dict[str, tuple[str, bool]] = {
    "activity": ("coalesce(done_at, due_at, created_at)", True),
    "payment": ("date", True),  # newest first; index payment_report begins with date
}


class Repository:
    def __init__(self, store: Store, ent: Entity, number: int) -> None:
        self.store = store
        self.entity = ent
        self.number = number  # position in ENTITIES; high bits of search rowids
        self._table = f'"{ent.name}"'
        self.searchable = ent.name in DOC_FIELDS
        self._required = [f for f in ent.fields if f.required]
        # The creator becomes the owner, unless the server decides who owns (leads)
        self._owned = ent.has_field("owner") and ent.field("owner").writable_by is None
        self._first_write = ent.name in FIRST_WRITE_ENTITIES  # has first_write_at

    # ------------------------------------------------------------ reads
    def get(self, record_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        row = self.store.conn.execute(
            f"SELECT * FROM {self._table} WHERE id = ?", (record_id,)).fetchone()
        if row is None or (row[DELETED] and not include_deleted):
            raise NotFoundError(f"No {self.entity.label_en.lower()} with id {record_id}.")
        return from_row(self.entity, row)

    def find(self, **equals: Any) -> list[dict[str, Any]]:
        for name in equals:
            self.entity.field(name)
        where = " AND ".join(f'"{k}" = ?' for k in equals) or "1"
        rows = self.store.conn.execute(
            f"SELECT * FROM {self._table} WHERE deleted = 0 AND {where} ORDER BY rid",
            [to_column(self.entity.field(k).type, v) for k, v in equals.items()]).fetchall()
        return [from_row(self.entity, r) for r in rows]

    def iter_all(self) -> Iterator[dict[str, Any]]:
        cur = self.store.conn.execute(f"SELECT * FROM {self._table} WHERE deleted = 0 ORDER BY rid")
        for row in cur:
            yield from_row(self.entity, row)

    def count(self) -> int:
        return int(self.store.conn.execute(
            f"SELECT count(*) FROM {self._table} WHERE deleted = 0").fetchone()[0])

    def page(self, *, after: tuple[str, int] | None = None, limit: int = 200,
             where: str = "", params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Live records in list order (LIST_ORDER; else by title), `limit` at a time after
        the (sort value, rid) key `after` of the previous page's last record (keyset
        paging: every page costs the same, however deep the scroll)."""
        expr, newest_first = LIST_ORDER.get(
            self.entity.name, (f'"{self.entity.title_field}" COLLATE NOCASE', False))
        sql = f"SELECT *, {expr} AS _sort FROM {self._table} WHERE deleted = 0"
        args: list[Any] = list(params)
        if where:
            sql += f" AND ({where})"
        if after is not None:
            sql += f" AND ({expr}, rid) {'<' if newest_first else '>'} (?, ?)"
            args += [after[0], after[1]]
        desc = " DESC" if newest_first else ""
        sql += f" ORDER BY {expr}{desc}, rid{desc} LIMIT ?"
        rows = self.store.conn.execute(sql, [*args, limit]).fetchall()
        out = []
        for r in rows:
            rec = from_row(self.entity, r)
            rec["_key"] = (r["_sort"] or "", r["rid"])
            out.append(rec)
        return out

    # ------------------------------------------------------------ writes
    def create(self, values: Mapping[str, Any], *, record_id: str | None = None) -> dict[str, Any]:
        clean = self._validate_new(values)
        with self.store.write() as w:
            rid = self._insert(w.conn, record_id or new_id(), clean, w.stamp, w.now)
            rec = self._get_rid(w.conn, rid)
            w.changed(self.entity.name, rec["id"])
        return rec

    def update(self, record_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        if DELETED in changes:
            raise ValidationError("Use delete() or restore() to change deletion.", field=DELETED)
        clean = validate_changes(self.entity, changes)
        with self.store.write() as w:
            row = w.conn.execute(
                f"SELECT * FROM {self._table} WHERE id = ?", (record_id,)).fetchone()
            if row is None or row[DELETED]:
                raise NotFoundError(f"No {self.entity.label_en.lower()} with id {record_id}.")
            old = from_row(self.entity, row)
            diff = {k: v for k, v in clean.items() if old.get(k) != v}
            for f in self.entity.fields:
                if f.required and f.name in diff and diff[f.name] is None:
                    raise ValidationError(f"{f.label_en} is required", field=f.name)
            if not diff:
                return old
            self._stamp_change_times(diff)
            self._write_fields(w, row, old, diff)
            rec = self._get_rid(w.conn, row["rid"])
            w.changed(self.entity.name, record_id)
        return rec

    def delete(self, record_id: str) -> None:
        """Tombstone the record (undo with `restore`)."""
        self._set_deleted(record_id, True)

    def restore(self, record_id: str) -> dict[str, Any]:
        return self._set_deleted(record_id, False)

    def import_many(self, rows: Iterable[Mapping[str, Any]], *, index: bool = True,
                    progress: Callable[[int], None] | None = None) -> int:
        """Create many records fast: one transaction per chunk, batched statements.
        Every record is validated and journaled like a single create. With index=False
        the records are found by name at once and by pinyin and phone once the index
        builder has made their documents (desktop.store.indexer: the app's builder
        process, or `Store.index_backlog`); with index=True they are searchable when
        this returns, their documents built by the builder process beside the import
        when there are many."""
        from desktop.store.indexer import build_in_background

        total = 0
        chunk: list[dict[str, Any]] = []
        builder = None
        with collector_paused():  # (desktop.store.gcpause)
            for values in rows:
                chunk.append(self._validate_new(values))
                if len(chunk) >= IMPORT_CHUNK:
                    total += self._import_chunk(chunk)
                    chunk = []
                    if index and self.searchable:
                        builder = build_in_background(self.store) or builder
                    if progress:
                        progress(total)
            if chunk:
                total += self._import_chunk(chunk)
        if index:
            builder = build_in_background(self.store) or builder
            if builder is not None:
                builder.wait_idle(self.store)
        return total

    # ------------------------------------------------------------ internals
    def _validate_new(self, values: Mapping[str, Any]) -> dict[str, Any]:
        if DELETED in values:
            raise ValidationError("A new record cannot be deleted.", field=DELETED)
        for f in self._required:
            if f.name not in values:
                self.entity.checker(f.name)(None)  # raises "<field> is required"
        clean = {k: v for k, v in validate_changes(self.entity, values).items() if v is not None}
        if self._owned and not clean.get("owner") and self.store.user:
            clean["owner"] = self.store.user
        if self.entity.change_times:
            self._stamp_change_times(clean, given=values)
        return clean

    def _stamp_change_times(
            self, values: dict[str, Any], given: Mapping[str, Any] | None = None) -> None:
        """Entity.change_times: a set field puts now into its time field, unless the
        write sets that time itself (in `given`, the values as asked for; default `values`)."""
        given = values if given is None else given
        for name, time_field in self.entity.change_times:
            if values.get(name) is not None and time_field not in given:
                values[time_field] = to_utc_iso(dt.datetime.now(dt.UTC))

    def _get_rid(self, conn: sqlite3.Connection, rid: int) -> dict[str, Any]:
        return from_row(self.entity, conn.execute(
            f"SELECT * FROM {self._table} WHERE rid = ?", (rid,)).fetchone())

    def _insert(self, conn: sqlite3.Connection, record_id: str, clean: dict[str, Any],
                stamp: str, now: str) -> int:
        cols = list(clean)
        clocks = {k: stamp for k in cols}
        names = "".join(f'"{c}", ' for c in cols)
        first: list[Any] = []  # desktop.store.firstwrite: this write's stamp, or created_at
        if self._first_write:
            first = [stamp_ms(stamp) if cols else iso_ms(now)]
        marks = ", ".join("?" * (len(cols) + 4 + len(first)))
        sql = (f"INSERT INTO {self._table} (id, {names}created_at, updated_at, _clocks"
               f"{', ' + FIRST_WRITE if first else ''}) VALUES ({marks})")
        cur = conn.execute(sql, [record_id,
                                 *(to_column(self.entity.field(c).type, clean[c]) for c in cols),
                                 now, now, orjson.dumps(clocks).decode(), *first])
        rid = int(cur.lastrowid or 0)
        self._index(conn, rid, clean)
        self.store.journal.append(conn, self.entity.name, record_id, clean, clocks)
        return rid

    def _import_chunk(self, chunk: list[dict[str, Any]]) -> int:
        """Batched form of `_insert` for many records, in one transaction. The rows share
        the transaction's stamp in the compact form (desktop.store.rows.clocks_of) and
        their journal entries read the rows at push time (journal.FROM_ROW)."""
        cols = [f.name for f in self.entity.fields]
        # columns whose values are stored in another form (to_column); the rest as they are
        converted = [(i, f.type) for i, f in enumerate(self.entity.fields)
                     if f.type in (FieldType.LIST, FieldType.BOOL)]
        names = "".join(f'"{c}", ' for c in cols)
        first = f", {FIRST_WRITE}" if self._first_write else ""
        marks = ", ".join("?" * (len(cols) + 5 + bool(first)))
        with self.store.write() as w:
            base = int(w.conn.execute(
                f"SELECT coalesce(max(rid), 0) FROM {self._table}").fetchone()[0])
            ids = new_ids(len(chunk))
            tail: tuple[Any, ...] = (w.now, w.now, orjson.dumps(w.stamp).decode())
            if first:  # every field's stamp is the transaction's (a record has a field)
                tail += (stamp_ms(w.stamp),)
            rows = []
            for rid, record_id, clean in zip(
                    range(base + 1, base + 1 + len(chunk)), ids, chunk, strict=True):
                values: list[Any] = list(map(clean.get, cols))
                for i, ftype in converted:
                    values[i] = to_column(ftype, values[i])
                rows.append((rid, record_id, *values, *tail))
            w.conn.executemany(
                f"INSERT INTO {self._table} (rid, id, {names}created_at, updated_at, _clocks"
                f"{first}) VALUES ({marks})", rows)
            if self.searchable:
                w.conn.execute(
                    "WITH RECURSIVE r(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM r WHERE x < ?) "
                    "INSERT INTO search_backlog (rowid) SELECT x FROM r",
                    (self.search_rowid(base + 1), self.search_rowid(base + len(chunk))))
            self.store.journal.append_created(w.conn, self.entity.name, ids)
            w.changed(self.entity.name, None)
        return len(chunk)

    def _write_fields(self, w: Any, row: sqlite3.Row, old: dict[str, Any],
                      diff: dict[str, Any]) -> None:
        clocks = self.store.journal.before_change(w.conn, self.entity, row)
        bases = {k: clocks.get(k) for k in diff}
        # A fresh stamp per write: two writes of one field in one transaction must not tie.
        stamp = w.next_stamp()
        for k in diff:
            clocks[k] = stamp
        sets = ", ".join(f'"{k}" = ?' for k in diff)
        first: list[Any] = []  # the oldest stamp moves when every field holding it is rewritten
        if self._first_write:
            oldest = oldest_ms(clocks.values())
            if oldest is not None and oldest != row[FIRST_WRITE]:
                sets += f", {FIRST_WRITE} = ?"
                first = [oldest]
        w.conn.execute(
            f"UPDATE {self._table} SET {sets}, updated_at = ?, _clocks = ? WHERE rid = ?",
            [*(to_column(field_type(self.entity, k), v) for k, v in diff.items()), *first,
             w.now, orjson.dumps(clocks).decode(), row["rid"]])
        new = {**old, **diff}
        self._reindex(w.conn, row["rid"], old, new)
        self.store.journal.append(w.conn, self.entity.name, old["id"], diff,
                                  {k: stamp for k in diff}, bases)

    def _set_deleted(self, record_id: str, deleted: bool) -> dict[str, Any]:
        with self.store.write() as w:
            row = w.conn.execute(
                f"SELECT * FROM {self._table} WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"No {self.entity.label_en.lower()} with id {record_id}.")
            old = from_row(self.entity, row)
            if old[DELETED] != deleted:
                self._write_fields(w, row, old, {DELETED: deleted})
                w.changed(self.entity.name, record_id)
            rec = self._get_rid(w.conn, row["rid"])
        return rec

    # search documents: removed for tombstones, rebuilt when searchable text changes
    def search_rowid(self, rid: int) -> int:
        return (self.number << 40) | rid

    def _index(self, conn: sqlite3.Connection, rid: int, rec: Mapping[str, Any]) -> None:
        if rec.get(DELETED):
            return
        doc = build_doc(self.entity.name, rec)
        if doc is not None:
            replace_doc(conn, self.search_rowid(rid), doc)

    def _reindex(self, conn: sqlite3.Connection, rid: int, old: Mapping[str, Any],
                 new: Mapping[str, Any]) -> None:
        old_doc = None if old.get(DELETED) else build_doc(self.entity.name, old)
        new_doc = None if new.get(DELETED) else build_doc(self.entity.name, new)
        if old_doc == new_doc:
            return
        # A record still waiting for the index builder now has its document from here:
        # the builder's, read before this change, must not be written (desktop.store.indexer).
        conn.execute("DELETE FROM search_backlog WHERE rowid = ?", (self.search_rowid(rid),))
        replace_doc(conn, self.search_rowid(rid), new_doc)
