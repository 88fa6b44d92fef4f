"""The report definitions over records that are not in a laptop's store: the server's
team book. The records are laid out as the store lays them out (one table per entity,
a column per field, `_clocks`), in an in-memory SQLite, so the very same SQL runs.

A record's `created_at` here is the moment of its oldest field stamp (the store's is
when it arrived on that laptop); `first_write_at`, which golden-72 selects by, is that
moment's milliseconds, as the store keeps it (desktop.store.firstwrite).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from desktop.schema import DELETED, ENTITIES, FieldType
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.firstwrite import ENTITIES as FIRST_WRITE_ENTITIES
from desktop.store.firstwrite import index_sql as first_write_index_sql
from desktop.store.followup_tables import evidence_index_sql

# what each report reads
NEEDS: dict[str, tuple[str, ...]] = {
    "pipeline": ("deal", "pipeline_rule", "fx_rate"),
    "forecast": ("deal", "pipeline_rule", "fx_rate"),
    "win-rate": ("deal", "lead", "fx_rate"),
    "activities": ("activity", "followup_rule"),
    "golden-72": ("account", "deal", "activity", "followup_rule"),
    "lead-sla": ("lead", "lead_policy"),
    "collections": ("contract", "deal", "payment", "fx_rate"),
}
_INDEXES = (  # those the reports name (INDEXED BY) or need, as the store has them
    'CREATE INDEX activity_when ON activity (coalesce(done_at, due_at, created_at), rid) '
    "WHERE deleted = 0",
    "CREATE INDEX payment_ix0 ON payment (deal_id, currency, date, id, kind, amount, owner) "
    "WHERE deleted = 0",
    *(evidence_index_sql(e) for e in sorted(FIRST_WRITE_ENTITIES)),
    *(first_write_index_sql(e) for e in sorted(FIRST_WRITE_ENTITIES)),
)
Record = tuple[str, Mapping[str, Any], Mapping[str, str]]  # id, values, field -> stamp


def _cell(ftype: FieldType, value: Any) -> Any:
    if value is None:
        return None
    if ftype is FieldType.LIST:
        return json.dumps(value, ensure_ascii=False)
    if ftype is FieldType.BOOL:
        return int(bool(value))
    return value


def _first_write(stamps: Iterable[str]) -> tuple[str, int]:
    """(created_at, first_write_at) of a record with these stamps."""
    ms = min((int(s[:13]) for s in stamps if s[:13].isdigit()), default=0)
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), ms


def memory_book(records: Mapping[str, Iterable[Record]]) -> sqlite3.Connection:
    """A connection holding `records` (entity -> records) in the store's layout; every
    entity a report reads has its table, empty when none was given."""
    conn = sqlite3.connect(":memory:")
    wanted = sorted({e for names in NEEDS.values() for e in names} | set(records))
    for name in wanted:
        ent = ENTITIES[name]
        cols = ", ".join(f'"{f.name}"' for f in ent.fields)
        conn.execute(f'CREATE TABLE "{name}" (rid INTEGER PRIMARY KEY, id TEXT UNIQUE, '
                     f"{cols}, deleted INTEGER NOT NULL DEFAULT 0, created_at TEXT, "
                     "updated_at TEXT, _clocks TEXT NOT NULL DEFAULT '{}', "
                     f"{FIRST_WRITE} INTEGER)")
        fields = ent.fields
        marks = ", ".join("?" for _ in range(len(fields) + 6))
        rows = []
        for rid, values, stamps in records.get(name, ()):
            first, first_ms = _first_write(stamps.values())
            rows.append((rid, *(_cell(f.type, values.get(f.name)) for f in fields),
                         int(bool(values.get(DELETED))), first, first,
                         json.dumps(dict(stamps)), first_ms))
        conn.executemany(f'INSERT INTO "{name}" (id, {cols}, deleted, created_at, '
                         f"updated_at, _clocks, {FIRST_WRITE}) VALUES ({marks})", rows)
    for sql in _INDEXES:
        conn.execute(sql)
    return conn
