"""Custom field definitions held by this store (`field_def` records, issue 24).

The definitions a device holds decide which custom fields its app shows and its store
keeps: `install(store)` reads them and installs them into `desktop.schema.ENTITIES`
(`install_field_defs`), then adds a column for each new field. Adding a column rewrites
no row (SQLite's ADD COLUMN changes only the table's declaration), so a new field is
instant on a store of a million records. Retired fields keep their column and values.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING, Any

from desktop.schema import ENTITIES, install_field_defs, schema_generation
from desktop.store.rows import from_row

if TYPE_CHECKING:
    from desktop.store.store import Store

ENTITY = "field_def"


def definitions(conn: sqlite3.Connection, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    """Every definition this store holds, as record dicts, in (entity, position, name) order."""
    ent = ENTITIES[ENTITY]
    where = "" if include_deleted else " WHERE deleted = 0"
    rows = [from_row(ent, r) for r in conn.execute(f'SELECT * FROM "{ENTITY}"{where}')]
    return sorted(rows, key=lambda d: (d.get("entity") or "", d.get("position") or 0,
                                       d.get("name") or ""))


def install(store: Store) -> bool:
    """Install this store's definitions into the schema, add the columns they need and
    convert the values of fields whose type changed (`convert_local`). Inside a write
    transaction, before its commit: the listeners that hear the commit (the app's views)
    then already see the new fields. Returns whether the schema changed."""
    changed = install_field_defs(definitions(store.conn))
    if store.in_write:
        add_columns(store)
        _convert_changed_types(store)
    elif store.schema_seen != schema_generation() or _types_to_record(store):
        with store.write():  # a write only when there is something to do (not every open)
            add_columns(store)
            _convert_changed_types(store)
    return changed


TYPE_KEY = "field_type:"  # meta: the type this store's values of a custom field are in


def _custom_fields() -> list[tuple[str, Any]]:
    return [(ent.name, f) for ent in ENTITIES.values() for f in ent.fields if f.from_def]


def _types_to_record(store: Store) -> bool:
    have = dict(store.conn.execute(
        "SELECT key, value FROM meta WHERE key >= ? AND key < ?", (TYPE_KEY, TYPE_KEY[:-1] + ";")))
    return any(have.get(f"{TYPE_KEY}{e}.{f.name}") != f.type.value for e, f in _custom_fields())


def _convert_changed_types(store: Store) -> None:
    """Inside a write: for every custom field whose values here are in another type than
    its definition says, convert them (`convert_local`) and record the new type."""
    conn = store.conn
    for ent_name, f in _custom_fields():
        key = f"{TYPE_KEY}{ent_name}.{f.name}"
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is not None and row[0] != f.type.value:
            convert_local(store, ent_name, f, row[0])
        if row is None or row[0] != f.type.value:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (key, f.type.value))


def convert_local(store: Store, ent_name: str, f: Any, old_type: str) -> tuple[int, int]:
    """Convert this store's values of field `f` (now of `f.type`) from `old_type`, inside a
    write: the same conversion the server made (desktop.schema.coerce_value), each value
    keeping its stamp, so every replica agrees. A value that does not convert goes to
    `kept_value` with the reason and the field becomes empty. Returns (converted, kept)."""
    import orjson

    from desktop.schema import FieldType, coerce_value
    from desktop.store.ids import utc_now_iso
    from desktop.store.rows import clocks_of, to_column

    conn = store.conn
    ent = ENTITIES[ent_name]
    col = f'"{f.name}"'
    updates: list[tuple[Any, int]] = []
    kept: list[tuple[Any, ...]] = []
    now = utc_now_iso()
    for row in conn.execute(f'SELECT * FROM "{ent_name}" WHERE {col} IS NOT NULL'):
        raw = row[f.name]
        if old_type == FieldType.LIST.value and isinstance(raw, str):
            with contextlib.suppress(orjson.JSONDecodeError):
                raw = orjson.loads(raw)
        ok, value, reason = coerce_value(f, raw)
        if ok:
            new = to_column(f.type, value)
            if new != row[f.name]:
                updates.append((new, row["rid"]))
            continue
        stamp = clocks_of(ent, row).get(f.name, "")
        kept.append((ent_name, row["id"], f.name, stamp, orjson.dumps(raw).decode(),
                     f.type.value, reason, now))
        updates.append((None, row["rid"]))
    conn.executemany(f'UPDATE "{ent_name}" SET {col} = ? WHERE rid = ?', updates)
    conn.executemany("INSERT OR IGNORE INTO kept_value (entity, record_id, field, hlc, value, "
                     "to_type, reason, kept_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", kept)
    if updates and store._tx is not None:
        store._tx.changed(ent_name, None)
    return len(updates) - len(kept), len(kept)


def save_kept(conn: sqlite3.Connection, entity_name: str, record_id: str,
              entries: Any) -> None:
    """Kept-aside values received from the server (a record's KEPT list)."""
    import orjson

    from desktop.store.ids import utc_now_iso

    if not isinstance(entries, list):
        return
    now = utc_now_iso()
    conn.executemany(
        "INSERT OR IGNORE INTO kept_value (entity, record_id, field, hlc, value, to_type, "
        "reason, kept_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(entity_name, record_id, str(k.get("field")), str(k.get("hlc")),
          orjson.dumps(k.get("value")).decode(), str(k.get("to") or ""),
          str(k.get("reason") or ""), str(k.get("at") or now))
         for k in entries if isinstance(k, dict) and k.get("field") and k.get("hlc")])


def kept_values(conn: sqlite3.Connection, entity_name: str | None = None,
                field: str | None = None) -> list[dict[str, Any]]:
    """The values kept aside by type changes (readable and exportable)."""
    import orjson

    rows = conn.execute(
        "SELECT entity, record_id, field, hlc, value, to_type, reason, kept_at FROM kept_value "
        "WHERE (? IS NULL OR entity = ?) AND (? IS NULL OR field = ?) "
        "ORDER BY entity, field, record_id, hlc", (entity_name, entity_name, field, field))
    return [{"entity": r[0], "record_id": r[1], "field": r[2], "hlc": r[3],
             "value": orjson.loads(r[4]) if r[4] is not None else None, "to_type": r[5],
             "reason": r[6], "kept_at": r[7]} for r in rows]


def ensure_columns(store: Store) -> None:
    """Add the columns of fields installed since this store last looked (idempotent;
    joins the caller's write transaction if there is one)."""
    if store.schema_seen == schema_generation():
        return
    with store.write():
        pass  # Store.write adds the columns when the generation moved


def add_columns(store: Store) -> None:
    """Inside a write transaction: a column for every installed field the tables lack."""
    from desktop.store.migrations import add_missing_columns

    gen = schema_generation()
    add_missing_columns(store.db)
    store.schema_seen = gen


# ---------------------------------------------------------------- an admin's edits
# The app's Fields page writes definitions here (journaled like every write); the server
# checks them again and accepts them from admins only. Checking first on the device
# gives the admin the reason at once, in the form.
def add_definition(store: Store, values: dict[str, Any]) -> dict[str, Any]:
    """Add a custom field: `values` has entity, name (cf_ added when missing), type and
    optionally labels, choices, required, searchable, section, position, stages.
    Raises FieldDefError (duplicate, reserved or bad name, bad choices, the limit)."""
    from desktop.schema import (
        RESERVED_FIELD_NAMES,
        FieldDefError,
        check_field_def,
        field_def_id,
        normalize_field_name,
    )

    ent_name = str(values.get("entity") or "")
    raw = str(values.get("name") or "").strip().lower()
    live = ENTITIES.get(ent_name)
    if raw in RESERVED_FIELD_NAMES or (live is not None and live.has_field(raw)
                                      and not live.field(raw).from_def):
        raise FieldDefError(f"'{values.get('name')}' is a reserved name: pick another.",
                            field="name")
    name = normalize_field_name(raw)
    choices = [c.strip() for c in values.get("choices") or () if str(c).strip()]
    if len(choices) != len(set(choices)):
        raise FieldDefError("The choices repeat a value: each choice must be different.",
                            field="choices")
    record_id = field_def_id(ent_name, name)
    held = definitions(store.conn, include_deleted=True)
    if any(d["id"] == record_id for d in held):
        raise FieldDefError(f"{ent_name} already has a field named '{name}'.", field="name")
    position = values.get("position") or 10 * (1 + sum(d.get("entity") == ent_name
                                                       for d in held))
    defn = {"entity": ent_name, "name": name, "type": values.get("type"),
            "label_en": values.get("label_en") or values.get("label_zh") or name,
            "label_zh": values.get("label_zh") or values.get("label_en") or name,
            "choices": choices or None, "required": bool(values.get("required")),
            "searchable": bool(values.get("searchable")),
            "section": values.get("section") or None, "position": position,
            "stages": list(values.get("stages") or ()) or None, "retired": False}
    check_field_def({**defn, "id": record_id}, held)
    with store.write():
        rec = store.repo(ENTITY).create(defn, record_id=record_id)
        install(store)
    return rec


def update_definition(store: Store, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a definition (labels, choices added, required, order, section, retired).
    Raises FieldDefError when the change would lose data or clash."""
    from desktop.schema import check_field_def

    repo = store.repo(ENTITY)
    before = repo.get(record_id)
    held = [d for d in definitions(store.conn) if d["id"] != record_id]
    check_field_def({**before, **changes}, held, before)
    with store.write():
        rec = repo.update(record_id, changes)
        install(store)
    return rec


def set_retired(store: Store, record_id: str, retired: bool) -> dict[str, Any]:
    """Retire (hide, values kept) or restore a custom field."""
    return update_definition(store, record_id, {"retired": retired})
