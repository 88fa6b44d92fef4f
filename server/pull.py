"""Pull: the current winning fields of every record changed since a cursor, visible to
the caller, in version order, paged.

The page is read in one snapshot together with the counter. Every version up to the
counter is committed in that snapshot (versions are handed out under the counter
lock, see `server.push`), so when no page follows the cursor returned is the counter
itself: records the caller may not see never hold a cursor back.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from desktop.schema import SHARED_OWNER
from desktop.visibility import FieldFilter
from server import tables as t
from server.access import visible_owners
from server.auth import Principal
from server.db import is_sqlite, read_tx
from server.visibility import filter_doc, policy_of


def current_version(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(
            sa.select(t.counter.c.version).where(t.counter.c.id == 1)).scalar_one())


def pull_page(engine: sa.Engine, p: Principal, cursor: int, limit: int,
              count: bool, entities: list[str] | None = None) -> tuple[bytes, int, int]:
    """One page as ready-to-send JSON (a `PullResponse`), the number of changes in it and
    the server version it was read at. `entities`: only records of these types (a device
    pulling again what a visibility change lets it read, desktop.sync.engine).

    Records are stored in wire form, so the page is assembled without re-parsing them,
    except those holding a field the caller may not read (server.visibility): those are
    sent without it, or masked. The page carries the caller's policy (`visibility`).
    """
    with read_tx(engine) as conn:
        server_version = int(conn.execute(
            sa.select(t.counter.c.version).where(t.counter.c.id == 1)).scalar_one())
        visible = visible_owners(conn, p)
        _rules, policy = policy_of(conn, p)
        cond = [t.records.c.version > cursor, t.records.c.version <= server_version]
        params: dict[str, Any] = {"cursor": cursor, "top": server_version, "lim": limit + 1}
        owner_sql = ""
        if visible is not None:
            owners = sorted(visible | {SHARED_OWNER})
            cond.append(t.records.c.owner.in_(owners))
            owner_sql = " AND owner IN :owners"
            params["owners"] = owners
        entity_sql = ""
        if entities is not None and not entities:
            entities = [""]  # no type asked for that exists: no record matches
        if entities is not None:
            cond.append(t.records.c.entity.in_(entities))
            entity_sql = " AND entity IN :entities"
            params["entities"] = entities
        # Walk versions in order and stop after a page: linear over a whole first sync
        # and a few rows for a live pull. SQLite, having no statistics, would otherwise
        # take every record of the visible owners and sort them on every page.
        hint = " INDEXED BY ix_records_version" if is_sqlite(engine) else ""
        page = sa.text(
            f"SELECT version, entity, record_id, fields, origin_device FROM records{hint} "
            f"WHERE version > :cursor AND version <= :top{owner_sql}{entity_sql} "
            "ORDER BY version LIMIT :lim")
        if owner_sql:
            page = page.bindparams(sa.bindparam("owners", expanding=True))
        if entity_sql:
            page = page.bindparams(sa.bindparam("entities", expanding=True))
        rows = conn.execute(page, params).all()
        total: int | None = None
        if count:
            total = int(conn.execute(
                sa.select(sa.func.count()).select_from(t.records).where(*cond)).scalar_one())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = int(rows[-1][0]) if has_more else server_version
    # Fragment: the stored record document goes into the page as it is, unparsed.
    changes = []
    filters = {ent: FieldFilter(ent, rules) for ent, rules in policy.items()}
    for v, ent, rid, fields, origin in rows:
        flt = filters.get(ent)
        doc = filter_doc(fields, flt) if flt is not None else None
        changes.append({"version": v, "entity": ent, "record_id": rid,
                        "fields": orjson.Fragment(fields if doc is None else doc),
                        "origin_device": origin})
    body = orjson.dumps({
        "changes": changes,
        "cursor": next_cursor, "has_more": has_more, "server_version": server_version,
        "total_estimate": total, "visibility": policy,
        "scope": None if visible is None else sorted(visible | {SHARED_OWNER})})
    return body, len(rows), server_version
