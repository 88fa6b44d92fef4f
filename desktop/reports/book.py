"""The report definitions over records that are not in a laptop's store: the server's
team book. The records are laid out as the store lays them out (one table per entity,
a column per field, `_clocks`), in an in-memory SQLite, so the very same SQL runs.

A record's `created_at` here is the moment of its oldest field stamp (the store's is
when it arrived on that laptop, never earlier): the golden-72 rule reads first writes
from `_clocks` either way.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from desktop.schema import DELETED, ENTITIES, FieldType
from desktop.store.followup_tables import EVIDENCE_SQL

# what each report reads
NEEDS: dict[str, tuple[str, ...]] = {
    "pipeline": ("deal", "pipeline_rule", "fx_rate"),
    "forecast": ("deal", "pipeline_rule", "fx_rate"),
    "win-rate": ("deal", "lead", "fx_rate"),
    "activities": ("activity",),
    "golden-72": ("account", "deal", "activity"),
    "lead-sla": ("lead", "lead_policy"),
    "collections": ("contract", "deal", "payment", "fx_rate"),
}
_INDEXES = (  # those the reports name (INDEXED BY) or need, as the store has them
    'CREATE INDEX activity_when ON activity (coalesce(done_at, due_at, created_at), rid) '
    "WHERE deleted = 0",
    "CREATE INDEX payment_ix0 ON payment (deal_id, currency, date, id, kind, amount, owner) "
    "WHERE deleted = 0",
    "CREATE INDEX followup_evidence_account ON activity (account_id) WHERE deleted = 0 AND "
    f"account_id IS NOT NULL AND {EVIDENCE_SQL}",
    "CREATE INDEX followup_evidence_deal ON activity (deal_id) WHERE deleted = 0 AND "
    f"deal_id IS NOT NULL AND {EVIDENCE_SQL}",
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


def _first_write(stamps: Iterable[str]) -> str:
    ms = [int(s[:13]) for s in stamps if s[:13].isdigit()]
    moment = dt.datetime.fromtimestamp(min(ms) / 1000 if ms else 0, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
                     "updated_at TEXT, _clocks TEXT NOT NULL DEFAULT '{}')")
        fields = ent.fields
        marks = ", ".join("?" for _ in range(len(fields) + 5))
        rows = []
        for rid, values, stamps in records.get(name, ()):
            first = _first_write(stamps.values())
            rows.append((rid, *(_cell(f.type, values.get(f.name)) for f in fields),
                         int(bool(values.get(DELETED))), first, first,
                         json.dumps(dict(stamps))))
        conn.executemany(f'INSERT INTO "{name}" (id, {cols}, deleted, created_at, '
                         f"updated_at, _clocks) VALUES ({marks})", rows)
    for sql in _INDEXES:
        conn.execute(sql)
    return conn
