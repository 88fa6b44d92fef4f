"""Applying changes pulled from the server: the same per-field last-writer-wins rule
as the server, without re-journaling, with the cursor stored in the same transaction.

A local value that loses to a different remote value while the local write is still
unacknowledged (so the two were concurrent) is recorded as a conflict the rep can review;
"keep mine" then becomes a new edit, which outranks the remote one because the clock has
seen it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from desktop.errors import ValidationError
from desktop.schema import (
    DELETED,
    ENTITIES,
    KEPT,
    OVERWROTE,
    Check,
    Entity,
    FieldType,
    overwritten_stamps,
    validate_value,
    wins,
)
from desktop.store import bulkindex, erasure
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.firstwrite import ENTITIES as FIRST_WRITE_ENTITIES
from desktop.store.firstwrite import iso_ms, oldest_ms
from desktop.store.journal import LOST_PREFIX
from desktop.store.merged import follow_merges
from desktop.store.rows import clocks_of, field_type, from_row, to_column
from desktop.store.textindex import build_doc, insert_docs
from desktop.store.visibility import held_policy
from desktop.visibility import HIDDEN, MASKED

if TYPE_CHECKING:
    from desktop.store.store import Store

CURSOR_KEY = "sync_cursor"
FIELD_DEF_ENTITY = "field_def"
DEFER_INDEX_MIN = 500  # new records in one batch from which search indexing is deferred


@dataclass
class ApplyResult:
    applied: int = 0
    conflicts: int = 0
    deferred: int = 0  # new records left to the index builder (desktop.store.indexer)
    skipped: list[str] = field(default_factory=list)  # reasons for changes not applied


@dataclass(frozen=True)
class Conflict:
    id: int
    entity: str
    record_id: str
    field: str
    local_value: Any
    local_hlc: str
    remote_value: Any
    remote_hlc: str
    detected_at: str


def apply_remote(
    store: Store, changes: Iterable[Mapping[str, Any]], cursor: int | None = None,
    visibility: Mapping[str, Mapping[str, str]] | None = None,
) -> ApplyResult:
    """`changes`: dicts with entity, record_id, fields {name: {"value", "hlc"}}.
    `visibility`: the policy the page came with (desktop.visibility); when it differs
    from the one held, the store converges first (desktop.store.visibility).

    One transaction for the batch (and the cursor). Records new to this device are
    inserted with batched statements; known ones are merged field by field. Several
    changes to one record in a batch are merged first (per field, newest stamp wins), so
    the outcome does not depend on their order.
    """
    if visibility is not None:
        from desktop.store.visibility import converge

        # A page of a pull from the start (no cursor held yet): every record comes after
        # this purge, so what the user may now read more of needs no pull again.
        from_start = cursor is not None and int(store.meta_get(CURSOR_KEY) or 0) == 0
        converge(store, {e: dict(f) for e, f in visibility.items()}, repull=not from_start)
    merged = _merge_batch(changes)
    defs = {k: v for k, v in merged.items() if k[0] == FIELD_DEF_ENTITY}
    if defs and len(defs) < len(merged):
        # Definitions first, on their own: the fields they add must be installed (and
        # have columns) before the values of those fields in this batch are checked.
        first = apply_remote(store, [{"entity": e, "record_id": r, "fields": f}
                                     for (e, r), f in defs.items()])
        for k in defs:
            del merged[k]
        rest = _apply_merged(store, merged, cursor)
        rest.applied += first.applied
        rest.skipped[:0] = first.skipped
        return rest
    return _apply_merged(store, merged, cursor)


def _apply_merged(store: Store, merged: dict[tuple[str, str], dict[str, Any]],
                  cursor: int | None) -> ApplyResult:
    # Writes to merged-away records (and references to them) go to their survivors
    # (desktop.store.merged) before the rows are prepared; again under the lock, for a
    # merge committed meanwhile by another connection (then the rows are prepared anew).
    redirected = follow_merges(store.conn, merged)
    result, prepared, top = _prepare_batch(store, merged)
    with store.write() as w:
        late = follow_merges(w.conn, merged)
        if late:
            redirected += late
            result, prepared, top = _prepare_batch(store, merged)
        mine = _pending_stamps(store, w.conn, merged)
        erased = erasure.erased_in(merged)  # a person erased elsewhere (desktop.store.erasure)
        erased_files = erasure.files_of(store, erased) if erased else set()
        for (ename, record_id), fields in merged.items():
            if KEPT in fields:  # values a type change kept aside (desktop.schema.coerce_value)
                from desktop.store.fielddefs import save_kept

                save_kept(w.conn, ename, record_id, fields[KEPT].get("value"))
        for prep in prepared:
            # a page of a pull (a cursor) may leave heavy indexes for after it (bulkindex)
            _apply_entity(store, w, prep, mine, result, may_defer=cursor is not None)
        if top:
            before = store.clock.last
            store.clock.observe(top)
            if store.clock.last != before:  # let the app's own connection see the clock
                w.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?)",
                               (store.clock.last,))
        if redirected:
            _journal_redirected(store, w.conn, merged, redirected)
        if mine.lost_keys:
            w.conn.executemany("DELETE FROM meta WHERE key = ?",
                               [(k,) for k in mine.lost_keys])
        if erased:
            erasure.purge_traces(store, w, erased, erased_files)
        if cursor is not None:
            store.meta_set(CURSOR_KEY, str(cursor), conn=w.conn)
        if any(k[0] == FIELD_DEF_ENTITY for k in merged):
            from desktop.store.fielddefs import install

            install(store)  # before the commit: its listeners see the new fields
    if erased:
        erasure.checkpoint(store)  # the WAL's old pages held the erased person's text
    return result


def _prepare_batch(store: Store, merged: dict[tuple[str, str], dict[str, Any]]
                   ) -> tuple[ApplyResult, list[_Prepared], str]:
    """Check the values and prepare the rows of a batch, before the write lock: most of a
    first sync's work, while the index builder's process (desktop.store.indexer) takes
    the lock for its documents. Returns the result so far, the rows and the newest stamp."""
    result = ApplyResult()
    by_entity: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for (name, record_id), fields in merged.items():
        by_entity.setdefault(name, []).append((record_id, fields))
    prepared: list[_Prepared] = []
    top = ""
    policy = held_policy(store) if by_entity else {}
    for name, items in by_entity.items():
        if name not in ENTITIES:
            result.skipped.extend(f"{name}/{rid}: unknown entity {name}" for rid, _ in items)
            continue
        prep = _prepare(store, name, items, result, policy.get(name, {}))
        prepared.append(prep)
        top = max(top, prep.top)
    return result, prepared, top


def _journal_redirected(store: Store, conn: Any, batch: Mapping[tuple[str, str], Any],
                        redirected: Iterable[tuple[str, str, str]]) -> None:
    """Journal the redirected writes (desktop.store.merged) that won here, so the server
    gets them too."""
    by_record: dict[tuple[str, str], set[str]] = {}
    for entity, record_id, fname in redirected:
        by_record.setdefault((entity, record_id), set()).add(fname)
    for (entity, record_id), names in by_record.items():
        ent = ENTITIES[entity]
        row = conn.execute(f'SELECT * FROM "{entity}" WHERE id = ?', (record_id,)).fetchone()
        if row is None:
            continue
        clocks = clocks_of(ent, row)
        won = {n: batch[(entity, record_id)][n] for n in names
               if clocks.get(n) == batch[(entity, record_id)][n]["hlc"]}
        if won:
            store.journal.append(conn, entity, record_id, {n: w["value"] for n, w in won.items()},
                                 {n: w["hlc"] for n, w in won.items()})


def _merge_batch(changes: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    # A record's fields are taken as they came and copied only to merge a second change
    # into them (desktop.store.merged copies before it rewrites any).
    copied: set[tuple[str, str]] = set()
    for ch in changes:
        key = (ch["entity"], ch["record_id"])
        have = out.get(key)
        if have is None:
            out[key] = ch["fields"]
            continue
        if key not in copied:
            have = out[key] = dict(have)
            copied.add(key)
        for fname, fw in ch["fields"].items():
            cur = have.get(fname)
            if cur is None or fw["hlc"] > cur["hlc"]:
                have[fname] = fw
    return out


@dataclass
class _Mine:
    """This device's writes the server may not have merged yet: (entity, id) -> field -> stamp."""

    stamps: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    lost_keys: list[str] = field(default_factory=list)

    def get(self, key: tuple[str, str]) -> dict[str, str]:
        return self.stamps.get(key, {})


def _pending_stamps(store: Store, conn: Any, batch: Mapping[tuple[str, str], Any]) -> _Mine:
    out = _Mine()
    if not batch:
        return out
    ids_by_entity: dict[str, list[str]] = {}
    for ent, rid in batch:
        ids_by_entity.setdefault(ent, []).append(rid)
    if conn.execute("SELECT 1 FROM journal LIMIT 1").fetchone() is not None:
        for ent, ids in ids_by_entity.items():
            for e in store.journal.unsent(conn, ent, ids):
                slot = out.stamps.setdefault((ent, e.record_id), {})
                slot.update({k: v["hlc"] for k, v in e.fields.items()})
    if conn.execute("SELECT 1 FROM meta WHERE key >= ? AND key < ? LIMIT 1",
                    (LOST_PREFIX, LOST_PREFIX[:-1] + ";")).fetchone() is not None:
        keys = [f"{LOST_PREFIX}{ent}:{rid}" for ent, rid in batch]
        rows = conn.execute(
            "SELECT key, value FROM meta WHERE key IN (SELECT value FROM json_each(?))",
            (json.dumps(keys),))
        for key, value in rows:
            ent, rid = key[len(LOST_PREFIX):].split(":", 1)
            slot = out.stamps.setdefault((ent, rid), {})
            for fname, stamp in json.loads(value).items():
                slot[fname] = max(slot.get(fname, ""), stamp)
            out.lost_keys.append(key)
    return out


_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]{2,}")
_REF = re.compile(r"[0-9a-f-]{36}")
# (each used with fullmatch: `$` would let a value with a line break at its end through)
# A date and a UTC time in the form the schema's checks write. Days 29-31 and year 0 are
# left to validate_value (a calendar question): whatever matches is a real moment, and
# validate_value would give it back unchanged.
_DAY = "(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
_DATE = re.compile(_DAY)
_UTC = re.compile(f"{_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z")


def _validator(ent: Entity, fname: str) -> Any:
    """A checker for values that come from the server, which already validated and
    normalised them: a value already in its normal form is taken as it is (checking
    it again is most of the cost of a big first sync); anything else goes through
    `validate_value`, which normalises or rejects it."""
    slow = partial(validate_value, ent, fname)
    if fname == DELETED or not ent.has_field(fname):
        return slow
    f = ent.field(fname)
    if f.from_def:
        # A custom field whose type may have changed on the server before this device
        # heard of it: a value of the other type is kept as it came (the column has no
        # type), and converted when the definition arrives (fielddefs.convert_local).
        def custom(v: Any) -> Any:
            try:
                return slow(v)
            except ValidationError:
                return v
        return custom
    t = f.type
    if f.check is Check.PHONE:
        e164 = _E164.fullmatch

        def phone(v: Any) -> Any:
            if isinstance(v, str) and e164(v):
                return v
            if isinstance(v, list) and v and all(isinstance(x, str) and e164(x) for x in v):
                return list(dict.fromkeys(v))
            return slow(v)
        return phone
    if f.check is Check.EMAIL:
        def email(v: Any) -> Any:
            return v if type(v) is str and _EMAIL.fullmatch(v) and v == v.lower() else slow(v)
        return email
    if t is FieldType.REF:
        def ref(v: Any) -> Any:
            return v if type(v) is str and _REF.fullmatch(v) else slow(v)
        return ref
    if f.check is not Check.NONE:
        return slow
    if t is FieldType.DATETIME or t is FieldType.DATE:
        form = (_UTC if t is FieldType.DATETIME else _DATE).fullmatch

        def moment(v: Any) -> Any:
            return v if type(v) is str and form(v) else slow(v)
        return moment
    if t is FieldType.TEXT:
        limit = f.max_length

        def text(v: Any) -> Any:
            if (type(v) is str and v and len(v) <= limit
                    and not v[0].isspace() and not v[-1].isspace()):
                return v
            return slow(v)
        return text
    if t is FieldType.NUMBER:
        def number(v: Any) -> Any:
            if (type(v) is int and abs(v) < 2**53) or (type(v) is float and math.isfinite(v)
                                                       and not v.is_integer()):
                return v
            return slow(v)
        return number
    if t is FieldType.CHOICE:
        choices = frozenset(f.choices)

        def choice(v: Any) -> Any:
            return v if type(v) is str and v in choices else slow(v)
        return choice
    return slow


@dataclass
class _Prepared:
    """One entity's share of a pulled batch, checked before the write transaction:
    (record id, checked values, fields as pulled) per record, and for the records that
    were new to this device when it looked, their insert rows (rid and times are set in
    the transaction)."""

    name: str
    checked: list[tuple[str, dict[str, tuple[Any, str]], dict[str, Any]]]
    new_rows: dict[str, tuple[tuple[str, ...], list[Any], bool]]
    top: str = ""


def _as_is(value: Any) -> Any:
    return value


def _SKIP(value: Any) -> Any:  # a marker: values of this field are not stored
    raise AssertionError("never called")


def _prepare(store: Store, name: str, items: list[tuple[str, dict[str, Any]]],
             result: ApplyResult, unreadable: Mapping[str, str]) -> _Prepared:
    """`unreadable`: the fields of this entity the user may not read (desktop.visibility):
    a masked value is stored as it came (it is not a valid phone or number), a hidden one
    (the server sends none) is never stored."""
    ent = store.repo(name).entity
    # field name -> its checker, or _SKIP: one lookup per value (a first sync checks
    # millions of them)
    checks: dict[str, Any] = {f: _as_is for f, how in unreadable.items() if how == MASKED}
    checks.update((f, _SKIP) for f, how in unreadable.items() if how == HIDDEN)
    top = ""
    prep = _Prepared(name, [], {})
    for record_id, fields in items:
        incoming: dict[str, tuple[Any, str]] = {}
        try:
            for fname, fw in fields.items():
                check = checks.get(fname)
                if check is None:
                    # a field from a newer schema is skipped: keep going with the rest
                    check = checks[fname] = (_validator(ent, fname)
                                             if fname == DELETED or ent.has_field(fname)
                                             else _SKIP)
                if check is _SKIP:
                    continue
                stamp = fw["hlc"]
                incoming[fname] = (check(fw["value"]), stamp)
                if stamp > top:
                    top = stamp
        except ValidationError as exc:
            result.skipped.append(f"{name}/{record_id}: {exc}")
            continue
        prep.checked.append((record_id, incoming, fields))
    prep.top = top
    if len(prep.checked) >= DEFER_INDEX_MIN:  # a bulk page: most records are new here
        known = {r[0] for r in store.conn.execute(
            f'SELECT id FROM "{name}" WHERE id IN (SELECT value FROM json_each(?))',
            (json.dumps([rid for rid, _, _ in prep.checked]),))}
        for record_id, incoming, _fields in prep.checked:
            if record_id not in known:
                prep.new_rows[record_id] = _new_row(ent, record_id, incoming)
    return prep


def _new_row(ent: Entity, record_id: str, incoming: dict[str, tuple[Any, str]]
             ) -> tuple[tuple[str, ...], list[Any], bool]:
    """(columns, insert row with rid and times left as None, deleted) for a new record.
    The row: rid, id, the columns, deleted, created_at, updated_at, _clocks and, on the
    entities that keep it, first_write_at (None without stamps: set from created_at)."""
    cols = tuple(k for k in incoming if k != DELETED)
    deleted = bool(incoming.get(DELETED, (False, ""))[0])
    clocks = {k: s for k, (_, s) in incoming.items()}
    row = [None, record_id, *(_column(ent, c, incoming[c][0]) for c in cols),
           int(deleted), None, None, _clocks_json(clocks)]
    if ent.name in FIRST_WRITE_ENTITIES:
        row.append(oldest_ms(clocks.values()))
    return cols, row, deleted


def _apply_entity(store: Store, w: Any, prep: _Prepared, mine: _Mine, result: ApplyResult,
                  may_defer: bool = False) -> None:
    """Apply the checked changes of one entity in the write transaction. `may_defer`: a
    bulk of new records into an empty table leaves its heavy indexes to
    `bulkindex.restore` (a page of a pull, whose engine restores them once caught up)."""
    name = prep.name
    repo = store.repo(name)
    conn = w.conn
    rows = {r["id"]: r for r in conn.execute(
        f'SELECT * FROM "{name}" WHERE id IN (SELECT value FROM json_each(?))',
        (json.dumps([rid for rid, _, _ in prep.checked]),))}
    fresh: list[tuple[str, dict[str, tuple[Any, str]]]] = []
    for record_id, incoming, fields in prep.checked:
        row = rows.get(record_id)
        if row is None:
            fresh.append((record_id, incoming))
        else:
            overwrote = {k: overwritten_stamps(fw[OVERWROTE])
                         for k, fw in fields.items() if OVERWROTE in fw}
            _merge_into(store, w, repo, row, incoming, mine.get((name, record_id)), overwrote,
                        result)
    if fresh:
        _insert_new(store, w, repo, fresh, prep.new_rows, result, may_defer)


def _insert_new(store: Store, w: Any, repo: Any,
                fresh: list[tuple[str, dict[str, tuple[Any, str]]]],
                new_rows: dict[str, tuple[tuple[str, ...], list[Any], bool]],
                result: ApplyResult, may_defer: bool = False) -> None:
    """Records this device has never seen: batched inserts with rids assigned here so
    the search documents can be written in the same batch. `new_rows`: their insert
    rows as prepared before the transaction (the rest are made here)."""
    ent = repo.entity
    name = ent.name
    conn = w.conn
    next_rid = int(conn.execute(f'SELECT coalesce(max(rid), 0) FROM "{name}"').fetchone()[0]) + 1
    if (may_defer and next_rid == 1 and len(fresh) >= DEFER_INDEX_MIN
            and name in bulkindex.HEAVY):
        bulkindex.defer(conn, name)  # built once from the whole table after the pull
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    docs: list[tuple[Any, ...]] = []
    # A big batch (a first sync) leaves its search documents to the index builder, like a
    # bulk import: the records are findable by name at once (desktop.store.search) and by
    # pinyin and phone once the builder's process, beside the pull, has built them.
    defer = len(fresh) >= DEFER_INDEX_MIN and repo.searchable
    backlog: list[tuple[int]] = []
    now = w.now
    first = name in FIRST_WRITE_ENTITIES  # the rows end with first_write_at
    for record_id, incoming in fresh:
        made = new_rows.get(record_id)
        cols, row, deleted = made if made is not None else _new_row(ent, record_id, incoming)
        rid = next_rid
        next_rid += 1
        row[0] = rid
        at = len(cols) + 3  # created_at, then updated_at
        row[at] = row[at + 1] = now
        if first and row[-1] is None:
            row[-1] = iso_ms(now)
        groups.setdefault(cols, []).append(row)
        if deleted:
            continue
        if defer:
            backlog.append((repo.search_rowid(rid),))
            continue
        doc = build_doc(name, {k: v for k, (v, _) in incoming.items()})
        if doc is not None:
            docs.append((repo.search_rowid(rid), *doc))
    for cols, params in groups.items():
        names = "".join(f'"{c}", ' for c in cols)
        marks = ", ".join("?" * (len(cols) + 6 + first))
        conn.executemany(
            f'INSERT INTO "{name}" (rid, id, {names}deleted, created_at, updated_at, _clocks'
            f"{', ' + FIRST_WRITE if first else ''}) VALUES ({marks})", params)
    insert_docs(conn, docs)
    if backlog:
        conn.executemany("INSERT INTO search_backlog (rowid) VALUES (?)", backlog)
        result.deferred += len(backlog)
    result.applied += len(fresh)
    w.changed(name, None if len(fresh) > 1 else fresh[0][0])


def _column(ent: Entity, name: str, value: Any) -> Any:
    if value is None or type(value) in (str, int, float):
        return value
    return to_column(ent.field(name).type, value)


def _clocks_json(clocks: Mapping[str, str]) -> str:
    """The `_clocks` column for {field name: HLC stamp} (orjson: several times quicker
    than json.dumps, and its compact form reads back the same)."""
    return orjson.dumps(clocks).decode()


def _merge_into(store: Store, w: Any, repo: Any, row: Any, incoming: dict[str, tuple[Any, str]],
                mine: dict[str, str], overwrote: dict[str, tuple[str, ...]],
                result: ApplyResult) -> None:
    ent = repo.entity
    own = "-" + store.device_id  # this device's stamps end with its id (desktop.store.hlc)
    name, record_id = ent.name, row["id"]
    conn = w.conn
    clocks = store.journal.before_change(conn, ent, row)
    before = dict(clocks)
    old = from_row(ent, row)
    diff: dict[str, Any] = {}
    for fname, (value, stamp) in incoming.items():
        local_stamp = clocks.get(fname)
        if not wins(stamp, local_stamp):
            continue
        # A concurrent conflict: the local value is this device's own write and the
        # winner differs from it and was written without seeing it: the server had not
        # merged ours yet (still in the journal, or superseded on push), or the winner
        # overwrote ours on the server after we pushed first (OVERWROTE lists our stamp).
        concurrent = local_stamp is not None and (
            mine.get(fname) == local_stamp
            or (local_stamp in overwrote.get(fname, ()) and local_stamp.endswith(own)))
        if concurrent and old.get(fname) != value:
            conn.execute(
                "INSERT INTO conflicts (entity, record_id, field, local_value, local_hlc, "
                "remote_value, remote_hlc, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, record_id, fname, json.dumps(old.get(fname), ensure_ascii=False),
                 local_stamp, json.dumps(value, ensure_ascii=False), stamp, w.now))
            result.conflicts += 1
            w.changed("conflicts", None)
        clocks[fname] = stamp
        if old.get(fname) != value:
            diff[fname] = value
    if not diff and clocks == before:
        return
    sets = "".join(f'"{k}" = ?, ' for k in diff)
    first: list[Any] = []  # desktop.store.firstwrite: the oldest stamp the row holds
    if name in FIRST_WRITE_ENTITIES:
        oldest = oldest_ms(clocks.values())
        if oldest is not None and oldest != row[FIRST_WRITE]:
            sets += f"{FIRST_WRITE} = ?, "
            first = [oldest]
    conn.execute(f'UPDATE "{name}" SET {sets}updated_at = ?, _clocks = ? WHERE rid = ?',
                 [*(to_column(field_type(ent, k), v) for k, v in diff.items()), *first, w.now,
                  orjson.dumps(clocks).decode(), row["rid"]])
    repo._reindex(conn, row["rid"], old, {**old, **diff})
    result.applied += 1
    w.changed(name, record_id)


def open_conflicts(store: Store) -> list[Conflict]:
    rows = store.conn.execute(
        "SELECT * FROM conflicts WHERE resolved_at IS NULL ORDER BY id").fetchall()
    return [Conflict(r["id"], r["entity"], r["record_id"], r["field"],
                     json.loads(r["local_value"]), r["local_hlc"],
                     json.loads(r["remote_value"]), r["remote_hlc"], r["detected_at"])
            for r in rows]


def resolve_conflict(store: Store, conflict_id: int, keep: str) -> None:
    """keep="mine": write the local value again as a new edit; keep="theirs": accept."""
    if keep not in ("mine", "theirs"):
        raise ValidationError("keep must be 'mine' or 'theirs'")
    with store.write() as w:
        row = w.conn.execute("SELECT * FROM conflicts WHERE id = ?", (conflict_id,)).fetchone()
        if row is None or row["resolved_at"]:
            return
        if keep == "mine":
            value = json.loads(row["local_value"])
            repo = store.repo(row["entity"])
            if row["field"] == DELETED:
                (repo.delete if value else repo.restore)(row["record_id"])
            else:
                repo.update(row["record_id"], {row["field"]: value})
        w.conn.execute("UPDATE conflicts SET resolved_at = ?, resolution = ? WHERE id = ?",
                       (w.now, keep, conflict_id))
        w.changed("conflicts", None)
