"""Custom field definitions on the server (issue 24): the authority on them.

Definitions are `field_def` records (desktop.schema.FIELD_DEF), stored like every
record, pushed by admins' devices or written here by `fieldcrm-server fields ...`.
`ensure_installed` keeps this process's schema (desktop.schema.ENTITIES) equal to the
definitions in the database, so a push is validated against the fields of the moment
whichever server process took it. `check_push` is the check a pushed definition passes
(duplicate and reserved names, choices, the limit, a type changed only by `change_type`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.errors import FieldCRMError
from desktop.schema import (
    CUSTOM_FIELD_ENTITIES,
    CUSTOM_FIELD_TYPES,
    DELETED,
    ENTITIES,
    KEPT,
    RESERVED_FIELD_NAMES,
    Field,
    FieldDefError,
    check_field_def,
    coerce_value,
    field_def_id,
    field_from_def,
    install_field_defs,
    normalize_field_name,
    validate_value,
)
from server import tables as t
from server.db import is_sqlite, write_tx
from server.errors import now_iso
from server.merge import FieldMap, merge_fields

ENTITY = "field_def"
SERVER_DEVICE = "server"  # the device part of the stamps of writes made here
NOTIFY_CHANNEL = "fieldcrm_version"

_seen: dict[str, tuple[int, int]] = {}  # engine url -> (count, top version) installed
_lock = threading.Lock()


class FieldAdminError(FieldCRMError):
    """The field command could not be carried out."""


def values_of(fields: FieldMap) -> dict[str, Any]:
    """A stored record's field map as plain values."""
    return {k: w.get("value") for k, w in fields.items()}


def load(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """Every definition in the database: record id -> values (with "id")."""
    rows = conn.exec_driver_sql(
        "SELECT record_id, fields FROM records WHERE entity = 'field_def'").fetchall()
    return {rid: {**values_of(orjson.loads(f)), "id": rid} for rid, f in rows}


def ensure_installed(conn: sa.Connection) -> None:
    """Install the database's definitions in this process when they changed since last
    looked (one small query when nothing did)."""
    key = tuple(conn.exec_driver_sql(
        "SELECT count(*), coalesce(max(version), 0) FROM records "
        "WHERE entity = 'field_def'").one())
    url = str(conn.engine.url)
    with _lock:
        if _seen.get(url) == key:
            return
    install_field_defs(load(conn).values())
    with _lock:
        _seen[url] = (int(key[0]), int(key[1]))


def forget_installed() -> None:
    """Make the next `ensure_installed` read the definitions again."""
    with _lock:
        _seen.clear()


def check_push(defs: dict[str, dict[str, Any]], record_id: str, before: FieldMap | None,
               merged: FieldMap, *, from_device: bool = True) -> None:
    """Raise FieldDefError when a pushed change of a definition cannot be accepted;
    `defs` (all definitions) is updated with the accepted one."""
    new = {**values_of(merged), "id": record_id}
    if new.get(DELETED):
        raise FieldDefError("A custom field is retired, never deleted: its values are kept.")
    old = None if before is None else {**values_of(before), "id": record_id}
    if from_device and old is not None and (old.get("type") != new.get("type")
                                            or old.get("type_change") != new.get("type_change")):
        raise FieldDefError("A type is changed on the server, after a preview "
                            "(fieldcrm-server fields preview-type-change, change-type).",
                            field="type")
    check_field_def(new, [d for i, d in defs.items() if i != record_id], old)
    defs[record_id] = new


# ---------------------------------------------------------------- writes made here
def _stamp_above(fields: FieldMap) -> str:
    """A stamp of this server later than now and than every stamp the record holds."""
    wall = int(time.time() * 1000)
    counter = 0
    for w in fields.values():
        h = str(w.get("hlc", ""))
        if h[:13].isdigit():
            ms, cnt = int(h[:13]), int(h[14:18] or "0", 16)
            if (ms, cnt) >= (wall, counter):
                wall, counter = ms, cnt + 1
    return f"{wall:013d}-{counter:04x}-{SERVER_DEVICE}"


def _write(engine: sa.Engine, entity_name: str, name: str, changes: Mapping[str, Any], *,
           new: bool) -> dict[str, Any]:
    """Write a definition's changed values as one server change (a new version, like a
    push), checked like a pushed one. Returns the definition's values."""
    if entity_name not in CUSTOM_FIELD_ENTITIES:
        raise FieldDefError(f"Custom fields can be added to {', '.join(CUSTOM_FIELD_ENTITIES)}, "
                            f"not to '{entity_name}'.", field="entity")
    record_id = field_def_id(entity_name, name)
    ent = ENTITIES[ENTITY]
    choices = list(changes.get("choices") or ())
    if len(choices) != len(set(choices)):
        raise FieldDefError("The choices repeat a value: each choice must be different.",
                            field="choices")
    clean = {k: validate_value(ent, k, v) for k, v in changes.items()}
    from server.push import _lock_counter

    with write_tx(engine) as conn:
        version = _lock_counter(conn)
        defs = load(conn)
        row = conn.exec_driver_sql(
            "SELECT fields FROM records WHERE entity = 'field_def' AND record_id = "
            + ("?" if is_sqlite(engine) else "%s"), (record_id,)).fetchone()
        before: FieldMap | None = orjson.loads(row[0]) if row else None
        if new and before is not None:
            raise FieldDefError(f"{entity_name} already has a field named '{name}'.",
                                field="name")
        if not new and before is None:
            raise FieldAdminError(f"{entity_name} has no custom field '{name}'.")
        current = before or {}
        stamp = _stamp_above(current)
        writes = {k: (v, stamp, current.get(k, {}).get("hlc")) for k, v in clean.items()
                  if k not in current or current[k].get("value") != v}
        merged, changed, _ = merge_fields(current, writes)
        check_push(defs, record_id, before, merged, from_device=False)
        if changed:
            version += 1
            now = now_iso()
            doc = orjson.dumps(merged).decode()
            if before is None:
                conn.execute(t.records.insert().values(
                    entity=ENTITY, record_id=record_id, owner="*", created_by=SERVER_DEVICE,
                    fields=doc, version=version, origin_device=None, updated_at=now))
            else:
                conn.execute(t.records.update().where(
                    t.records.c.entity == ENTITY, t.records.c.record_id == record_id).values(
                    fields=doc, version=version, origin_device=None, updated_at=now))
            conn.execute(t.counter.update().where(t.counter.c.id == 1).values(version=version))
            if not is_sqlite(engine):
                conn.execute(sa.text("SELECT pg_notify(:ch, :v)"),
                             {"ch": NOTIFY_CHANNEL, "v": str(version)})
    forget_installed()
    return describe(defs.get(record_id) or {**values_of(merged), "id": record_id})


def describe(d: Mapping[str, Any]) -> dict[str, Any]:
    """A definition as the CLI shows it."""
    return {"entity": d.get("entity"), "name": d.get("name"), "type": d.get("type"),
            "label_en": d.get("label_en"), "label_zh": d.get("label_zh"),
            "choices": list(d.get("choices") or []), "required": bool(d.get("required")),
            "searchable": bool(d.get("searchable")), "section": d.get("section") or "",
            "position": d.get("position") or 0, "stages": list(d.get("stages") or []),
            "retired": bool(d.get("retired")), "id": d.get("id")}


def add_field(engine: sa.Engine, entity_name: str, name: str, ftype: str, *,
              label_en: str | None = None, label_zh: str | None = None,
              choices: Sequence[str] = (), required: bool = False, searchable: bool = False,
              section: str = "", position: int | None = None,
              stages: Sequence[str] = ()) -> dict[str, Any]:
    """Add a custom field. Raises FieldDefError (duplicate or reserved name, bad type or
    choices, the limit reached)."""
    raw = str(name).strip().lower()
    if raw in RESERVED_FIELD_NAMES or (entity_name in CUSTOM_FIELD_ENTITIES
                                      and ENTITIES[entity_name].has_field(raw)
                                      and not ENTITIES[entity_name].field(raw).from_def):
        raise FieldDefError(f"'{name}' is a reserved name: pick another.", field="name")
    name = normalize_field_name(name)
    if position is None:
        with engine.connect() as conn:
            position = 10 * (1 + sum(1 for d in load(conn).values()
                                     if d.get("entity") == entity_name))
    values: dict[str, Any] = {
        "entity": entity_name, "name": name, "type": ftype,
        "label_en": label_en or label_zh or name, "label_zh": label_zh or label_en or name,
        "choices": list(choices) or None, "required": required, "searchable": searchable,
        "section": section or None, "position": position, "stages": list(stages) or None,
        "retired": False}
    return _write(engine, entity_name, name, values, new=True)


UPDATABLE = ("label_en", "label_zh", "choices", "required", "searchable", "section",
             "position", "stages")


def update_field(engine: sa.Engine, entity_name: str, name: str,
                 changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change labels, choices (only added), required, searchable, section, order, stages."""
    unknown = [k for k in changes if k not in UPDATABLE]
    if unknown:
        raise FieldAdminError(f"'{unknown[0]}' cannot be updated (one of {', '.join(UPDATABLE)}).")
    return _write(engine, entity_name, normalize_field_name(name), changes, new=False)


def retire_field(engine: sa.Engine, entity_name: str, name: str, *,
                 restore: bool = False) -> dict[str, Any]:
    """Hide a field everywhere, keeping its values (restore=True shows it again)."""
    return _write(engine, entity_name, normalize_field_name(name), {"retired": not restore},
                  new=False)


def list_fields(engine: sa.Engine, entity_name: str | None = None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        defs = load(conn).values()
    rows = [describe(d) for d in defs if entity_name in (None, d.get("entity"))]
    return sorted(rows, key=lambda d: (d["entity"] or "", d["position"], d["name"] or ""))


# ---------------------------------------------------------------- type changes
def with_kept(fields: FieldMap, kept: list[dict[str, Any]]) -> FieldMap:
    """The field map with `kept` added to its KEPT list (values a type change could not
    convert; desktop.schema.coerce_value). Its stamp is the newest kept stamp, so a pull
    merging two copies keeps the longer list."""
    have = list((fields.get(KEPT) or {}).get("value") or [])
    seen = {(k.get("field"), k.get("hlc")) for k in have}
    have += [k for k in kept if (k["field"], k["hlc"]) not in seen]
    return {**fields, KEPT: {"value": have, "hlc": max(str(k.get("hlc")) for k in have)}}


def _target(entity_name: str, name: str, to_type: str, choices: Sequence[str],
            defs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], Field]:
    name = normalize_field_name(name)
    d = defs.get(field_def_id(entity_name, name))
    if d is None:
        raise FieldAdminError(f"{entity_name} has no custom field '{name}'.")
    if to_type not in CUSTOM_FIELD_TYPES:
        raise FieldDefError(f"Type '{to_type}' is not one of {', '.join(CUSTOM_FIELD_TYPES)}.",
                            field="type")
    if to_type == d.get("type"):
        raise FieldDefError(f"{name} is already of type {to_type}.", field="type")
    keep = list(d.get("choices") or []) if to_type in ("choice", "list") else []
    new_choices = list(dict.fromkeys([*keep, *choices]))
    if to_type == "choice" and not new_choices:
        raise FieldDefError("A choice field needs at least one choice (--choice).",
                            field="choices")
    target = {**d, "type": to_type, "choices": new_choices or None}
    return target, field_from_def(target)


def _scan(conn: sa.Connection, entity_name: str, f: Field) -> Iterator[
        tuple[str, FieldMap, Any, bool, Any, str]]:
    """(record id, field map, old value, converted?, new value, reason) of every record of
    the entity holding a value of the field."""
    q = "SELECT record_id, fields FROM records WHERE entity = " + (
        "?" if is_sqlite(conn.engine) else "%s")
    probe = f'"{f.name}"'
    for rid, doc in conn.exec_driver_sql(q, (entity_name,)):
        if probe not in doc:  # most records of a big book never had the field
            continue
        fields = orjson.loads(doc)
        w = fields.get(f.name)
        if not w or w.get("value") is None:
            continue
        ok, value, reason = coerce_value(f, w["value"])
        yield rid, fields, w["value"], ok, value, reason


def preview_type_change(engine: sa.Engine, entity_name: str, name: str, to_type: str,
                        choices: Sequence[str] = (), examples: int = 20) -> dict[str, Any]:
    """What changing the type would do, computed on the server's data: how many values
    convert, how many do not (they would be kept aside), with examples of both."""
    with engine.connect() as conn:
        defs = load(conn)
        target, f = _target(entity_name, name, to_type, choices, defs)
        old_type = defs[target["id"]].get("type")
        total = converted = 0
        fails: list[dict[str, Any]] = []
        samples: list[dict[str, Any]] = []
        for rid, _fields, old, ok, value, reason in _scan(conn, entity_name, f):
            total += 1
            if ok:
                converted += 1
                if len(samples) < examples and old != value:
                    samples.append({"record_id": rid, "value": old, "becomes": value})
            elif len(fails) < examples:
                fails.append({"record_id": rid, "value": old, "reason": reason})
    return {"entity": entity_name, "name": f.name, "from": old_type, "to": to_type,
            "values": total,
            "convert": converted, "unconvertible": total - converted,
            "examples_converted": samples, "examples_unconvertible": fails}


def change_type(engine: sa.Engine, entity_name: str, name: str, to_type: str,
                choices: Sequence[str] = ()) -> dict[str, Any]:
    """Change a custom field's type in one transaction: every stored value is converted
    in place, keeping its stamp (each device converts its own copy the same way when the
    definition reaches it, so no record is sent again); a value that does not convert is
    kept aside in the record (KEPT) with the reason, and the field becomes empty. The
    definition records the change (`type_change`) under a new version."""
    from server.push import _lock_counter

    with write_tx(engine) as conn:
        version = _lock_counter(conn)
        defs = load(conn)
        target, f = _target(entity_name, name, to_type, choices, defs)
        old_type = defs[target["id"]].get("type")
        now = now_iso()
        updates: list[tuple[str, str]] = []
        total = kept_n = 0
        for rid, fields, old, ok, value, reason in _scan(conn, entity_name, f):
            total += 1
            w = fields[f.name]
            if ok:
                if value == old:
                    continue
                fields[f.name] = {**w, "value": value}
            else:
                kept_n += 1
                fields[f.name] = {**w, "value": None}
                fields = with_kept(fields, [{"field": f.name, "value": old, "hlc": w["hlc"],
                                             "to": to_type, "reason": reason, "at": now}])
            updates.append((orjson.dumps(fields).decode(), rid))
        _update_fields(conn, entity_name, updates)
        row = conn.exec_driver_sql(
            "SELECT fields FROM records WHERE entity = 'field_def' AND record_id = "
            + ("?" if is_sqlite(engine) else "%s"), (target["id"],)).one()
        current: FieldMap = orjson.loads(row[0])
        stamp = _stamp_above(current)
        change = orjson.dumps({"from": old_type, "to": to_type, "at": stamp}).decode()
        writes: dict[str, tuple[Any, str, str | None]] = {
            k: (v, stamp, current.get(k, {}).get("hlc"))
            for k, v in (("type", to_type), ("type_change", change),
                         ("choices", target["choices"]))}
        merged, _, _ = merge_fields(current, writes)
        version += 1
        conn.execute(t.records.update().where(
            t.records.c.entity == ENTITY, t.records.c.record_id == target["id"]).values(
            fields=orjson.dumps(merged).decode(), version=version, origin_device=None,
            updated_at=now))
        conn.execute(t.counter.update().where(t.counter.c.id == 1).values(version=version))
        if not is_sqlite(engine):
            conn.execute(sa.text("SELECT pg_notify(:ch, :v)"),
                         {"ch": NOTIFY_CHANNEL, "v": str(version)})
    forget_installed()
    return {"entity": entity_name, "name": f.name, "from": old_type, "to": to_type,
            "values": total, "convert": total - kept_n, "kept_aside": kept_n}


def _update_fields(conn: sa.Connection, entity_name: str, updates: list[tuple[str, str]]) -> None:
    if not updates:
        return
    if is_sqlite(conn.engine):
        conn.exec_driver_sql("UPDATE records SET fields = ? WHERE entity = '"
                             + entity_name + "' AND record_id = ?", updates)
        return
    for i in range(0, len(updates), 50_000):
        part = updates[i:i + 50_000]
        conn.exec_driver_sql(
            "UPDATE records AS r SET fields = v.fields FROM unnest(%b::text[], %b::text[]) "
            "AS v(fields, record_id) WHERE r.entity = %s AND r.record_id = v.record_id",
            ([u[0] for u in part], [u[1] for u in part], entity_name))


def kept_values(engine: sa.Engine, entity_name: str | None = None,
                name: str | None = None) -> list[dict[str, Any]]:
    """Every value kept aside by a type change (readable, listed, exportable)."""
    q = "SELECT entity, record_id, fields FROM records WHERE fields LIKE " + (
        "?" if is_sqlite(engine) else "%s")
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for ent_name, rid, doc in conn.exec_driver_sql(q, (f'%"{KEPT}"%',)):
            if entity_name not in (None, ent_name):
                continue
            for k in (orjson.loads(doc).get(KEPT) or {}).get("value") or []:
                if name in (None, k.get("field")):
                    out.append({"entity": ent_name, "record_id": rid, **k})
    return sorted(out, key=lambda k: (k["entity"], k["field"], k["record_id"], k["hlc"]))
