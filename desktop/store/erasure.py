"""A person's export and erasure (PIPL / GDPR), on this device's store.

    export_person(store, contact_id) -> dict        everything held here about one person
    erase_person(store, contact_id, by="admin")     blank the person everywhere (synced)
    purge_traces(store, w, contact_ids)             the local history of an erased person

Erasing writes, as ordinary journaled edits that every device and the server merge:
the contact's identifying fields (name -> ERASED, title, phones, email, WeChat and its
custom text fields -> empty), the text of the activities linked to the person (subject
-> ERASED, body, outcome and attachments -> empty) and the names in merge entries; plus
an `erasure` record whose id is the contact's id (desktop.schema.ERASURE), which holds no
personal data. Amounts, dates, kinds and links are kept, so reports still add up.

Every device that applies an `erasure` record (its own or a pulled one) then purges what
is left locally: the person's values in journal entries not yet pushed or parked, its
conflicts, values a type change kept aside, its blobs (unless another record refers to
them), and the search index's old terms (an FTS5 optimize); `secure_delete` (set when the
store is opened) overwrites the freed pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from desktop.errors import NotFoundError
from desktop.schema import (
    ENTITIES,
    ERASED_TEXT,
    MERGED_INTO,
    erasure_blanks,
    is_erased_value,
    validate_changes,
)
from desktop.store.ids import utc_now_iso
from desktop.store.rows import field_type, from_row, to_column

ERASED = ERASED_TEXT
ERASED_REASON = "This person's data was erased on request."
ENTITY = "erasure"
ACTIVITY_VALUES = erasure_blanks("activity")


def contact_values() -> dict[str, Any]:
    return erasure_blanks("contact")


def person_ids(store: Any, contact_id: str) -> list[str]:
    """The contact and every contact merged into it (the same person's older copies)."""
    ids, todo = [contact_id], [contact_id]
    while todo:
        rows = store.conn.execute(
            f'SELECT id FROM contact WHERE "{MERGED_INTO}" = ?', (todo.pop(),)).fetchall()
        for (rid,) in rows:
            if rid not in ids:
                ids.append(rid)
                todo.append(rid)
    return ids


def _marks(ids: list[str]) -> str:
    return ", ".join("?" * len(ids))


def _activities(store: Any, ids: list[str]) -> list[str]:
    return [r[0] for r in store.conn.execute(
        f"SELECT id FROM activity WHERE contact_id IN ({_marks(ids)})", ids)]


def _merge_logs(store: Any, ids: list[str]) -> list[str]:
    return [r[0] for r in store.conn.execute(
        f"SELECT id FROM merge_log WHERE entity = 'contact' AND "
        f"(kept_id IN ({_marks(ids)}) OR dropped_id IN ({_marks(ids)}))", ids + ids)]


def _get(store: Any, entity: str, record_id: str) -> dict[str, Any] | None:
    row = store.conn.execute(f'SELECT * FROM "{entity}" WHERE id = ?', (record_id,)).fetchone()
    return None if row is None else from_row(ENTITIES[entity], row)


def export_person(store: Any, contact_id: str) -> dict[str, Any]:
    """Everything this device holds about one person: the contact (and the contacts
    merged into it), the activities linked to it, the merge entries, the attachments
    of those activities (metadata and whether the file is here), open conflicts and
    journal entries not yet accepted by the server. Raises NotFoundError."""
    if _get(store, "contact", contact_id) is None:
        if _has_lead(store, contact_id):
            return _export_lead(store, contact_id)
        raise NotFoundError(f"No contact with id {contact_id}.")
    ids = person_ids(store, contact_id)
    acts = _activities(store, ids)
    related = [("contact", i) for i in ids] + [("activity", i) for i in acts]
    files = sorted({sha for a in acts for sha in (_get(store, "activity", a) or {}).get(
        "attachments") or []})
    conflicts = [dict(r) for r in store.conn.execute(
        "SELECT entity, record_id, field, local_value, remote_value, detected_at, resolution "
        "FROM conflicts WHERE " + " OR ".join("(entity = ? AND record_id = ?)" for _ in related),
        [x for pair in related for x in pair])] if related else []
    journal = [{"entity": r["entity"], "record_id": r["record_id"], "state": r["state"],
                "created_at": r["created_at"], "fields": json.loads(r["fields"])}
               for r in store.conn.execute(
                   "SELECT * FROM journal WHERE " + " OR ".join(
                       "(entity = ? AND record_id = ?)" for _ in related),
                   [x for pair in related for x in pair])]
    erasure = _get(store, ENTITY, contact_id)
    return {
        "contact_id": contact_id,
        "exported_at": utc_now_iso(),
        "erased": erasure is not None,
        "contacts": [_get(store, "contact", i) for i in ids],
        "activities": [_get(store, "activity", a) for a in acts],
        "merge_log": [_get(store, "merge_log", m) for m in _merge_logs(store, ids)],
        "files": [{"sha256": s, "on_this_device": store.blobs.has(s)} for s in files],
        "conflicts": conflicts,
        "journal": journal,
    }


def _export_lead(store: Any, lead_id: str) -> dict[str, Any]:
    journal = [{"entity": r["entity"], "record_id": r["record_id"], "state": r["state"],
                "created_at": r["created_at"], "fields": json.loads(r["fields"])}
               for r in store.conn.execute(
                   "SELECT * FROM journal WHERE entity = 'lead' AND record_id = ?", (lead_id,))]
    conflicts = [dict(r) for r in store.conn.execute(
        "SELECT entity, record_id, field, local_value, remote_value, detected_at, resolution "
        "FROM conflicts WHERE entity = 'lead' AND record_id = ?", (lead_id,))]
    return {"contact_id": lead_id, "exported_at": utc_now_iso(),
            "erased": _get(store, ENTITY, lead_id) is not None,
            "leads": [_get(store, "lead", lead_id)], "contacts": [], "activities": [],
            "merge_log": [], "files": [], "conflicts": conflicts, "journal": journal}


def _blank(store: Any, w: Any, entity: str, record_id: str, values: dict[str, Any]) -> bool:
    """Write `values` to a record even if it is a tombstone (journaled, stamped).
    Returns whether anything changed."""
    ent = ENTITIES[entity]
    row = w.conn.execute(f'SELECT * FROM "{entity}" WHERE id = ?', (record_id,)).fetchone()
    if row is None:
        return False
    old = from_row(ent, row)
    clean = validate_changes(ent, {k: v for k, v in values.items() if ent.has_field(k)})
    diff = {k: v for k, v in clean.items() if old.get(k) != v}
    if not diff:
        return False
    store.repo(entity)._write_fields(w, row, old, diff)
    w.changed(entity, record_id)
    return True


def erase_person(store: Any, contact_id: str, *, by: str) -> dict[str, Any]:
    """Erase one person, a contact or a lead (see the module docstring), in one
    transaction. Raises NotFoundError for an unknown id. Returns counts of what was
    blanked."""
    if _get(store, "contact", contact_id) is None:
        if _has_lead(store, contact_id):
            return _erase_lead(store, contact_id, by=by)
        raise NotFoundError(f"No contact with id {contact_id}.")
    with store.write() as w:
        ids = person_ids(store, contact_id)
        acts = _activities(store, ids)
        logs = _merge_logs(store, ids)
        shas = _attachment_shas(w.conn, acts)
        contacts = sum(_blank(store, w, "contact", i, contact_values()) for i in ids)
        activities = sum(_blank(store, w, "activity", a, ACTIVITY_VALUES) for a in acts)
        merge_entries = 0
        for m in logs:
            rec = _get(store, "merge_log", m) or {}
            values: dict[str, Any] = {"choices": None}
            if rec.get("kept_id") in ids:
                values["kept_name"] = ERASED
            if rec.get("dropped_id") in ids:
                values["dropped_name"] = ERASED
            merge_entries += _blank(store, w, "merge_log", m, values)
        record = {"entity": "contact", "erased_by": by, "erased_at": utc_now_iso()}
        if _get(store, ENTITY, contact_id) is None:
            store.repo(ENTITY).create(record, record_id=contact_id)
        else:
            _blank(store, w, ENTITY, contact_id, record)
        purged = purge_traces(store, w, ids, shas)
    checkpoint(store)
    return {"contact_id": contact_id, "contacts": contacts, "activities": activities,
            "merge_entries": merge_entries, **purged}


def _has_lead(store: Any, record_id: str) -> bool:
    return "lead" in ENTITIES and _get(store, "lead", record_id) is not None


def _erase_lead(store: Any, lead_id: str, *, by: str) -> dict[str, Any]:
    with store.write() as w:
        leads = int(_blank(store, w, "lead", lead_id, erasure_blanks("lead")))
        record = {"entity": "lead", "erased_by": by, "erased_at": utc_now_iso()}
        if _get(store, ENTITY, lead_id) is None:
            store.repo(ENTITY).create(record, record_id=lead_id)
        else:
            _blank(store, w, ENTITY, lead_id, record)
        purged = purge_traces(store, w, [lead_id])
    checkpoint(store)
    return {"contact_id": lead_id, "leads": leads, "contacts": 0, "activities": 0,
            "merge_entries": 0, **purged}


def _attachment_shas(conn: Any, acts: list[str]) -> set[str]:
    shas: set[str] = set()
    for (text,) in conn.execute(
            f"SELECT attachments FROM activity WHERE id IN ({_marks(acts)})", acts):
        if text:
            shas.update(json.loads(text))
    return shas


def _still_referenced(conn: Any, sha: str) -> bool:
    like = f'%"{sha}"%'
    return any(conn.execute(sql, params).fetchone() for sql, params in (
        ("SELECT 1 FROM activity WHERE attachments LIKE ? LIMIT 1", (like,)),
        ("SELECT 1 FROM contract WHERE pages LIKE ? LIMIT 1", (like,)),
        ("SELECT 1 FROM attachment WHERE sha256 = ? AND NOT deleted LIMIT 1", (sha,)),
    ))


def purge_traces(store: Any, w: Any, contact_ids: Iterable[str],
                 shas: Iterable[str] = ()) -> dict[str, int]:
    """Remove what is left of erased persons in this store, inside the write `w`: their
    values in pending and parked journal entries (the erased value takes their place,
    the stamps stay), their conflicts and kept-aside values, the blob files `shas` no
    other record refers to, and the search index's old terms."""
    ids = list(dict.fromkeys(contact_ids))
    for cid in list(ids):
        ids.extend(i for i in person_ids(store, cid) if i not in ids)
    acts = _activities(store, ids)
    blanks = {"contact": contact_values(), "activity": ACTIVITY_VALUES}
    kinds: list[tuple[str, list[str]]] = [("contact", ids), ("activity", acts)]
    if "lead" in ENTITIES:  # an erased lead has its id among `contact_ids` too
        blanks["lead"] = erasure_blanks("lead")
        kinds.append(("lead", ids))
    journal = 0
    for entity, rids in kinds:
        if not rids:
            continue
        for seq, text in w.conn.execute(
                f"SELECT seq, fields FROM journal WHERE entity = ? AND record_id IN "
                f"({_marks(rids)})", [entity, *rids]).fetchall():
            fields = json.loads(text)
            changed = False
            for name, blank in blanks[entity].items():
                if name in fields and isinstance(fields[name], dict) \
                        and not is_erased_value(fields[name].get("value"), blank):
                    fields[name]["value"] = blank
                    changed = True
            if changed:
                w.conn.execute("UPDATE journal SET fields = ? WHERE seq = ?",
                               (json.dumps(fields, ensure_ascii=False), seq))
                journal += 1
        # A parked entry's reason may quote a refused value (a phone number, a name).
        w.conn.execute(
            f"UPDATE journal SET reason = ? WHERE reason IS NOT NULL AND entity = ? "
            f"AND record_id IN ({_marks(rids)})", [ERASED_REASON, entity, *rids])
    # Local values kept for entries the server refused (a parked edit of the person):
    # replaced here without a journal entry, as the server holds the erased ones.
    scrubbed = sum(_scrub(store, w, entity, i, blanks[entity])
                   for entity, rids in kinds for i in rids)
    conflicts = kept = 0
    for entity, rids in kinds:
        if rids:
            conflicts += w.conn.execute(
                f"DELETE FROM conflicts WHERE entity = ? AND record_id IN ({_marks(rids)})",
                [entity, *rids]).rowcount
            kept += w.conn.execute(
                f"DELETE FROM kept_value WHERE entity = ? AND record_id IN ({_marks(rids)})",
                [entity, *rids]).rowcount
    if conflicts:
        w.changed("conflicts", None)
    removed = 0
    for sha in sorted(set(shas)):
        if store.blobs.has(sha) and not _still_referenced(w.conn, sha):
            store.blobs.path(sha).unlink(missing_ok=True)
            removed += 1
    # FTS5 keeps a replaced document's terms in its segments until they are merged.
    w.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    return {"journal_entries": journal, "conflicts": conflicts, "kept_values": kept,
            "files": removed, "rows_scrubbed": scrubbed}


def _scrub(store: Any, w: Any, entity: str, record_id: str, values: dict[str, Any]) -> bool:
    ent = ENTITIES[entity]
    row = w.conn.execute(f'SELECT * FROM "{entity}" WHERE id = ?', (record_id,)).fetchone()
    if row is None:
        return False
    old = from_row(ent, row)
    diff = {k: v for k, v in values.items()
            if ent.has_field(k) and not is_erased_value(old.get(k), v)}
    if not diff:
        return False
    sets = ", ".join(f'"{k}" = ?' for k in diff)
    w.conn.execute(f'UPDATE "{entity}" SET {sets} WHERE rid = ?',
                   [*(to_column(field_type(ent, k), v) for k, v in diff.items()), row["rid"]])
    store.repo(entity)._reindex(w.conn, row["rid"], old, {**old, **diff})
    w.changed(entity, record_id)
    return True


def erased_in(changes: Iterable[tuple[str, str]]) -> list[str]:
    """The contact ids of the erasure records among (entity, record_id) keys."""
    return [rid for entity, rid in changes if entity == ENTITY]


def files_of(store: Any, contact_ids: list[str]) -> set[str]:
    """The blobs of the activities linked to these persons (read before they are blanked)."""
    ids = [i for cid in contact_ids for i in person_ids(store, cid)]
    return _attachment_shas(store.conn, _activities(store, ids)) if ids else set()


def checkpoint(store: Any) -> None:
    """Fold the WAL into the store and truncate it, so old pages holding erased text
    leave the log (best effort: skipped while another connection reads)."""
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

