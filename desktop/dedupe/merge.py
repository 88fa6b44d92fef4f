"""Merging two records of one customer: the survivor keeps, field by field, the value
chosen (default: the newer non-empty one), every child record that pointed at the other
one points at the survivor, and the other becomes a tombstone with `merged_into`.

Everything is ordinary repository writes in one transaction, so every step has its
journal entry and every device converges on the same survivor. A write to the
merged-away record that arrives later (an offline edit) is redirected by whoever
applies it (desktop.store.remote on pull, server.redirect on push).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.errors import NotFoundError, ValidationError
from desktop.schema import ENTITIES, EXTERNAL_IDS, MERGED_INTO, FieldType, to_utc_iso
from desktop.store.rows import clocks_of

if TYPE_CHECKING:
    from desktop.store.store import Store

MERGEABLE = ("account", "contact")
# Never chosen from the other record: who owns the survivor does not change by a merge
# unless asked (--take owner), merged_into is the merge's own mark, and ids in other
# systems are the server's (a device's write of them is refused; its table of them
# still names the merged-away record).
_NOT_CHOSEN = {MERGED_INTO, EXTERNAL_IDS}


@dataclass(frozen=True)
class MergeResult:
    entity: str
    kept: dict[str, Any]
    dropped_id: str
    taken: dict[str, Any]  # fields whose value came from the dropped record
    moved: dict[str, int]  # "entity.field" -> children re-pointed
    log_id: str

    def as_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "kept": self.kept, "dropped_id": self.dropped_id,
                "taken": self.taken, "moved": self.moved, "log_id": self.log_id}


def references_to(entity: str) -> list[tuple[str, str]]:
    """(child entity, field) of every reference to `entity` in the schema."""
    return [(e.name, f.name) for e in ENTITIES.values() for f in e.fields
            if f.type is FieldType.REF and f.ref == entity and f.name != MERGED_INTO]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def choose(entity: str, keep: dict[str, Any], keep_clocks: dict[str, str], drop: dict[str, Any],
           drop_clocks: dict[str, str], take: Iterable[str] = (),
           keep_own: Iterable[str] = ()) -> dict[str, Any]:
    """The fields whose value the survivor takes from the dropped record: those named
    in `take`, and each other field not in `keep_own` where the dropped record's value
    is non-empty and either the survivor's is empty or the dropped one was written later."""
    ent = ENTITIES[entity]
    take = set(take)
    own = set(keep_own) - take
    for name in take | own:
        if name in _NOT_CHOSEN:
            raise ValidationError(
                f"'{name}' cannot be taken from the merged-away record.", field=name)
        ent.field(name)  # raises for an unknown field
    out: dict[str, Any] = {}
    for f in ent.fields:
        name = f.name
        if name in _NOT_CHOSEN or name in own or (name == "owner" and name not in take):
            continue
        mine, theirs = keep.get(name), drop.get(name)
        if name in take:
            if theirs != mine:
                out[name] = theirs
        elif not _empty(theirs) and theirs != mine and (
                _empty(mine) or drop_clocks.get(name, "") > keep_clocks.get(name, "")):
            out[name] = theirs
    return out


def merge(store: Store, entity: str, keep_id: str, drop_id: str,
          take: Iterable[str] = (), *, keep_own: Iterable[str] = ()) -> MergeResult:
    """Merge `drop_id` into `keep_id` (both live records of `entity`). Raises
    ValidationError for a merge that cannot be done, NotFoundError for a missing record."""
    if entity not in MERGEABLE:
        raise ValidationError(f"Only accounts and contacts are merged, not '{entity}'.")
    if keep_id == drop_id:
        raise ValidationError("A record cannot be merged into itself.")
    repo = store.repo(entity)
    ent = repo.entity
    with store.write() as w:
        rows = {}
        for rid in (keep_id, drop_id):
            row = w.conn.execute(f'SELECT * FROM "{entity}" WHERE id = ?', (rid,)).fetchone()
            if row is None or row["deleted"]:
                raise NotFoundError(f"No {ent.label_en.lower()} with id {rid}.")
            rows[rid] = row
        keep, drop = repo.get(keep_id), repo.get(drop_id)
        taken = choose(entity, keep, clocks_of(ent, rows[keep_id]), drop,
                       clocks_of(ent, rows[drop_id]), take, keep_own)
        kept = repo.update(keep_id, taken) if taken else keep
        moved: dict[str, int] = {}
        repoint: dict[tuple[str, str], dict[str, str]] = {}  # one write per child record
        for child, field in references_to(entity):
            ids = [r[0] for r in w.conn.execute(
                f'SELECT id FROM "{child}" WHERE "{field}" = ? AND deleted = 0', (drop_id,))]
            for cid in ids:
                repoint.setdefault((child, cid), {})[field] = keep_id
            if ids:
                moved[f"{child}.{field}"] = len(ids)
        for (child, cid), changes in repoint.items():
            store.repo(child).update(cid, changes)
        repo.update(drop_id, {MERGED_INTO: keep_id})
        repo.delete(drop_id)
        title = ent.title_field
        log = store.repo("merge_log").create({
            "entity": entity, "kept_id": keep_id, "dropped_id": drop_id,
            "kept_name": (kept.get(title) or "")[:200],
            "dropped_name": (drop.get(title) or "")[:200],
            "choices": json.dumps(
                {f.name: {"value": kept.get(f.name),
                          "from": "dropped" if f.name in taken else "kept"}
                 for f in ent.fields if f.name not in _NOT_CHOSEN
                 and not (_empty(kept.get(f.name)) and _empty(drop.get(f.name)))},
                ensure_ascii=False),
            "merged_by": store.user or store.device_id,
            "merged_at": to_utc_iso(dt.datetime.now(dt.UTC)),
        })
        w.changed(entity, keep_id)
    return MergeResult(entity, kept, drop_id, taken, moved, log["id"])


def survivor(store: Store, entity: str, record_id: str) -> str:
    """The record that `record_id` was merged into, followed to the end (itself if it
    was never merged)."""
    seen = {record_id}
    current = record_id
    while True:
        row = store.conn.execute(
            f'SELECT merged_into FROM "{entity}" WHERE id = ?', (current,)).fetchone()
        if row is None or not row[0] or row[0] in seen:
            return current
        current = row[0]
        seen.add(current)
