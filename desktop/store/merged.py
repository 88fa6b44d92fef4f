"""Pulled changes follow merges (issue 15), the client half of server.redirect.

A pulled write to an account or contact this device knows was merged away (its row has
`merged_into`, or the same batch brings it) also lands on the survivor, and a pulled
reference to one is rewritten to the survivor, each stamped with the original stamp plus
desktop.schema.REDIRECTED, as the server does for pushes. This device journals the
redirected writes that won locally: a write that reached the server before the merge
did is redirected nowhere else, so the devices that know of the merge carry it over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from desktop.schema import (
    DELETED,
    ENTITIES,
    MAX_REDIRECTS,
    MERGED_INTO,
    FieldType,
    redirected_stamp,
)

MERGEABLE = ("account", "contact")
REFS: dict[str, list[tuple[str, str]]] = {}
for _ent in ENTITIES.values():
    for _f in _ent.fields:
        if _f.type is FieldType.REF and _f.ref in MERGEABLE and _f.name != MERGED_INTO:
            REFS.setdefault(_ent.name, []).append((_f.name, _f.ref))

Batch = dict[tuple[str, str], dict[str, Any]]  # (entity, id) -> {field: {"value", "hlc"}}
Redirected = list[tuple[str, str, str]]  # (entity, record id, field) written by a redirect


def _known_merges(conn: Any, batch: Batch) -> dict[tuple[str, str], str]:
    # Only entities with a merged-away record on this device are looked up (most devices
    # have none; the partial index answers at once), so a first sync's pages skip it.
    stored = {e for e in MERGEABLE if conn.execute(
        f'SELECT 1 FROM "{e}" WHERE merged_into IS NOT NULL LIMIT 1').fetchone() is not None}
    wanted: dict[str, set[str]] = {e: set() for e in MERGEABLE}
    merged: dict[tuple[str, str], str] = {}
    for (entity, record_id), fields in batch.items():
        if entity in wanted:
            if entity in stored:
                wanted[entity].add(record_id)
            into = fields.get(MERGED_INTO, {}).get("value")
            if isinstance(into, str) and into != record_id:
                merged[(entity, record_id)] = into
        for field, ref in REFS.get(entity, ()):
            if ref not in stored:
                continue
            value = fields.get(field, {}).get("value")
            if isinstance(value, str):
                wanted[ref].add(value)
    for entity, ids in wanted.items():
        for _ in range(MAX_REDIRECTS):
            if not ids:
                break
            rows = conn.execute(
                f'SELECT id, merged_into FROM "{entity}" WHERE merged_into IS NOT NULL AND id IN '
                "(SELECT value FROM json_each(?))", (json.dumps(sorted(ids)),)).fetchall()
            ids = set()
            for rid, into in rows:
                if (entity, rid) not in merged:
                    merged[(entity, rid)] = into
                    ids.add(into)
    return merged


def _survivor(merged: Mapping[tuple[str, str], str], entity: str, record_id: str) -> str | None:
    current, hops = record_id, 0
    while (entity, current) in merged and hops < MAX_REDIRECTS:
        current = merged[(entity, current)]
        hops += 1
    return None if current == record_id else current


def _present(conn: Any, entity: str, ids: set[str]) -> set[str]:
    return {r[0] for r in conn.execute(
        f'SELECT id FROM "{entity}" WHERE id IN (SELECT value FROM json_each(?))',
        (json.dumps(sorted(ids)),))}


def follow_merges(conn: Any, batch: Batch) -> Redirected:
    """Rewrite `batch` in place; returns the writes the redirects added. A survivor this
    device does not hold (yet) gets nothing: a record is never made from moved fields."""
    merged = _known_merges(conn, batch)
    if not merged:
        return []
    survivors: dict[str, set[str]] = {}
    for (entity, _), into in merged.items():
        survivors.setdefault(entity, set()).add(into)
    held = {(e, rid) for e, ids in survivors.items() for rid in _present(conn, e, ids)}
    held |= set(batch)
    added: Redirected = []
    # The batch's field dicts may be the caller's (desktop.store.remote keeps the pulled
    # ones as they came): each is copied before its first rewrite.
    copied: set[tuple[str, str]] = set()

    def own(key: tuple[str, str]) -> dict[str, Any]:
        if key not in copied:
            batch[key] = dict(batch.get(key, {}))
            copied.add(key)
        return batch[key]

    for entity, record_id in list(batch):
        fields = batch[(entity, record_id)]
        for field, ref in REFS.get(entity, ()):
            fw = fields.get(field)
            if fw is None or not isinstance(fw.get("value"), str):
                continue
            to = _survivor(merged, ref, fw["value"])
            if to is not None:
                fields = own((entity, record_id))
                fields[field] = {"value": to, "hlc": redirected_stamp(fw["hlc"])}
                added.append((entity, record_id, field))
        to = _survivor(merged, entity, record_id) if entity in MERGEABLE else None
        if to is None or (entity, to) not in held:
            continue
        target = own((entity, to))
        for field, fw in fields.items():
            if field in (DELETED, MERGED_INTO):
                continue
            stamp = redirected_stamp(fw["hlc"])
            have = target.get(field)
            if have is None or stamp > have["hlc"]:
                target[field] = {"value": fw["value"], "hlc": stamp}
                added.append((entity, to, field))
    return added
