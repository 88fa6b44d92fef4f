"""Push: apply journal entries at most once, merge per field, stamp versions.

One push request is one database transaction:
1. Take the version counter: on PostgreSQL `UPDATE counter ... RETURNING` row-locks the
   single counter row until commit, so pushes commit one after another and versions are
   handed out in commit order; a pull can therefore never miss a change that commits
   later with a lower version. On SQLite the write lock (BEGIN IMMEDIATE) does the same.
   Holding the lock from the start also makes the at-most-once check exact: a
   concurrent duplicate waits, then sees the first one's `processed` row.
2. Read, in bulk, the `processed` rows of this device's seqs and the touched records.
3. Validate, check access and merge every entry in memory; an entry is applied whole
   or rejected whole (with a reason).
4. Write records, processed rows and the counter in bulk statements (see `_write`), and
   `pg_notify` the new version (delivered by PostgreSQL only when the commit succeeds).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.errors import ValidationError
from desktop.schema import (
    DELETED,
    ENTITIES,
    ERASED_TEXT,
    SHARED_OWNER,
    Role,
    coerce_value,
    erasure_blanks,
    install_field_defs,
    is_erased_value,
    is_hlc,
    is_server_only,
    may_write,
    validate_value,
)
from desktop.sync.protocol import ChangeEntry, EntryResult, PushResponse
from desktop.visibility import Policy, Rule, refusal
from server import audit, leads, redirect, visibility
from server import fields as fielddefs
from server import tables as t
from server.access import NO_ACCESS, user_exists, visible_owners
from server.auth import Principal
from server.db import is_sqlite, write_tx
from server.errors import now_iso
from server.merge import SERVER_STAMP, FieldMap, merge_fields

RECORD_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_SEQ = 2**63 - 1
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
ERASURE = "erasure"
# Records whose changes the audit log notes (field names only, never values): the rules
# and settings everyone shares, and each export a device made.
AUDITED = {"pipeline_rule": "rule_changed", "dedupe_rule": "rule_changed",
           "field_def": "rule_changed", "export_setting": "rule_changed",
           "lead_rule": "rule_changed", "lead_rep": "rule_changed", "lead_policy": "rule_changed",
           "followup_rule": "rule_changed",
           "export_log": "export"}
# The push route's OpenAPI text: what a refusal looks like, and the rules only admins set.
ADMIN_RULES = tuple(sorted(name for name, ent in ENTITIES.items() if not ent.owned))
PUSH_DESCRIPTION = (
    "Apply journal entries, each at most once per (device, seq). An entry the server "
    "refuses comes back `rejected` with a `reason`, and the rest of the push applies. The "
    "records every device reads and only an admin writes (the rules an admin sets) are "
    + ", ".join(f"`{n}`" for n in ADMIN_RULES) + ": an entry of one of them from another "
    "role is rejected with the reason `Only an admin may change <record type>s.` "
    "(`followup_rule`: what counts as a valid follow-up, read by every device's reminders "
    "and reports and by `/v1/reports`).")
ERASED_REASON = "This person's data was erased on request; it cannot be written again."
NOTIFY_CHANNEL = "fieldcrm_version"


def _encode(value: Any) -> str:
    """Compact UTF-8 JSON text. orjson: JSON is most of a push's CPU time (record
    documents are decoded and re-encoded per entry), and it is ~5x faster than json."""
    return orjson.dumps(value).decode()

# Test hook: when this env var names an existing file, the server deletes the file and
# dies right after committing a push, before replying ("server restart between commit
# and reply"). Never set in production.
CRASH_AFTER_COMMIT_ENV = "FIELDCRM_FAULT_CRASH_AFTER_COMMIT"


@dataclass(slots=True)
class Entry:
    """A `ChangeEntry` as the push path uses it: fields as {name: (value, hlc, base)}."""

    device_id: str
    seq: int
    entity: str
    record_id: str
    fields: dict[str, tuple[Any, str, Any]]

    @classmethod
    def from_model(cls, e: ChangeEntry) -> Entry:
        return cls(e.device_id, e.seq, e.entity, e.record_id,
                   {k: (w.value, w.hlc, w.base) for k, w in e.fields.items()})


class MalformedPush(ValueError):
    """The push body does not have the PushRequest shape."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def parse_push(body: bytes) -> list[Entry]:
    """Parse a PushRequest body. Checks the same shape pydantic would (strict types),
    at several times pydantic's speed; raises MalformedPush otherwise."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedPush("The body is not JSON.", ("body",)) from None
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise MalformedPush("'entries' must be a list.", ("body", "entries"))
    out: list[Entry] = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise MalformedPush("An entry must be an object.", ("body", "entries", i))
        dev, seq, ent, rec, fields = (e.get("device_id"), e.get("seq"), e.get("entity"),
                                      e.get("record_id"), e.get("fields"))
        if type(seq) is float and seq > MAX_SEQ and seq.is_integer():
            seq = int(seq)  # orjson reads integers past 64 bits as floats; rejected below, alone
        if not (isinstance(dev, str) and isinstance(ent, str) and isinstance(rec, str)
                and type(seq) is int and seq >= 1 and isinstance(fields, dict)):
            raise MalformedPush("An entry needs device_id, entity, record_id (text), seq "
                                "(integer >= 1) and fields (object).", ("body", "entries", i))
        writes: dict[str, tuple[Any, str, Any]] = {}
        for name, w in fields.items():
            stamp = w.get("hlc") if isinstance(w, dict) else None
            if not isinstance(stamp, str):
                raise MalformedPush("A field write needs 'value' and 'hlc'.",
                                    ("body", "entries", i, "fields", name))
            writes[name] = (w.get("value"), stamp, w.get("base"))
        out.append(Entry(dev, seq, ent, rec, writes))
    return out


@dataclass
class _Rec:
    fields: FieldMap
    owner: str
    created_by: str
    version: int
    origin_device: str | None
    exists: bool
    dirty: bool = False


@dataclass
class _Ctx:
    conn: sa.Connection
    p: Principal
    _visible: frozenset[str] | None = None
    _visible_loaded: bool = False
    _users: dict[str, bool] = field(default_factory=dict)
    _defs: dict[str, dict[str, Any]] | None = None
    _rules: list[Rule] | None = None
    _policy: Policy = field(default_factory=dict)
    as_server: bool = False  # the server's own write (server.integrations): server-only fields

    def refusal(self, entity: str, name: str) -> str:
        """Why a field of an applied entry was not saved."""
        ent = ENTITIES.get(entity)
        f = ent.field(name) if ent is not None and ent.has_field(name) else None
        if is_server_only(f):
            assert f is not None
            return (f"{f.label_en} ({name}) was not saved: only the server sets it "
                    "(from other systems, through the API for systems).")
        return refusal(entity, name, self._rules or ())

    def unreadable(self, entity: str) -> dict[str, str]:
        """The fields of `entity` this user may not read, so may not write (read once per
        push; server.visibility)."""
        if self._rules is None:
            self._rules, self._policy = visibility.policy_of(self.conn, self.p)
        return self._policy.get(entity, {})

    @property
    def visible(self) -> frozenset[str] | None:
        if not self._visible_loaded:
            self._visible = visible_owners(self.conn, self.p)
            self._visible_loaded = True
        return self._visible

    def sees(self, owner: str) -> bool:
        v = self.visible
        return v is None or owner == SHARED_OWNER or owner in v

    @property
    def definitions(self) -> dict[str, dict[str, Any]]:
        """The custom field definitions (server.fields), read once per push."""
        if self._defs is None:
            self._defs = fielddefs.load(self.conn)
        return self._defs

    def user_exists(self, name: str) -> bool:
        if name not in self._users:
            self._users[name] = user_exists(self.conn, name)
        return self._users[name]


class _Rejected(Exception):  # control flow only, never leaves this module
    pass


def _select_keys(conn: sa.Connection, table: str, columns: str, scope: tuple[str, Any], key: str,
                 keys: Sequence[Any], pg_type: str) -> Iterable[tuple[Any, ...]]:
    """`columns` of the rows of `table` whose `scope` column equals its value and whose
    `key` column is one of `keys`, as plain DBAPI rows, with one parameter for all keys
    (SQLAlchemy's expanding IN compiled a statement with a placeholder per key).

    PostgreSQL: an unnest-ed binary array, and one primary-key probe per key through a
    LATERAL subquery that OFFSET 0 keeps the planner from flattening. Without table
    statistics (autovacuum off, or a table just loaded) both `= ANY` and a plain join were
    planned as a scan of every row of the entity: 3-10x slower. SQLite: a JSON list.
    """
    if not keys:
        return []
    scope_col, scope_value = scope
    if is_sqlite(conn.engine):
        return conn.exec_driver_sql(
            f"SELECT {columns} FROM {table} WHERE {scope_col} = ? "
            f"AND {key} IN (SELECT value FROM json_each(?))",
            (scope_value, orjson.dumps(list(keys)).decode())).fetchall()
    return conn.exec_driver_sql(
        f"SELECT found.* FROM unnest(%b::{pg_type}[]) AS wanted(k) CROSS JOIN LATERAL "
        f"(SELECT {columns} FROM {table} WHERE {scope_col} = %s "
        f"AND {key} = wanted.k OFFSET 0) AS found",
        (list(keys), scope_value)).fetchall()


def _printable(text: str) -> str:
    """Reasons quote client input; keep them storable (PostgreSQL text has no NUL)."""
    return CONTROL_RE.sub("?", text)


def _effective_owner(fields: FieldMap, created_by: str) -> str:
    owner = fields.get("owner", {}).get("value")
    return owner if isinstance(owner, str) and owner else created_by


def _apply(ctx: _Ctx, e: Entry, rec: _Rec | None
           ) -> tuple[_Rec, bool, list[str], list[str]]:
    """Validate and merge one entry. Raises _Rejected(reason); returns the new record
    state, whether it changed, the superseded fields and the refused ones (fields its
    user may not read: left out, the rest applies)."""
    ent = ENTITIES.get(e.entity)
    if ent is None:
        raise _Rejected(f"Unknown record type '{e.entity[:40]}'.")
    if not RECORD_ID_RE.match(e.record_id):
        raise _Rejected("The record id is not valid.")
    if not ent.owned and ctx.p.role != Role.ADMIN:
        raise _Rejected(f"Only an admin may change {ent.label_en.lower()}s.")
    if rec is not None and not ctx.sees(rec.owner):
        raise _Rejected(NO_ACCESS)
    writes: dict[str, tuple[Any, str, str | None]] = {}
    kept: list[dict[str, Any]] = []
    hidden = ctx.unreadable(e.entity)
    refused = [name for name in e.fields if name in hidden]
    for name, (raw, stamp, base) in e.fields.items():
        if name in hidden:
            continue
        if not ctx.as_server and is_server_only(ent.field(name) if ent.has_field(name)
                                                else None):
            # Left out like a field its writer may not read: the rest of the entry applies
            # and the device gets the server's value back (no device ever writes it).
            refused.append(name)
            continue
        if not is_hlc(stamp) or not (base is None or is_hlc(base)):
            raise _Rejected(f"The change to '{name[:40]}' has no valid clock stamp.")
        if name != DELETED and not ent.has_field(name):
            raise _Rejected(f"{ent.label_en} has no field '{name[:40]}'.")
        f = ent.field(name) if name != DELETED else None
        if not may_write(f, ctx.p.role) and not (ctx.as_server and is_server_only(f)):
            roles = ", ".join(r.value for r in (f.writable_by or ())) if f else ""
            label = f.label_en if f else name
            raise _Rejected(f"Only {roles} may change {label}.")
        try:
            value = validate_value(ent, name, raw)
        except ValidationError as exc:
            if f is None or not f.type_change:
                raise _Rejected(exc.message) from None
            # A custom field whose type changed: a value of its old type (from a device
            # that was offline) is converted, or kept aside with the reason, never lost.
            ok, value, reason = coerce_value(f, raw)
            if not ok:
                kept.append({"field": name, "value": raw, "hlc": stamp, "to": f.type.value,
                             "reason": reason, "at": now_iso()})
        if name == "owner" and value is not None and not (
                ctx.user_exists(value) and ctx.sees(value)):
            raise _Rejected("Owner must be you or a member of your team.")
        writes[name] = (value, stamp, base)
    if rec is None:
        initial: FieldMap = {}
        if ent.has_field("owner") and "owner" not in writes and (
                ent.field("owner").writable_by is None):  # else the server decides (leads)
            initial["owner"] = {"value": ctx.p.username, "hlc": SERVER_STAMP}
        rec = _Rec(initial, ctx.p.username, ctx.p.username, 0, None, exists=False)
    merged, changed, superseded = merge_fields(rec.fields, writes)
    if kept:
        merged = fielddefs.with_kept(merged, kept)
        changed = True
    if changed and e.entity == fielddefs.ENTITY:  # a custom field definition (server.fields)
        try:
            fielddefs.check_push(ctx.definitions, e.record_id, rec.fields or None, merged)
        except ValidationError as exc:
            raise _Rejected(exc.message) from None
        install_field_defs(ctx.definitions.values())
        fielddefs.forget_installed()
    owner = _effective_owner(merged, rec.created_by) if ent.owned else SHARED_OWNER
    if e.entity == leads.ENTITY and not merged.get("owner", {}).get("value"):
        owner = SHARED_OWNER  # a lead without an owner is in the pool (server.leads)
    if changed and not ctx.sees(owner):
        raise _Rejected("Owner must be you or a member of your team.")
    new = _Rec(merged, owner, rec.created_by, rec.version, rec.origin_device, rec.exists, rec.dirty)
    return new, changed, superseded, refused


def _apply_moved(ctx: _Ctx, e: Entry, moved: tuple[str, dict[str, tuple[Any, str, None]]],
                 recs: dict[tuple[str, str], _Rec], version: int, device_id: str) -> int:
    """Apply an entry's writes to the survivor of the record it wrote to (server.redirect)
    as part of the entry; a survivor the pusher may not write keeps them off. Returns
    the version counter."""
    survivor, writes = moved
    key = (e.entity, survivor)
    if key not in recs:  # never pushed here: nothing to land on
        return version
    try:
        rec, changed, _, _ = _apply(ctx, Entry(e.device_id, e.seq, e.entity, survivor, writes),
                                    recs.get(key))
    except _Rejected:
        return version
    if changed:
        version += 1
        rec.version = version
        rec.origin_device = device_id
        rec.dirty = True
        recs[key] = rec
    return version


def _writes_erased(e: Entry, recs: dict[tuple[str, str], _Rec]) -> bool:
    """Whether `e` writes a personal value to a contact whose person was erased (an
    `erasure` record with its id exists): such writes are refused for good."""
    if e.entity not in ("contact", "lead") or (ERASURE, e.record_id) not in recs:
        return False
    blanks = erasure_blanks(e.entity)
    return any(name in blanks and not is_erased_value(value, blanks[name])
               for name, (value, _, _) in e.fields.items())


def _lock_counter(conn: sa.Connection) -> int:
    if is_sqlite(conn.engine):
        return int(conn.execute(
            sa.select(t.counter.c.version).where(t.counter.c.id == 1)).scalar_one())
    return int(conn.execute(sa.text(
        "UPDATE counter SET version = version WHERE id = 1 RETURNING version")).scalar_one())


def _attachments(fields: FieldMap) -> set[str]:
    value = fields.get("attachments", {}).get("value")
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _personal_texts(entity: str, fields: FieldMap) -> set[str]:
    """A person's identifying values as text (for finding them quoted elsewhere)."""
    out: set[str] = set()
    for name in erasure_blanks(entity):
        value = fields.get(name, {}).get("value")
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and len(v) >= 2 and v != ERASED_TEXT:
                out.add(v)
                if v.startswith("+86"):
                    out.add(v[3:])  # a phone as typed, before normalisation
    return out


def apply_push(engine: sa.Engine, p: Principal, given: Sequence[Entry | ChangeEntry],
               publish: Callable[[int], None],
               erased_files: Callable[[set[str]], object] | None = None,
               *, as_server: bool = False) -> PushResponse:
    """Apply one push in one transaction (see the module docstring); `publish` is called
    with the new server version after the commit, `erased_files` with the blobs that
    activities of a person erased in this push referred to (server.blobs removes those
    no record refers to any more). `as_server`: the server's own write, which may set
    server-only fields (desktop.schema.SERVER_ONLY); a device's push never is."""
    entries = [e if isinstance(e, Entry) else Entry.from_model(e) for e in given]
    results: list[EntryResult | None] = [None] * len(entries)
    with write_tx(engine) as conn:
        base = version = _lock_counter(conn)
        fielddefs.ensure_installed(conn)  # the custom fields of the moment (server.fields)
        ctx = _Ctx(conn, p, as_server=as_server)
        mine = [i for i, e in enumerate(entries) if e.device_id == p.device_id and e.seq <= MAX_SEQ]
        prior = {int(row[0]): row for row in _select_keys(
            conn, "processed", "seq, status, reason, superseded", ("device_id", p.device_id), "seq",
            sorted({entries[i].seq for i in mine}), "bigint")}
        by_entity: dict[str, set[str]] = {}
        for i in mine:
            if entries[i].entity in ENTITIES and RECORD_ID_RE.match(entries[i].record_id):
                by_entity.setdefault(entries[i].entity, set()).add(entries[i].record_id)
                if entries[i].entity in ("contact", "lead"):  # erased? (_writes_erased)
                    by_entity.setdefault(ERASURE, set()).add(entries[i].record_id)
        # Merged-away records written to or referred to: their survivors (server.redirect)
        merged = redirect.load(conn, [entries[i] for i in mine])
        for (entity, _), into in merged.items():
            by_entity.setdefault(entity, set()).add(into)
        merged_rows: list[tuple[str, str, str]] = []
        recs: dict[tuple[str, str], _Rec] = {}
        for entity, id_set in sorted(by_entity.items()):
            # entity first: the lookup walks the (entity, record_id) primary key.
            for rid, owner, created_by, fields, ver, origin in _select_keys(
                    conn, "records", "record_id, owner, created_by, fields, version, origin_device",
                    ("entity", entity), "record_id", sorted(id_set), "text"):
                recs[(entity, rid)] = _Rec(orjson.loads(fields), owner, created_by, int(ver),
                                           origin, exists=True)
        files_before = {key: _attachments(rec.fields) for key, rec in recs.items()
                        if key[0] == "activity"}
        texts_before = {key[1]: _personal_texts(key[0], rec.fields)
                        for key, rec in recs.items() if key[0] in ("contact", "lead")}
        erased_now: set[str] = set()
        new_processed: list[tuple[Any, ...]] = []
        done: dict[int, EntryResult] = {}
        now = now_iso()
        for i, e in enumerate(entries):
            if e.device_id != p.device_id or e.seq > MAX_SEQ:
                # Not recorded: the (device, seq) slot belongs to another device.
                results[i] = EntryResult(seq=e.seq, status="rejected",
                                         reason="This entry was written by another device.")
                continue
            first = done.get(e.seq)
            if first is not None or e.seq in prior:
                if first is None:
                    _, status, reason, superseded = prior[e.seq]
                    first = EntryResult(seq=e.seq, status=status, reason=reason,
                                        superseded=orjson.loads(superseded))
                results[i] = EntryResult(seq=e.seq, status="duplicate", reason=first.reason,
                                         superseded=first.superseded,
                                         original_status="rejected" if first.status == "rejected"
                                         else "applied")
                continue
            key = (e.entity, e.record_id)
            if merged:
                redirect.rewrite_references(e, merged)
            try:
                if _writes_erased(e, recs):
                    raise _Rejected(ERASED_REASON)
                rec, changed, superseded, refused = _apply(ctx, e, recs.get(key))
            except _Rejected as rej:
                res = EntryResult(seq=e.seq, status="rejected", reason=_printable(str(rej)))
                entry_version = None
            else:
                if changed or (refused and rec.exists):
                    # A refused field: the record is sent again, so the pushing device,
                    # which drops what it wrote there, gets its masked copy back.
                    version += 1
                    rec.version = version
                    rec.origin_device = p.device_id
                    rec.dirty = True
                    recs[key] = rec
                res = EntryResult(seq=e.seq, status="applied", superseded=superseded,
                                  refused=refused, reason=" ".join(
                                      ctx.refusal(e.entity, n) for n in refused) or None)
                if changed and e.entity == ERASURE:
                    erased_now.add(e.record_id)
                    kind = (rec.fields.get("entity") or {}).get("value") or "contact"
                    audit.record(conn, "person_erased", actor=p.username,
                                 target=f"{kind}:{e.record_id}", detail={"device": p.device_id})
                elif changed and e.entity in AUDITED:
                    audit.record(conn, AUDITED[e.entity], actor=p.username,
                                 target=f"{e.entity}:{e.record_id}",
                                 detail={"device": p.device_id, "fields": sorted(e.fields)})
                entry_version = version if changed else None
                row = redirect.note(e, merged)
                if row is not None:
                    merged_rows.append(row)
                moved = redirect.moved_fields(e, merged) if merged else None
                if moved is not None:
                    version = _apply_moved(ctx, e, moved, recs, version, p.device_id)
            done[e.seq] = res
            results[i] = res
            new_processed.append((p.device_id, e.seq, res.status, res.reason,
                                  _encode(res.superseded) if res.superseded else "[]",
                                  entry_version, now))
        orphans = {sha for key, rec in recs.items() if key[0] == "activity"
                   and rec.fields.get("contact_id", {}).get("value") in erased_now
                   for sha in files_before.get(key, set())} if erased_now else set()
        _write(conn, recs, new_processed, now)
        if erased_now:  # a pool lead's contact details kept aside (server.leads)
            conn.execute(t.lead_hidden.delete().where(t.lead_hidden.c.record_id.in_(erased_now)))
        for rid in erased_now:  # reasons of refused entries may quote the person's values
            for text in texts_before.get(rid, ()):
                conn.execute(t.processed.update().where(t.processed.c.reason.contains(
                    text, autoescape=True)).values(reason=ERASED_REASON))
        redirect.save(conn, merged_rows)
        ids_moved = redirect.move_external_ids(conn, merged_rows) if merged_rows else []
        # Leads pushed without an owner, and claims: the server decides (server.leads)
        version = leads.after_push(conn, p.username, [
            (entity, rid, rec.exists) for (entity, rid), rec in recs.items()
            if rec.dirty and entity in leads.ENTITIES_DECIDED], version)
        if version != base:
            conn.execute(t.counter.update().where(t.counter.c.id == 1).values(version=version))
            if not is_sqlite(engine):
                conn.execute(sa.text("SELECT pg_notify(:ch, :v)"),
                             {"ch": NOTIFY_CHANNEL, "v": str(version)})
        conn.execute(t.devices.update().where(t.devices.c.id == p.device_id).values(
            last_seen_at=now))
    _maybe_crash()
    if version != base:
        publish(version)
    if orphans and erased_files is not None:
        erased_files(orphans)
    if ids_moved:
        # The survivors' `external_ids` field follows the table, as after a system's write
        # (a crash before this leaves the table right; `integration copy-ids` repairs the
        # field). Imported here: server.integrations writes through apply_push.
        from server.integrations import copy_external_ids

        for key in ids_moved:
            copy_external_ids(engine, publish, only=key)
    return PushResponse(results=[r for r in results if r is not None], version=version)


def _write(conn: sa.Connection, recs: dict[tuple[str, str], _Rec],
           new_processed: list[tuple[Any, ...]], now: str) -> None:
    """Bulk writes as plain DBAPI statements, skipping SQLAlchemy's per-row parameter
    processing: executemany on SQLite (in-process, no round trips); on PostgreSQL one
    statement per table over `unnest`ed arrays, instead of a statement per row. Arrays go in
    psycopg's binary format (%b): its text format quotes each string in Python, ~15x slower."""
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for (entity, record_id), rec in recs.items():
        if not rec.dirty:
            continue
        if rec.exists:
            updates.append((rec.owner, _encode(rec.fields), rec.version, rec.origin_device, now,
                            entity, record_id))
        else:
            inserts.append((entity, record_id, rec.owner, rec.created_by, _encode(rec.fields),
                            rec.version, rec.origin_device, now))
    insert_records = ("INSERT INTO records (entity, record_id, owner, created_by, fields, version, "
                      "origin_device, updated_at)")
    insert_processed = ("INSERT INTO processed (device_id, seq, status, reason, superseded, "
                        "version, created_at)")
    if is_sqlite(conn.engine):
        if inserts:
            conn.exec_driver_sql(f"{insert_records} VALUES ({', '.join('?' * 8)})", inserts)
        if updates:
            conn.exec_driver_sql(
                "UPDATE records SET owner = ?, fields = ?, version = ?, origin_device = ?, "
                "updated_at = ? WHERE entity = ? AND record_id = ?", updates)
        if new_processed:
            conn.exec_driver_sql(f"{insert_processed} VALUES ({', '.join('?' * 7)})", new_processed)
        return
    if inserts:
        conn.exec_driver_sql(
            f"{insert_records} SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
            "%b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[])", _columns(inserts))
    if updates:
        conn.exec_driver_sql(
            "UPDATE records AS r SET owner = v.owner, fields = v.fields, version = v.version, "
            "origin_device = v.origin_device, updated_at = v.updated_at "
            "FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[], "
            "%b::text[], %b::text[]) "
            "AS v(owner, fields, version, origin_device, updated_at, entity, record_id) "
            "WHERE r.entity = v.entity AND r.record_id = v.record_id", _columns(updates))
    if new_processed:
        conn.exec_driver_sql(
            f"{insert_processed} SELECT * FROM unnest(%b::text[], %b::bigint[], %b::text[], "
            "%b::text[], %b::text[], %b::bigint[], %b::text[])", _columns(new_processed))


def _columns(rows: list[tuple[Any, ...]]) -> tuple[list[Any], ...]:
    """Row tuples as one list per column (the arrays `unnest` reads back as rows)."""
    return tuple(list(col) for col in zip(*rows, strict=True))


def _maybe_crash() -> None:
    trigger = os.environ.get(CRASH_AFTER_COMMIT_ENV)
    if trigger and Path(trigger).exists():
        Path(trigger).unlink()
        os._exit(70)
