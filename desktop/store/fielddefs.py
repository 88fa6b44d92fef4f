"""Custom field definitions held by this store (`field_def` records, issue 24).

The definitions a device holds decide which custom fields its app shows and its store
keeps: `install(store)` reads them and installs them into `desktop.schema.ENTITIES`
(`install_field_defs`), then adds a column for each new field. Adding a column rewrites
no row (SQLite's ADD COLUMN changes only the table's declaration), so a new field is
instant on a store of a million records. Retired fields keep their column and values.
"""

from __future__ import annotations

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
    """Install this store's definitions into the schema and add the columns they need.
    Inside a write transaction, before its commit: the listeners that hear the commit
    (the app's views) then already see the new fields. Returns whether the schema changed."""
    changed = install_field_defs(definitions(store.conn))
    if store.in_write:
        add_columns(store)
    else:
        ensure_columns(store)  # a write only when columns are missing (not at every open)
    return changed


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
