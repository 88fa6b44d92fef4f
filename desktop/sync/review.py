"""What the sync review windows list (no Qt): open conflicts and parked journal entries
("sync problems"), each with the record's title and the field labels a person reads.
Both run on the store worker (`ctx.run(load_conflicts, ...)`) or from a script."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from desktop.errors import NotFoundError
from desktop.schema import ENTITIES, Entity

if TYPE_CHECKING:
    from desktop.store import Store


def _title(store: Store, entity: str, record_id: str) -> str:
    """The record's title (also of a deleted record); its id's start when it has none."""
    ent = ENTITIES.get(entity)
    try:
        rec = store.repo(entity).get(record_id, include_deleted=True)
    except NotFoundError:
        return record_id[:8]
    return str(rec.get(ent.title_field) if ent else "") or record_id[:8]


def load_conflicts(store: Store) -> list[dict[str, Any]]:
    """Open conflicts with the record's title and the field's label (runs on the worker)."""
    out = []
    for c in store.open_conflicts():
        ent = ENTITIES.get(c.entity)
        title = _title(store, c.entity, c.record_id)
        label = ent.field(c.field).label_en if ent and ent.has_field(c.field) else c.field
        label_zh = ent.field(c.field).label_zh if ent and ent.has_field(c.field) else c.field
        out.append({"id": c.id, "entity": c.entity, "record_id": c.record_id, "title": title,
                    "field": c.field, "label": label, "label_zh": label_zh,
                    "mine": c.local_value, "theirs": c.remote_value, "at": c.detected_at})
    return out


def load_problems(store: Store) -> list[dict[str, Any]]:
    """Journal entries the server refused ("parked"), with what they change and why."""
    out = []
    for e in store.journal.parked():
        ent = ENTITIES.get(e.entity)
        title = _title(store, e.entity, e.record_id)
        change = ", ".join(f"{_label(ent, k)} = {json.dumps(v['value'], ensure_ascii=False)}"
                           for k, v in e.fields.items())
        out.append({"seq": e.seq, "entity": e.entity, "record_id": e.record_id, "title": title,
                    "change": change, "reason": e.reason or ""})
    return out


def _label(ent: Entity | None, name: str) -> str:
    return str(ent.field(name).label_en) if ent is not None and ent.has_field(name) else name
