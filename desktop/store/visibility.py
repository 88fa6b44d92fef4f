"""A device converging with the fields its user may read (issue 24, desktop.visibility).

Every pull page carries the user's policy: the fields they may not read, hidden or
masked. When it differs from the one this store holds, `converge` purges, in one
transaction, every value of each field whose treatment changed: the records' rows and
clocks, the journal (pending and parked entries), open and resolved conflicts, values
kept aside by type changes, the search documents and duplicate keys built from them.
It does so with SQLite's secure_delete on (every store connection has it, see
desktop.store.database), merges the search index's segments so no old
token stays, and checkpoints the WAL to zero bytes afterwards, so no byte of a purged
value is left in the profile folder's files. Record types where the user may now see
more (readable, or a masked copy) are marked to be pulled again from the start
(`repull_wanted`; desktop.sync.engine): their clocks were cleared, so what arrives is
taken.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from desktop.schema import ENTITIES, SHARED_OWNER, Check
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.firstwrite import ENTITIES as FIRST_WRITE_ENTITIES
from desktop.store.firstwrite import ROW_SQL as FIRST_WRITE_SQL
from desktop.store.journal import LOST_PREFIX
from desktop.store.rows import from_row
from desktop.store.textindex import build_doc, replace_doc
from desktop.visibility import HIDDEN, MASKED, Policy, changed_fields

if TYPE_CHECKING:
    from desktop.store.store import Store

POLICY_KEY = "visibility_policy"
REPULL_KEY = "visibility_repull"  # {"entities": [...], "cursor": N}
SCOPE_KEY = "visibility_scope"  # the owners whose records this device holds (null: all)
SCOPE_WAITING_KEY = "visibility_scope_waiting"  # records out of scope kept for unsent writes
CHECKPOINT_TRIES = 20
_HASH_RE = re.compile(r"[0-9a-f]{64}")
# The policy of each open profile, as its stores last read or received it: the UI reads
# it here (its thread never touches SQLite; desktop.ui.records.record_dialog).
_by_profile: dict[str, Policy] = {}


def held_policy(store: Store, conn: sqlite3.Connection | None = None) -> Policy:
    """The policy this store last received ({} before the first)."""
    row = (conn or store.conn).execute(
        "SELECT value FROM meta WHERE key = ?", (POLICY_KEY,)).fetchone()
    policy: Policy = dict(orjson.loads(row[0])) if row else {}
    _by_profile[str(store.profile)] = policy
    return policy


def unreadable_in(profile: Path, entity: str) -> dict[str, str]:
    """Field -> hidden | masked: the fields of `entity` the user of the store at `profile`
    may not read, as last read from it (no SQLite here)."""
    return dict(_by_profile.get(str(profile), {}).get(entity, {}))


def masked_fields(store: Store, entity: str) -> frozenset[str]:
    """The fields of `entity` this device holds only masked (the UI offers no editor)."""
    return frozenset(n for n, how in held_policy(store).get(entity, {}).items() if how == MASKED)


def unreadable_fields(store: Store, entity: str) -> dict[str, str]:
    """Field -> hidden | masked for the fields of `entity` this device's user may not read."""
    return dict(held_policy(store).get(entity, {}))


def repull_wanted(store: Store) -> tuple[list[str], int] | None:
    """(record types, cursor) still to be pulled again after a visibility change."""
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (REPULL_KEY,)).fetchone()
    if row is None:
        return None
    doc = orjson.loads(row[0])
    return list(doc["entities"]), int(doc["cursor"])


def repull_progress(store: Store, entities: list[str], cursor: int | None) -> None:
    """Record how far the pull-again of `entities` got (None: done). Nothing changes
    when a newer visibility change asked for more meanwhile (it starts over)."""
    with store.write() as w:
        row = w.conn.execute("SELECT value FROM meta WHERE key = ?", (REPULL_KEY,)).fetchone()
        if row is None or list(orjson.loads(row[0])["entities"]) != entities:
            return
        if cursor is None:
            w.conn.execute("DELETE FROM meta WHERE key = ?", (REPULL_KEY,))
        else:
            w.conn.execute("UPDATE meta SET value = ? WHERE key = ?", (
                orjson.dumps({"entities": entities, "cursor": cursor}).decode(), REPULL_KEY))


def converge(store: Store, policy: Policy, *, repull: bool = True) -> dict[str, set[str]]:
    """Bring the store in line with `policy` (see the module docstring). Returns the
    fields purged, per record type ({} when the policy is the one held). `repull=False`:
    the caller is applying the first page of a pull from the start, which brings every
    record after the purge anyway, so nothing is marked to be pulled again (a new
    device's initial sync under masked fields would otherwise download its book twice)."""
    policy = {e: dict(f) for e, f in policy.items() if f}
    old = held_policy(store)
    if old == policy:
        return {}
    diff = {e: names for e, names in changed_fields(old, policy).items() if e in ENTITIES}
    more = sorted(e for e, names in diff.items()
                  if any(policy.get(e, {}).get(n) != HIDDEN for n in names))
    orphans: set[str] = set()
    with store.write() as w:
        reindexed = False
        for entity, names in sorted(diff.items()):
            orphans.update(_hashes(w.conn, entity, names, "1", ()))
            reindexed |= _purge(store, w.conn, entity, sorted(names))
            w.changed(entity, None)
        if reindexed:
            # Merge the index's segments: the deleted documents' tokens go with them.
            w.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        w.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       (POLICY_KEY, orjson.dumps(policy).decode()))
        _by_profile[str(store.profile)] = policy
        if more and repull:
            _want_repull(w.conn, more)
    checkpoint(store)
    _drop_orphan_blobs(store, orphans)
    return diff


def converge_scope(store: Store, scope: list[str] | None) -> int:
    """Bring the store in line with whose records its user may see (`scope`: the owners,
    from each pull page; None: everyone). Records of owners out of scope are evicted
    (not tombstoned: they are someone else's, and stay on the server) with everything
    made from them, like `converge` purges a field; when the scope grew, every owned
    record type is pulled again from the start. Returns the records evicted."""
    new = None if scope is None else sorted(set(scope))
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (SCOPE_KEY,)).fetchone()
    old = orjson.loads(row[0]) if row else None
    waiting = store.conn.execute("SELECT 1 FROM meta WHERE key = ?", (SCOPE_WAITING_KEY,)
                                 ).fetchone() is not None
    if row is not None and old == new and not waiting:
        return 0
    wider = row is not None and (new is None or (old is not None and not set(new) <= set(old)))
    evicted = 0
    orphans: set[str] = set()
    with store.write() as w:
        w.conn.execute("DELETE FROM meta WHERE key = ?", (SCOPE_WAITING_KEY,))
        if new is not None:
            keep = sorted(set(new) | {SHARED_OWNER, store.user})
            for ent in ENTITIES.values():
                if ent.owned and ent.has_field("owner"):
                    n = _evict(store, w.conn, ent.name, keep, orphans)
                    if n:
                        evicted += n
                        w.changed(ent.name, None)
            if evicted:
                w.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        w.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       (SCOPE_KEY, orjson.dumps(new).decode()))
        if wider:
            owned = [e.name for e in ENTITIES.values() if e.owned]
            _want_repull(w.conn, owned)
    if evicted:
        checkpoint(store)
        _drop_orphan_blobs(store, orphans)
    return evicted


def _want_repull(conn: sqlite3.Connection, entities: Iterable[str]) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (REPULL_KEY,)).fetchone()
    have = list(orjson.loads(row[0])["entities"]) if row else []
    union = sorted(set(have) | set(entities))
    cursor = int(orjson.loads(row[0])["cursor"]) if row and union == have else 0
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (
        REPULL_KEY, orjson.dumps({"entities": union, "cursor": cursor}).decode()))


def _evict(store: Store, conn: sqlite3.Connection, entity: str, keep: list[str],
           orphans: set[str]) -> int:
    """Delete the records of `entity` whose owner is not in `keep`, with their search
    documents, duplicate keys, conflicts, kept values and reminders."""
    # A record with this device's unsent writes stays (parked, the rep sees why): the
    # writes are the rep's own work, never dropped unseen.
    rows = conn.execute(
        f'SELECT rid, id FROM "{entity}" WHERE owner IS NOT NULL AND owner != \'\' '
        "AND owner NOT IN (SELECT value FROM json_each(?))",
        (orjson.dumps(keep).decode(),)).fetchall()
    unsent = {r[0] for r in conn.execute(
        "SELECT DISTINCT record_id FROM journal WHERE entity = ?", (entity,))}
    if any(r[1] in unsent for r in rows):  # evicted once their writes are settled
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')",
                     (SCOPE_WAITING_KEY,))
        rows = [r for r in rows if r[1] not in unsent]
    if not rows:
        return 0
    orphans.update(_hashes(conn, entity, [f.name for f in ENTITIES[entity].fields],
                           "rid IN (SELECT value FROM json_each(?))",
                           (orjson.dumps([r[0] for r in rows]).decode(),)))
    repo = store.repo(entity)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for part in _chunks(rows, 500):
        rowids = orjson.dumps([repo.search_rowid(r[0]) for r in part]).decode()
        ids = orjson.dumps([r[1] for r in part]).decode()
        rids = orjson.dumps([r[0] for r in part]).decode()
        in_rowids = "IN (SELECT value FROM json_each(?))"
        conn.execute(f"DELETE FROM search_doc WHERE rowid {in_rowids}", (rowids,))
        for table in ("search_backlog", "dedupe_key", "dedupe_doc", "dedupe_dirty",
                      "dedupe_unchecked"):
            conn.execute(f"DELETE FROM {table} WHERE rowid {in_rowids}", (rowids,))
        conn.execute(f"DELETE FROM dedupe_pair WHERE entity = ? AND (a {in_rowids} "
                     f"OR b {in_rowids})", (entity, ids, ids))
        for table in ("conflicts", "kept_value", "followup_reminder"):
            if table in tables:
                conn.execute(f"DELETE FROM {table} WHERE entity = ? AND record_id {in_rowids}",
                             (entity, ids))
        conn.execute(f"DELETE FROM meta WHERE key {in_rowids}",
                     (orjson.dumps([f"{LOST_PREFIX}{entity}:{r[1]}" for r in part]).decode(),))
        conn.execute(f'DELETE FROM "{entity}" WHERE rid {in_rowids}', (rids,))
    return len(rows)


def drop_refused(store: Store, items: Iterable[tuple[int, str, str, list[str]]]) -> None:
    """The server refused these fields of pushed entries ((seq, entity, record id,
    fields)): their user may not read them, so this device keeps nothing it wrote there,
    neither in the row nor in the entry (which is acknowledged next). A masked copy comes
    back with the record, which the server sends again."""
    with store.write() as w:
        for seq, entity, record_id, names in items:
            if entity not in ENTITIES:
                continue
            _clear_values(store, w.conn, entity, names, record_id)
            row = w.conn.execute("SELECT fields FROM journal WHERE seq = ?",
                                 (seq,)).fetchone()
            fields = orjson.loads(row[0]) if row else None
            if isinstance(fields, dict):
                w.conn.execute("UPDATE journal SET fields = ? WHERE seq = ?", (orjson.dumps(
                    {k: v for k, v in fields.items() if k not in names}).decode(), seq))
            w.changed(entity, record_id)
    checkpoint(store)


def checkpoint(store: Store) -> bool:
    """Copy the WAL into the database and cut it to zero bytes (old page images in it
    would still hold purged values). Returns whether it completed; a reader on another
    connection can hold it back for a moment, so it is tried a few times."""
    import time

    for _ in range(CHECKPOINT_TRIES):
        busy = store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if not busy:
            return True
        time.sleep(0.05)
    return False


def _purge(store: Store, conn: sqlite3.Connection, entity: str, names: list[str]) -> bool:
    """Remove every value of `names` of `entity`; returns whether search documents were
    rebuilt."""
    ent = ENTITIES[entity]
    names = [n for n in names if ent.has_field(n)]
    if not names:
        return False
    reindexed = _clear_values(store, conn, entity, names)
    _purge_journal(conn, entity, set(names))
    marks = ", ".join("?" * len(names))
    conn.execute(f"DELETE FROM conflicts WHERE entity = ? AND field IN ({marks})",
                 (entity, *names))
    conn.execute(f"DELETE FROM kept_value WHERE entity = ? AND field IN ({marks})",
                 (entity, *names))
    return reindexed


def _clear_values(store: Store, conn: sqlite3.Connection, entity: str, names: list[str],
                  record_id: str | None = None) -> bool:
    """Set the fields empty and forget their clocks in every row holding one (or in one
    record's row), rebuilding the search documents made from them. Returns whether a
    search document changed."""
    ent = ENTITIES[entity]
    repo = store.repo(entity)
    cols = {c[1] for c in conn.execute(f'PRAGMA table_info("{entity}")')}
    present = [n for n in names if n in cols and ent.has_field(n)]
    if not present:
        return False
    held = " OR ".join(f'"{n}" IS NOT NULL' for n in present)
    stamped = " OR ".join("_clocks LIKE ?" for _ in present)
    params: list[Any] = [f'%"{n}"%' for n in present]
    where = f"({held} OR {stamped})"
    if record_id is not None:
        where += " AND id = ?"
        params.append(record_id)
    rids = [r[0] for r in conn.execute(f'SELECT rid FROM "{entity}" WHERE {where}', params)]
    paths = ", ".join(f"'$.\"{n}\"'" for n in present)
    sets = ", ".join(f'"{n}" = NULL' for n in present)
    for part in _chunks(rids, 500):
        conn.execute(
            f'UPDATE "{entity}" SET {sets}, _clocks = CASE WHEN substr(_clocks, 1, 1) = \'"\' '
            f"THEN _clocks ELSE json_remove(_clocks, {paths}) END "
            "WHERE rid IN (SELECT value FROM json_each(?))", (orjson.dumps(part).decode(),))
        if entity in FIRST_WRITE_ENTITIES:  # of the stamps left (desktop.store.firstwrite)
            conn.execute(f'UPDATE "{entity}" SET {FIRST_WRITE} = {FIRST_WRITE_SQL} '
                         "WHERE rid IN (SELECT value FROM json_each(?))",
                         (orjson.dumps(part).decode(),))
    return bool(repo.searchable and rids and _rebuild_docs(conn, repo, rids))


def _rebuild_docs(conn: sqlite3.Connection, repo: Any, rids: list[int]) -> bool:
    """Search documents and duplicate keys of the rows whose values were purged, made
    anew from what the rows hold now."""
    changed = False
    for part in _chunks(rids, 500):
        rows = conn.execute(f'SELECT * FROM "{repo.entity.name}" WHERE rid IN '
                            "(SELECT value FROM json_each(?))",
                            (orjson.dumps(part).decode(),)).fetchall()
        for row in rows:
            rowid = repo.search_rowid(row["rid"])
            rec = from_row(repo.entity, row)
            old = conn.execute("SELECT name, terms, bi FROM search_doc WHERE rowid = ?",
                               (rowid,)).fetchone()
            if old is None:
                continue  # never indexed (still in the builder's backlog, or a tombstone)
            new = None if rec.get("deleted") else build_doc(repo.entity.name, rec)
            if new is not None and tuple(old) == new:
                continue
            replace_doc(conn, rowid, new)
            conn.execute("DELETE FROM dedupe_key WHERE rowid = ?", (rowid,))
            conn.execute("DELETE FROM dedupe_doc WHERE rowid = ?", (rowid,))
            conn.execute("INSERT OR IGNORE INTO dedupe_dirty (rowid) VALUES (?)", (rowid,))
            changed = True
    return changed


def _purge_journal(conn: sqlite3.Connection, entity: str, names: set[str]) -> None:
    """Take the fields out of this device's unacknowledged entries (an entry left with
    nothing is dropped). Entries of imported records read their row at push time."""
    likes = " OR ".join("fields LIKE ?" for _ in names)
    rows = conn.execute(f"SELECT seq, fields FROM journal WHERE entity = ? AND ({likes})",
                        (entity, *(f'%"{n}"%' for n in names))).fetchall()
    for seq, text in rows:
        fields = orjson.loads(text)
        if not isinstance(fields, dict):
            continue
        kept = {k: v for k, v in fields.items() if k not in names}
        if kept:
            conn.execute("UPDATE journal SET fields = ? WHERE seq = ?",
                         (orjson.dumps(kept).decode(), seq))
        else:
            conn.execute("DELETE FROM journal WHERE seq = ?", (seq,))


def _hashes(conn: sqlite3.Connection, entity: str, names: Iterable[str],
            where: str, params: Iterable[Any]) -> set[str]:
    """The blob hashes the rows matching `where` hold in their `names` fields."""
    ent = ENTITIES[entity]
    cols = [n for n in names if ent.has_field(n) and ent.field(n).check is Check.SHA256]
    out: set[str] = set()
    for n in cols:
        for (v,) in conn.execute(f'SELECT "{n}" FROM "{entity}" WHERE "{n}" IS NOT NULL '
                                 f"AND ({where})", tuple(params)):
            out.update(_HASH_RE.findall(str(v)))
    return out


def _drop_orphan_blobs(store: Store, hashes: set[str]) -> None:
    """Delete the blob files of `hashes` that no record on this device refers to any more
    (the attachments and pages of evicted records, or of a hidden field)."""
    for sha in sorted(hashes):
        used = False
        for ent in ENTITIES.values():
            for f in ent.fields:
                if f.check is Check.SHA256 and store.conn.execute(
                        f'SELECT 1 FROM "{ent.name}" WHERE "{f.name}" LIKE ? LIMIT 1',
                        (f"%{sha}%",)).fetchone():
                    used = True
                    break
            if used:
                break
        if not used:
            store.blobs.path(sha).unlink(missing_ok=True)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
