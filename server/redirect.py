"""Writes to merged-away records land on their survivor (issue 15).

A merge (desktop.dedupe.merge) ends with the dropped record's `merged_into` set. From then
on, a pushed entry that writes to a merged-away account or contact (an edit made
offline before the device heard of the merge) also writes its fields to the survivor,
and a reference to a merged-away record (a deal or activity made offline for it) is
rewritten to the survivor. Both are stamped with the original stamp plus
desktop.schema.REDIRECTED: every client that applies the same change makes the same
write (desktop.store.remote), so all replicas converge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from desktop.schema import (
    DELETED,
    ENTITIES,
    MAX_REDIRECTS,
    MERGED_INTO,
    FieldType,
    redirected_stamp,
)
from server import tables as t

MERGEABLE = frozenset({"account", "contact"})
# entity -> [(field, entity it refers to)] for references to mergeable records
REFS: dict[str, list[tuple[str, str]]] = {}
for _ent in ENTITIES.values():
    for _f in _ent.fields:
        if _f.type is FieldType.REF and _f.ref in MERGEABLE and _f.name != MERGED_INTO:
            REFS.setdefault(_ent.name, []).append((_f.name, _f.ref))

Merged = dict[tuple[str, str], str]  # (entity, record id) -> the record it was merged into


def _ids(entries: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for e in entries:
        if e.entity in MERGEABLE:
            out.add(e.record_id)
        for field, _ref in REFS.get(e.entity, ()):
            w = e.fields.get(field)
            if w is not None and isinstance(w[0], str):
                out.add(w[0])
    return out


def load(conn: sa.Connection, entries: Iterable[Any]) -> Merged:
    """The merged-away records among those the entries write or refer to, and the
    records they were merged into (followed), so chains resolve."""
    if conn.execute(sa.select(t.merged_records.c.record_id).limit(1)).first() is None:
        return {}
    merged: Merged = {}
    wanted = _ids(entries)
    for _ in range(MAX_REDIRECTS):
        if not wanted:
            break
        rows = conn.execute(sa.select(t.merged_records).where(
            t.merged_records.c.record_id.in_(sorted(wanted)))).fetchall()
        wanted = set()
        for entity, record_id, into in rows:
            if (entity, record_id) not in merged:
                merged[(entity, record_id)] = into
                wanted.add(into)
    return merged


def survivor(merged: Merged, entity: str, record_id: str) -> str | None:
    """The record `record_id` ended up merged into, or None if it was not merged."""
    current, hops = record_id, 0
    while (entity, current) in merged and hops < MAX_REDIRECTS:
        current = merged[(entity, current)]
        hops += 1
    return None if current == record_id else current


def rewrite_references(entry: Any, merged: Merged) -> None:
    """Point the entry's references to merged-away records at their survivors."""
    for field, ref in REFS.get(entry.entity, ()):
        w = entry.fields.get(field)
        if w is None or not isinstance(w[0], str):
            continue
        to = survivor(merged, ref, w[0])
        if to is not None:
            entry.fields[field] = (to, redirected_stamp(w[1]), None)


def moved_fields(entry: Any, merged: Merged) -> tuple[str, dict[str, tuple[Any, str, None]]] | None:
    """(survivor id, the entry's writes restamped for it) when the entry writes to a
    merged-away record; None otherwise. The tombstone and the merge mark stay behind."""
    if entry.entity not in MERGEABLE:
        return None
    to = survivor(merged, entry.entity, entry.record_id)
    if to is None:
        return None
    writes = {k: (v, redirected_stamp(stamp), None) for k, (v, stamp, _base) in entry.fields.items()
              if k not in (DELETED, MERGED_INTO)}
    return (to, writes) if writes else None


def note(entry: Any, merged: Merged) -> tuple[str, str, str] | None:
    """An applied entry that merges its record away: remember it (and return the row)."""
    if entry.entity not in MERGEABLE or MERGED_INTO not in entry.fields:
        return None
    into = entry.fields[MERGED_INTO][0]
    if not isinstance(into, str) or into == entry.record_id:
        return None
    merged[(entry.entity, entry.record_id)] = into
    return (entry.entity, entry.record_id, into)


def save(conn: sa.Connection, rows: list[tuple[str, str, str]]) -> None:
    for entity, record_id, into in rows:
        conn.execute(t.merged_records.delete().where(
            (t.merged_records.c.entity == entity) & (t.merged_records.c.record_id == record_id)))
        conn.execute(t.merged_records.insert().values(entity=entity, record_id=record_id,
                                                      merged_into=into))


def move_external_ids(conn: sa.Connection, rows: list[tuple[str, str, str]]
                      ) -> list[tuple[str, str]]:
    """A merged-away record's ids in other systems move to its survivor, for each system
    the survivor has no id in (it keeps its own where both have one: the other system
    then holds a duplicate, and `integrations.find_external` still leads the old id to
    the survivor through the merge). Returns the survivors whose ids changed."""
    x = t.external_ids
    changed: list[tuple[str, str]] = []
    for entity, record_id, into in rows:
        held = set(conn.execute(sa.select(x.c.system).where(
            x.c.entity == entity, x.c.record_id == into)).scalars())
        moving = [s for s in conn.execute(sa.select(x.c.system).where(
            x.c.entity == entity, x.c.record_id == record_id)).scalars() if s not in held]
        if moving:
            conn.execute(x.update().where(x.c.entity == entity, x.c.record_id == record_id,
                                          x.c.system.in_(moving)).values(record_id=into))
            changed.append((entity, into))
    return changed


def survivor_of(conn: sa.Connection, entity: str, record_id: str) -> str:
    """The record `record_id` ended up merged into (itself if it was not merged)."""
    current = record_id
    for _ in range(MAX_REDIRECTS):
        into = conn.execute(sa.select(t.merged_records.c.merged_into).where(
            t.merged_records.c.entity == entity,
            t.merged_records.c.record_id == current)).scalar_one_or_none()
        if into is None or into == current:
            break
        current = into
    return current
