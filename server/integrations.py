"""Other systems (an ERP, a service desk) as clients of the API for systems (issue 25).

Credentials: one per named system (`add`), its scopes (which entities, which fields it
may read, which it may write) and a rate limit. The secret is shown once and only its
sha256 is kept (it is 32 random bytes, so a fast hash is enough). `rotate` makes a new
secret and keeps the previous one valid for a grace period, so a system can switch
without downtime; `revoke` ends it at once (every call reads the credential's row).
Every call is written to the audit log (server.audit, action `api_call`).

Records: the same `records` rows, merge rule and access checks as devices. A write is a
one-entry push (`server.push.apply_push`) by the system's own device id, so only the
fields it names are stamped and merged: an ERP that sets a deal's `collected_amount`
does not overwrite a rep's new phone number. Its push sequence number is the id of the
write's row in `integration_writes`, which also keeps its idempotency key, the hash of
its body and its first answer: the same key and body again get that answer (and a
retry after a crash re-applies the same (device, seq), which the push path's
at-most-once table turns into a no-op); the same key with another body is refused.

Change feed: the records of one entity changed after a cursor, in version order, up to
the version read in the same snapshot (versions are handed out in commit order, see
server.push), so a system that follows `next_cursor` misses nothing and sees a record
once per page walk at its newest state; deletions are records with `deleted: true`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.errors import FieldCRMError, ValidationError
from desktop.schema import (
    DELETED,
    ENTITIES,
    EXTERNAL_IDS,
    Role,
    external_ids_value,
    is_server_only,
    validate_value,
)
from server import audit, redirect
from server import tables as t
from server.auth import Principal
from server.db import is_sqlite, read_tx, write_tx
from server.errors import now_iso
from server.push import Entry, _select_keys, apply_push

log = logging.getLogger(__name__)

API_ENTITIES = ("account", "contact", "deal", "activity", "contract", "lead", "payment")
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
EXTERNAL_ID_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
IDEM_KEY_RE = re.compile(r"^[!-~]{1,200}$")
KEY_PREFIX = "fci_"
DEFAULT_PER_MINUTE = 600
DEFAULT_GRACE_HOURS = 24.0
MAX_INT = 2**63 - 1
ALL = "*"


class IntegrationError(FieldCRMError):
    """The integration command could not be carried out."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ApiRefused(FieldCRMError):
    """A call of the API for systems that is refused (status and code say why)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Scopes:
    """entity -> fields a system may read / write; {"*"} is every field (and, for
    writes, creating and deleting records)."""

    read: dict[str, frozenset[str]]
    write: dict[str, frozenset[str]]

    @classmethod
    def parse(cls, read: list[str], write: list[str]) -> Scopes:
        """From CLI forms `entity:field,field` or `entity:*`. Raises IntegrationError."""
        return cls(_parse_scope(read, "read"), _parse_scope(write, "write"))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Scopes:
        return cls({e: frozenset(f) for e, f in doc.get("read", {}).items()},
                   {e: frozenset(f) for e, f in doc.get("write", {}).items()})

    def as_json(self) -> dict[str, Any]:
        return {"read": {e: sorted(f) for e, f in sorted(self.read.items())},
                "write": {e: sorted(f) for e, f in sorted(self.write.items())}}

    @property
    def entities(self) -> set[str]:
        return set(self.read) | set(self.write)

    def may_read(self, entity: str, name: str) -> bool:
        f = self.read.get(entity, frozenset())
        return ALL in f or name in f

    def may_write(self, entity: str, name: str) -> bool:
        f = self.write.get(entity, frozenset())
        return ALL in f or name in f

    def may_create(self, entity: str) -> bool:
        return ALL in self.write.get(entity, frozenset())


def _parse_scope(items: list[str], kind: str) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for item in items:
        entity, _, names = item.partition(":")
        if entity not in API_ENTITIES:
            raise IntegrationError(f"--{kind} {item}: the entity must be one of "
                                   f"{', '.join(API_ENTITIES)}.", field=kind)
        fields = {n.strip() for n in (names or ALL).split(",") if n.strip()}
        ent = ENTITIES[entity]
        for name in fields - {ALL}:
            if not ent.has_field(name):
                raise IntegrationError(f"--{kind} {item}: {entity} has no field '{name}'.",
                                       field=kind)
        out.setdefault(entity, set()).update(fields)
    return {e: frozenset(f) for e, f in out.items()}


@dataclass(frozen=True)
class Credential:
    name: str
    scopes: Scopes
    per_minute: int

    @property
    def device_id(self) -> str:
        return f"system:{self.name}"

    @property
    def principal(self) -> Principal:
        """The push path's caller: every record, checked against the scopes first."""
        return Principal(user_id="", username=self.device_id, role=Role.ADMIN,
                         device_id=self.device_id, teams=())


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_key() -> tuple[str, str, str]:
    """(key id, secret, the whole key a system sends)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{KEY_PREFIX}{key_id}.{secret}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- administration
def add(engine: sa.Engine, name: str, scopes: Scopes,
        per_minute: int = DEFAULT_PER_MINUTE) -> dict[str, Any]:
    """A new credential; its key is in the answer and nowhere else. Raises
    IntegrationError (bad name, name taken, no scopes, rate not positive)."""
    if not NAME_RE.match(name):
        raise IntegrationError("A system name is 1-40 lowercase letters, digits, '_' or '-', "
                               "starting with a letter.", field="name")
    if not scopes.entities:
        raise IntegrationError("Give the system at least one --read or --write scope.",
                               field="scopes")
    if per_minute < 1:
        raise IntegrationError("--per-minute must be at least 1.", field="per_minute")
    key_id, secret, key = _new_key()
    with write_tx(engine) as conn:
        if conn.execute(sa.select(t.integrations.c.name).where(
                t.integrations.c.name == name)).first() is not None:
            raise IntegrationError(f"A system named '{name}' exists; rotate or revoke it.",
                                   field="name")
        conn.execute(t.integrations.insert().values(
            name=name, key_id=key_id, secret_hash=_hash(secret),
            scopes=json.dumps(scopes.as_json()), per_minute=per_minute, created_at=now_iso()))
        audit.record(conn, "integration_changed", actor=audit.CLI_ACTOR, target=f"system:{name}",
                     detail={"change": "added", **scopes.as_json(), "per_minute": per_minute})
    return {"name": name, "key": key, "per_minute": per_minute, **scopes.as_json()}


def rotate(engine: sa.Engine, name: str, grace_hours: float = DEFAULT_GRACE_HOURS,
           now: datetime | None = None) -> dict[str, Any]:
    """A new secret; the current one stays valid for `grace_hours`. Raises
    IntegrationError for an unknown or revoked system."""
    if not 0 <= grace_hours <= 24 * 30:
        raise IntegrationError("--grace-hours must be between 0 and 720.", field="grace_hours")
    moment = now or datetime.now(UTC)
    until = _iso(moment + timedelta(hours=grace_hours))
    _key_id, secret, _ = _new_key()
    with write_tx(engine) as conn:
        row = conn.execute(sa.select(t.integrations).where(
            t.integrations.c.name == name)).first()
        if row is None or row.revoked_at is not None:
            raise IntegrationError(f"No active system named '{name}'.", field="name")
        conn.execute(t.integrations.update().where(t.integrations.c.name == name).values(
            secret_hash=_hash(secret), old_secret_hash=row.secret_hash, old_valid_until=until,
            rotated_at=_iso(moment)))
        audit.record(conn, "integration_changed", actor=audit.CLI_ACTOR, target=f"system:{name}",
                     detail={"change": "rotated", "old_valid_until": until})
    return {"name": name, "key": f"{KEY_PREFIX}{row.key_id}.{secret}", "old_valid_until": until}


def revoke(engine: sa.Engine, name: str) -> dict[str, Any]:
    """End every secret of the system now. Raises IntegrationError for an unknown one."""
    with write_tx(engine) as conn:
        done = conn.execute(t.integrations.update().where(
            t.integrations.c.name == name, t.integrations.c.revoked_at.is_(None)).values(
            revoked_at=now_iso(), old_secret_hash=None, old_valid_until=None)).rowcount
        if not done:
            raise IntegrationError(f"No active system named '{name}'.", field="name")
        audit.record(conn, "integration_changed", actor=audit.CLI_ACTOR, target=f"system:{name}",
                     detail={"change": "revoked"})
    return {"name": name, "revoked": True}


def list_all(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every credential, without secrets or their hashes."""
    i = t.integrations
    with engine.connect() as conn:
        rows = conn.execute(sa.select(i).order_by(i.c.name)).all()
    return [{"name": r.name, "key_id": r.key_id, "per_minute": r.per_minute,
             **json.loads(r.scopes), "created_at": r.created_at, "rotated_at": r.rotated_at,
             "old_valid_until": r.old_valid_until, "revoked_at": r.revoked_at} for r in rows]


# ---------------------------------------------------------------- authentication
class RateLimiter:
    """Calls per system in the last minute, per server process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, name: str, per_minute: int) -> bool:
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(name, deque())
            while calls and calls[0] <= now - 60:
                calls.popleft()
            if len(calls) >= per_minute:
                return False
            calls.append(now)
            return True


def authenticate(engine: sa.Engine, key: str | None, limiter: RateLimiter,
                 now: datetime | None = None) -> Credential:
    """The credential of `key` (X-Integration-Key). Raises ApiRefused 401 (missing,
    unknown, revoked, a rotated-out secret past its grace) or 429 (rate limit)."""
    if not key:
        raise ApiRefused(401, "key_missing", "Send the system's key in X-Integration-Key.")
    key_id, _, secret = key.removeprefix(KEY_PREFIX).partition(".")
    if not key.startswith(KEY_PREFIX) or not key_id or not secret or len(key) > 200:
        raise ApiRefused(401, "key_invalid", "The key is not a FieldCRM system key.")
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.integrations).where(
            t.integrations.c.key_id == key_id)).first()
    digest = _hash(secret)
    if row is None:
        raise ApiRefused(401, "key_invalid", "The key is not a FieldCRM system key.")
    if row.revoked_at is not None:
        raise ApiRefused(401, "key_revoked", "This system's key was revoked.")
    ok = secrets.compare_digest(digest, row.secret_hash)
    if not ok and row.old_secret_hash and secrets.compare_digest(digest, row.old_secret_hash):
        ok = (row.old_valid_until or "") > _iso(now or datetime.now(UTC))
        if not ok:
            raise ApiRefused(401, "key_rotated", "This key was replaced and its grace period "
                             "has ended; use the new key.")
    if not ok:
        raise ApiRefused(401, "key_invalid", "The key is not a FieldCRM system key.")
    cred = Credential(row.name, Scopes.from_json(json.loads(row.scopes)), row.per_minute)
    if not limiter.allow(cred.name, cred.per_minute):
        raise ApiRefused(429, "rate_limited", f"More than {cred.per_minute} calls this minute.")
    return cred


class CallLog:
    """Audit entries of reads and refused calls, written by a background thread about
    every FLUSH_S in one transaction: a read never waits for the database's write lock
    (on SQLite the duplicate checker may hold it for a while). Writes note theirs in
    their own transaction. Entries still queued when the process is killed are lost."""

    FLUSH_S = 0.5

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._queue: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False

    def note(self, cred: Credential, method: str, target: str, status: int,
             address: str = "") -> None:
        with self._lock:
            self._queue.append({"actor": cred.device_id, "target": target, "address": address,
                                "detail": {"method": method, "status": status}})
            begin = self._started and self._thread is None
            if begin:  # the thread starts with the first call (a server no system calls has none)
                self._thread = threading.Thread(target=self._run, name="api-audit", daemon=True)
        if begin and self._thread is not None:
            self._thread.start()
        elif not self._started:  # not started (an app without its lifespan): write now
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        if batch:
            with write_tx(self.engine) as conn:
                for entry in batch:
                    audit.record(conn, "api_call", **entry)

    def _run(self) -> None:
        while not self._stop.wait(self.FLUSH_S):
            try:
                self.flush()
            except sa.exc.SQLAlchemyError as exc:
                log.warning("API call audit entries not written yet: %s", exc)

    def start(self) -> None:
        self._started = True

    def stop(self) -> None:
        self._started = False
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.flush()


# ---------------------------------------------------------------- reading
def _scoped_entity(cred: Credential, entity: str, *, write: bool = False) -> None:
    if entity not in API_ENTITIES:
        raise ApiRefused(404, "unknown_entity", f"No record type '{entity[:40]}'.")
    if entity not in (cred.scopes.write if write else cred.scopes.entities):
        raise ApiRefused(403, "out_of_scope", f"This system may not {'write' if write else 'read'}"
                         f" {entity} records.")


def _external_of(conn: sa.Connection, entity: str, ids: list[str]) -> dict[str, dict[str, str]]:
    """The external ids of these records, in one query (server.push._select_keys)."""
    out: dict[str, dict[str, str]] = {}
    for rid, system, ext in _select_keys(conn, "external_ids", "record_id, system, external_id",
                                         ("entity", entity), "record_id", ids, "text"):
        out.setdefault(rid, {})[system] = ext
    return out


def _shape(cred: Credential, entity: str, rid: str, fields_json: str, version: int,
           updated_at: str, external: dict[str, str]) -> dict[str, Any]:
    fields = orjson.loads(fields_json)
    if ALL in cred.scopes.read.get(entity, ()):
        values = {k: w.get("value") for k, w in fields.items() if k != DELETED}
    else:
        readable = cred.scopes.read.get(entity, frozenset())
        values = {k: w.get("value") for k, w in fields.items() if k in readable}
    values.pop(EXTERNAL_IDS, None)  # the devices' copy of `external_ids` below
    return {"id": rid, "entity": entity, "version": int(version),
            "deleted": bool(fields.get(DELETED, {}).get("value")), "updated_at": updated_at,
            "fields": values, "external_ids": external}


def get(engine: sa.Engine, cred: Credential, entity: str, rid: str) -> dict[str, Any]:
    """One record as the system may see it. Raises ApiRefused 403/404."""
    _scoped_entity(cred, entity)
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.records.c.fields, t.records.c.version,
                                     t.records.c.updated_at).where(
            t.records.c.entity == entity, t.records.c.record_id == rid)).first()
        if row is None:
            raise ApiRefused(404, "not_found", f"No {entity} with id '{rid[:64]}'.")
        ext = _external_of(conn, entity, [rid]).get(rid, {})
    return _shape(cred, entity, rid, row.fields, row.version, row.updated_at, ext)


def find_external(engine: sa.Engine, entity: str, system: str, external_id: str,
                  follow: bool = True) -> str | None:
    """The record another system's id names; for a record merged away since, the one it
    was merged into (a write by that id must not bring the merged-away record back)."""
    x = t.external_ids
    with engine.connect() as conn:
        rid = conn.execute(sa.select(x.c.record_id).where(
            x.c.system == system, x.c.entity == entity,
            x.c.external_id == external_id)).scalar_one_or_none()
        return rid if rid is None or not follow else redirect.survivor_of(conn, entity, rid)


def _json_text(engine: sa.Engine, name: str) -> sa.ColumnElement[Any]:
    """A field's value as text, in SQL."""
    if is_sqlite(engine):
        return sa.func.json_extract(t.records.c.fields, f'$."{name}".value')
    return sa.cast(t.records.c.fields, sa.dialects.postgresql.JSONB)[name].op("->>")("value")


def list_records(engine: sa.Engine, cred: Credential, entity: str, filters: list[str],
                 after: str | None, limit: int, include_deleted: bool) -> dict[str, Any]:
    """A page of records in id order, filtered by `field=value` (equal as text)."""
    _scoped_entity(cred, entity)
    ent = ENTITIES[entity]
    r = t.records
    q = sa.select(r.c.record_id, r.c.fields, r.c.version, r.c.updated_at).where(
        r.c.entity == entity)
    for f in filters:
        name, sep, value = f.partition("=")
        if not sep or not ent.has_field(name):
            raise ApiRefused(422, "invalid_filter", f"'{f[:80]}' is not field=value with a "
                             f"field of {entity}.", field="filter")
        if not cred.scopes.may_read(entity, name):
            raise ApiRefused(403, "out_of_scope", f"This system may not read {entity}.{name}.")
        q = q.where(sa.cast(_json_text(engine, name), sa.Text) == value)
    if not include_deleted:
        q = q.where(sa.func.coalesce(sa.cast(_json_text(engine, DELETED), sa.Text), "")
                    .notin_(["1", "true"]))
    if after:
        q = q.where(r.c.record_id > after)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(r.c.record_id).limit(limit + 1)).all()
        rows, more = rows[:limit], len(rows) > limit
        ext = _external_of(conn, entity, [row[0] for row in rows])
    return {"records": [_shape(cred, entity, rid, f, v, u, ext.get(rid, {}))
                        for rid, f, v, u in rows],
            "next": rows[-1][0] if more else None}


def changes(engine: sa.Engine, cred: Credential, entity: str, since: int,
            limit: int) -> dict[str, Any]:
    """The records of `entity` changed after version `since`, oldest change first."""
    _scoped_entity(cred, entity)
    with read_tx(engine) as conn:
        top = int(conn.execute(sa.select(t.counter.c.version).where(
            t.counter.c.id == 1)).scalar_one())
        rows = conn.execute(sa.text(
            "SELECT record_id, fields, version, updated_at FROM records "
            "WHERE entity = :e AND version > :since AND version <= :top "
            "ORDER BY version LIMIT :lim"),
            {"e": entity, "since": since, "top": top, "lim": limit + 1}).all()
        more = len(rows) > limit
        rows = rows[:limit]
        ext = _external_of(conn, entity, [row[0] for row in rows])
    return {"changes": [_shape(cred, entity, rid, f, v, u, ext.get(rid, {}))
                        for rid, f, v, u in rows],
            "next_cursor": int(rows[-1][2]) if more else max(top, since),
            "has_more": more}


# ---------------------------------------------------------------- writing
_hlc_lock = threading.Lock()
_hlc_last = [0, 0]


def _stamp(cred: Credential) -> str:
    """A clock stamp of this process for the system's writes (the pid keeps two server
    processes' stamps apart)."""
    ms = int(time.time() * 1000)
    with _hlc_lock:
        if ms <= _hlc_last[0]:
            ms, counter = _hlc_last[0], _hlc_last[1] + 1
            if counter > 0xFFFF:
                ms, counter = ms + 1, 0
        else:
            counter = 0
        _hlc_last[:] = [ms, counter]
    return f"{ms:013d}-{counter:04x}-sys.{cred.name}.{os.getpid() % 100000}"


def _bounded(value: Any) -> bool:
    """No integer past 64 bits anywhere (orjson, which stores records, refuses them)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_INT - 1 <= value <= MAX_INT
    if isinstance(value, list):
        return all(_bounded(v) for v in value)
    if isinstance(value, dict):
        return all(_bounded(v) for v in value.values())
    return True


def check_values(cred: Credential, entity: str, values: Mapping[str, Any]) -> None:
    """Scope, then shape: raises ApiRefused 403 (a field the system may not write) or 422
    (no such field, a value that does not fit, a time without an offset)."""
    ent = ENTITIES[entity]
    for name, value in values.items():
        if name == DELETED or not ent.has_field(name):
            raise ApiRefused(422, "invalid_field", f"{entity} has no field '{name[:40]}'.",
                             field=name[:64])
        if is_server_only(ent.field(name)):
            raise ApiRefused(422, "invalid_field", f"{name} is set by the server; send a "
                             "record's ids in other systems as the body's external_ids.",
                             field=name)
        if not cred.scopes.may_write(entity, name):
            raise ApiRefused(403, "out_of_scope", f"This system may not write {entity}.{name}.",
                             field=name)
        if not _bounded(value):
            raise ApiRefused(422, "invalid_field", f"{name}: a number is out of range.",
                             field=name)
        try:
            validate_value(ent, name, value)
        except ValidationError as exc:
            raise ApiRefused(422, "invalid_field", exc.message, field=name) from None


def check_external(external: Mapping[str, Any]) -> None:
    for system, ext in external.items():
        if not NAME_RE.match(system) or not isinstance(ext, str) or not EXTERNAL_ID_RE.match(ext):
            raise ApiRefused(422, "invalid_external_id", "external_ids maps a system name "
                             "(lowercase letters, digits, '_' or '-') to its id (1-200 "
                             "characters of text).", field="external_ids")


@dataclass
class WriteRequest:
    method: str
    entity: str
    record_id: str | None  # None: a new record (POST)
    values: dict[str, Any]
    external_ids: dict[str, str]
    delete: bool = False
    by_external: tuple[str, str] | None = None  # PUT by (system, id): create or update


def _request_hash(req: WriteRequest) -> str:
    doc = {"m": req.method, "e": req.entity, "r": req.record_id, "v": req.values,
           "x": req.external_ids, "d": req.delete, "b": list(req.by_external or ())}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def write(engine: sa.Engine, cred: Credential, req: WriteRequest, idem_key: str | None,
          publish: Callable[[int], None], new_id: Callable[[], str]) -> tuple[int, dict[str, Any]]:
    """Apply one write; (status, body). Raises ApiRefused (403 scope, 404, 409 a taken
    external id or a reused idempotency key, 422)."""
    _scoped_entity(cred, req.entity, write=True)
    if idem_key is not None and not IDEM_KEY_RE.match(idem_key):
        raise ApiRefused(422, "invalid_idempotency_key", "Idempotency-Key is 1-200 printable "
                         "ASCII characters.", field="Idempotency-Key")
    check_values(cred, req.entity, req.values)
    check_external(req.external_ids)
    if req.delete and not cred.scopes.may_create(req.entity):
        raise ApiRefused(403, "out_of_scope", f"This system may not delete {req.entity} records.")
    digest = _request_hash(req)
    seq, stored = _reserve(engine, cred, idem_key, digest)
    if stored is not None:
        return stored
    status, body = _perform(engine, cred, req, seq, publish, new_id)
    with write_tx(engine) as conn:
        if status < 400 and req.external_ids:
            _set_external(conn, req.entity, body["id"], req.external_ids)
            body["external_ids"] = _external_of(conn, req.entity, [body["id"]]).get(body["id"], {})
        conn.execute(t.integration_writes.update().where(t.integration_writes.c.id == seq)
                     .values(status=status, response=json.dumps(body)))
        audit.record(conn, "api_call", actor=cred.device_id,
                     target=f"{req.entity}:{body.get('id') or req.record_id or ''}",
                     detail={"method": req.method, "status": status,
                             "fields": sorted(req.values)})
    if status < 400 and req.external_ids and not req.delete:
        # Two systems setting ids of one record at once each read the other's as not there
        # yet (_perform reads the table before its push, the table is written after it):
        # the field may lack one. Each writer compares after its own table write, so the
        # last one to do so sets the field to the table's (usually nothing differs).
        copy_external_ids(engine, publish, only=(req.entity, body["id"]))
    return status, body


def _reserve(engine: sa.Engine, cred: Credential, idem_key: str | None, digest: str
             ) -> tuple[int, tuple[int, dict[str, Any]] | None]:
    """The write's row (its push seq), or the first answer to the same key and body."""
    w = t.integration_writes
    for _attempt in range(3):
        with write_tx(engine) as conn:
            if idem_key is not None:
                row = conn.execute(sa.select(w.c.id, w.c.request_hash, w.c.status, w.c.response)
                                   .where(w.c.system == cred.name, w.c.idem_key == idem_key)
                                   ).first()
                if row is not None:
                    if row.request_hash != digest:
                        raise ApiRefused(422, "idempotency_key_reused", "This Idempotency-Key "
                                         "was used for a different request; use a new key.",
                                         field="Idempotency-Key")
                    if row.status is not None:
                        return int(row.id), (int(row.status), json.loads(row.response))
                    return int(row.id), None  # interrupted before its answer: apply again
            try:
                with conn.begin_nested():
                    seq = conn.execute(w.insert().values(
                        system=cred.name, idem_key=idem_key, request_hash=digest,
                        created_at=now_iso()).returning(w.c.id)).scalar_one()
            except sa.exc.IntegrityError:
                continue  # the same key, concurrently: read its row
            return int(seq), None
    raise ApiRefused(409, "idempotency_conflict", "The same Idempotency-Key is being used "
                     "concurrently; try again.")


def _current(engine: sa.Engine, entity: str, rid: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        raw = conn.execute(sa.select(t.records.c.fields).where(
            t.records.c.entity == entity, t.records.c.record_id == rid)).scalar_one_or_none()
    return None if raw is None else dict(orjson.loads(raw))


def _perform(engine: sa.Engine, cred: Credential, req: WriteRequest, seq: int,
             publish: Callable[[int], None], new_id: Callable[[], str]
             ) -> tuple[int, dict[str, Any]]:
    entity, rid = req.entity, req.record_id
    status = 200
    if req.by_external is not None:
        rid = find_external(engine, entity, *req.by_external)
        if rid is None:
            rid = _derived_id(cred, entity, *req.by_external)
        elif find_external(engine, entity, *req.by_external, follow=False) != rid:
            # The id's record was merged into one that has its own id in that system: the
            # write lands on the survivor and leaves the survivor's id as it is.
            req.external_ids.pop(req.by_external[0], None)
    current = _current(engine, entity, rid) if rid else None
    exists = current is not None and not current.get(DELETED, {}).get("value")
    if req.record_id is not None and req.by_external is None and not exists:
        raise ApiRefused(404, "not_found", f"No {entity} with id '{req.record_id[:64]}'.")
    if not exists:
        if not cred.scopes.may_create(entity):
            raise ApiRefused(403, "out_of_scope", f"This system may not create {entity} records.")
        ent = ENTITIES[entity]
        if entity == "payment" and "owner" not in req.values:
            _owner_from_deal(engine, req)
        missing = [f.name for f in ent.fields if f.required and f.name not in req.values]
        if entity == "payment" and "owner" not in req.values:
            missing.append("owner")  # else only the system would see it (push's created_by)
        if ent.owned and ent.has_field("owner") and "owner" not in req.values and (
                ent.field("owner").writable_by is None):
            missing.append("owner")
        if missing:
            raise ApiRefused(422, "invalid_field", f"A new {entity} needs "
                             f"{', '.join(missing)}.", field=missing[0])
        status = 201
        rid = rid or new_id()
    assert rid is not None
    if req.external_ids:
        _check_free(engine, entity, rid, req.external_ids)
    stamp = _stamp(cred)
    writes: dict[str, tuple[Any, str, Any]] = {
        k: (v, stamp, None) for k, v in req.values.items()}
    if req.delete:
        writes = {DELETED: (True, stamp, None)}
    elif not exists and current is not None:  # a deleted record created again
        writes[DELETED] = (False, stamp, None)
    if req.external_ids and not req.delete:
        # The record's ids in every system, this write's replacing theirs, into the synced
        # field in the same journaled entry: devices receive them by the ordinary pull.
        with engine.connect() as conn:
            known = _external_of(conn, entity, [rid]).get(rid, {})
        ids = external_ids_value({**known, **req.external_ids})
        if ids != (current or {}).get(EXTERNAL_IDS, {}).get("value"):
            writes[EXTERNAL_IDS] = (ids, stamp, None)
    result = apply_push(engine, cred.principal, [Entry(cred.device_id, seq, entity, rid, writes)],
                        publish, as_server=True).results[0]
    if result.status == "rejected":
        raise ApiRefused(422, "refused", result.reason or "The write was refused.")
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.records.c.fields, t.records.c.version,
                                     t.records.c.updated_at).where(
            t.records.c.entity == entity, t.records.c.record_id == rid)).one()
        ext = _external_of(conn, entity, [rid]).get(rid, {})
    return status, _shape(cred, entity, rid, row.fields, row.version, row.updated_at, ext)


def _owner_from_deal(engine: sa.Engine, req: WriteRequest) -> None:
    """A new payment without `owner` belongs to its deal's rep (as the desktop's own
    payments do, desktop.reports.payments), so the rep reads what finance's ERP wrote."""
    deal_id = req.values.get("deal_id")
    if not isinstance(deal_id, str):
        return
    with engine.connect() as conn:
        owner = conn.execute(sa.select(t.records.c.owner).where(
            t.records.c.entity == "deal", t.records.c.record_id == deal_id)).scalar_one_or_none()
    if owner:
        req.values["owner"] = owner


def _derived_id(cred: Credential, entity: str, system: str, external_id: str) -> str:
    """The id of a record created by external id: the same for the same (system, id), so
    two concurrent creates by external id land on one record."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fieldcrm:{entity}:{system}:{external_id}"))


def _check_free(engine: sa.Engine, entity: str, rid: str, external: Mapping[str, str]) -> None:
    x = t.external_ids
    with engine.connect() as conn:
        for system, ext in external.items():
            other = conn.execute(sa.select(x.c.record_id).where(
                x.c.system == system, x.c.entity == entity, x.c.external_id == ext)
            ).scalar_one_or_none()
            if other is not None and other != rid:
                raise ApiRefused(409, "external_id_taken", f"{system} id '{ext[:80]}' belongs "
                                 f"to another {entity} ({other}).", field="external_ids")


def _set_external(conn: sa.Connection, entity: str, rid: str, external: Mapping[str, str]) -> None:
    """A record's id in each named system (one per system; a new one replaces the old)."""
    x = t.external_ids
    for system, ext in external.items():
        conn.execute(x.delete().where(x.c.system == system, x.c.entity == entity,
                                      x.c.record_id == rid))
        conn.execute(x.delete().where(x.c.system == system, x.c.entity == entity,
                                      x.c.external_id == ext))
        conn.execute(x.insert().values(system=system, entity=entity, external_id=ext,
                                       record_id=rid))


# ---------------------------------------------------------------- ids kept before issue 25's field
COPY_NAME = "fieldcrm.copy"  # not a system name (NAME_RE has no "."): never a credential's
COPY_BATCH = 200


def copy_external_ids(engine: sa.Engine, publish: Callable[[int], None],
                      only: tuple[str, str] | None = None) -> dict[str, int]:
    """Write each record's external ids into its `external_ids` field where the two differ
    (ids set through the API before the field existed), so devices receive them by the
    ordinary pull: journaled one-entry pushes by the server's own device id, each with a
    seq from `integration_writes` like a system's write. Running it again changes nothing.
    `only`: (entity, record id), that record alone. Returns {"records": how many were
    written}."""
    cred = Credential(COPY_NAME, Scopes({}, {}), 1)
    x = t.external_ids
    wanted: dict[tuple[str, str], dict[str, str]] = {}
    q = sa.select(x.c.system, x.c.entity, x.c.external_id, x.c.record_id)
    if only is not None:
        q = q.where(x.c.entity == only[0], x.c.record_id == only[1])
    with engine.connect() as conn:
        for system, entity, ext, rid in conn.execute(q):
            wanted.setdefault((entity, rid), {})[system] = ext
        have: dict[tuple[str, str], Any] = {}
        for entity in sorted({e for e, _ in wanted}):
            rids = [r for e, r in wanted if e == entity]
            for rid, raw in _select_keys(conn, "records", "record_id, fields",
                                         ("entity", entity), "record_id", rids, "text"):
                have[(entity, rid)] = orjson.loads(raw).get(EXTERNAL_IDS, {}).get("value")
    todo = [(key, external_ids_value(ids)) for key, ids in sorted(wanted.items())
            if key in have and have[key] != external_ids_value(ids)]  # no record: nothing
    for start in range(0, len(todo), COPY_BATCH):
        entries = []
        for (entity, rid), value in todo[start:start + COPY_BATCH]:
            seq, _ = _reserve(engine, cred, None, hashlib.sha256(
                f"{entity}:{rid}:{value}".encode()).hexdigest())
            entries.append(Entry(cred.device_id, seq, entity, rid,
                                 {EXTERNAL_IDS: (value, _stamp(cred), None)}))
        apply_push(engine, cred.principal, entries, publish, as_server=True)
        with write_tx(engine) as conn:
            conn.execute(t.integration_writes.update().where(
                t.integration_writes.c.id.in_([e.seq for e in entries])).values(
                status=200, response="{}"))
    return {"records": len(todo)}
