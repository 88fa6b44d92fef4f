"""Converting between Python values and SQLite columns."""

from __future__ import annotations

import sqlite3
from typing import Any, cast

import orjson

from desktop.schema import DELETED, Entity, FieldType

SYSTEM_COLUMNS = ("id", DELETED, "created_at", "updated_at")


def to_column(ftype: FieldType | None, value: Any) -> Any:
    if value is None:
        return None
    if ftype is FieldType.LIST:
        return orjson.dumps(value).decode()
    if ftype is FieldType.BOOL or isinstance(value, bool):
        return int(value)
    return value


def from_row(ent: Entity, row: sqlite3.Row) -> dict[str, Any]:
    """A record dict: id, every field, deleted, created_at, updated_at."""
    rec: dict[str, Any] = {"id": row["id"]}
    for f in ent.fields:
        try:
            v = row[f.name]
        except IndexError:  # a custom field installed after this row was read
            v = None
        if v is not None:
            if f.type is FieldType.LIST:
                try:  # noqa: SIM105  (hot path: cheaper than contextlib.suppress)
                    v = orjson.loads(v)
                except orjson.JSONDecodeError:  # a custom field's value before its type change
                    pass
            elif f.type is FieldType.BOOL:
                v = bool(v)
            elif (f.type is FieldType.NUMBER and isinstance(v, float) and v.is_integer()
                  and abs(v) < 2**53):
                v = int(v)
        rec[f.name] = v
    rec[DELETED] = bool(row[DELETED])
    rec["created_at"] = row["created_at"]
    rec["updated_at"] = row["updated_at"]
    return rec


def is_compact(row: sqlite3.Row) -> bool:
    """Is the row still as a bulk import wrote it (one stamp for all fields)?"""
    return str(row["_clocks"]).startswith('"')


def clock_stamps(clocks_json: str) -> list[str]:
    """Every stamp in a `_clocks` value, in either form."""
    clocks = orjson.loads(clocks_json)
    return [clocks] if isinstance(clocks, str) else list(clocks.values())


def clocks_of(ent: Entity, row: sqlite3.Row) -> dict[str, str]:
    """The row's per-field clocks, {field: HLC stamp}. A row written by a bulk import
    and not changed since holds one stamp for all its fields ('"<stamp>"'): each of its
    non-empty fields was written at that stamp. (The full form would triple the bytes
    an import writes.)"""
    clocks = orjson.loads(row["_clocks"])
    if isinstance(clocks, str):
        return {f.name: clocks for f in ent.fields if _column_of(row, f.name) is not None}
    return cast(dict[str, str], clocks)


def _column_of(row: sqlite3.Row, name: str) -> Any:
    try:
        return row[name]
    except IndexError:  # a custom field installed after this row was read
        return None


def field_type(ent: Entity, name: str) -> FieldType | None:
    return None if name == DELETED else ent.field(name).type
