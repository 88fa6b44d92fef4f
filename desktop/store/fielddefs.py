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
    Returns whether the schema changed."""
    changed = install_field_defs(definitions(store.conn))
    ensure_columns(store)
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
