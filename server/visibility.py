"""Who may read which field, on the server (issue 24): the authority on the rules.

Rules (desktop.visibility) are rows of `visibility_rules`, one per field, replaced as a
whole by `fieldcrm-server visibility load FILE`. Every path that sends record data
filters it with the caller's policy (`policy_of`): pull (server.pull), the duplicate
pairs' names (server.app); the live stream carries version numbers only. A push that
writes a field its user may not read is refused for that field (server.push).

Nothing is rewritten when a rule changes: each pull page carries the caller's policy, and
a device whose policy changed purges what it may no longer read and pulls again the
record types where it may now read more (desktop.store.visibility, desktop.sync.engine).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.visibility import (
    MASKED,
    FieldFilter,
    Policy,
    Rule,
    mask_value,
    parse_rule,
    parse_rules,
    policy_for,
)
from server import fields as fielddefs
from server import tables as t
from server.auth import Principal
from server.db import is_sqlite, write_tx
from server.errors import now_iso


def load_rules(conn: sa.Connection) -> list[Rule]:
    rows = conn.execute(sa.select(t.visibility_rules.c.rule)
                        .order_by(t.visibility_rules.c.entity, t.visibility_rules.c.field))
    return [parse_rule(orjson.loads(r[0])) for r in rows]


def policy_of(conn: sa.Connection, p: Principal) -> tuple[list[Rule], Policy]:
    """The rules and what `p` may not read, now."""
    rules = load_rules(conn)
    return rules, policy_for(rules, p.role.value)


def replace_rules(engine: sa.Engine, doc: Any) -> dict[str, Any]:
    """Replace every rule with those of `doc` ({"rules": [...]}) in one transaction.
    Raises VisibilityRuleError (the file names a missing field, an unknown role...).
    Returns what was added, changed and removed."""
    from server.push import NOTIFY_CHANNEL, _lock_counter

    with write_tx(engine) as conn:
        version = _lock_counter(conn)
        fielddefs.ensure_installed(conn)  # rules may name custom fields
        rules = parse_rules(doc)
        before = {(r.entity, r.field): r for r in load_rules(conn)}
        now = now_iso()
        conn.execute(t.visibility_rules.delete())
        if rules:
            conn.execute(t.visibility_rules.insert(), [
                {"entity": r.entity, "field": r.field, "updated_at": now,
                 "rule": orjson.dumps(r.as_json()).decode()} for r in rules])
        if set(before.items()) != {((r.entity, r.field), r) for r in rules}:
            # A version of its own, no record: devices hear of it (live stream, or a
            # push that no longer looks like the only change) and pull the new policy.
            version += 1
            conn.execute(t.counter.update().where(t.counter.c.id == 1).values(version=version))
            if not is_sqlite(engine):
                conn.execute(sa.text("SELECT pg_notify(:ch, :v)"),
                             {"ch": NOTIFY_CHANNEL, "v": str(version)})
    after = {(r.entity, r.field): r for r in rules}
    return {"rules": len(rules),
            "added": [f"{e}.{f}" for e, f in sorted(set(after) - set(before))],
            "changed": [f"{e}.{f}" for (e, f), r in sorted(after.items())
                        if (e, f) in before and before[(e, f)] != r],
            "removed": [f"{e}.{f}" for e, f in sorted(set(before) - set(after))]}


def show_rules(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [r.as_json() for r in load_rules(conn)]


def filter_doc(doc: str | bytes, flt: FieldFilter) -> bytes | None:
    """A stored record document as the caller may receive it, or None when it holds none
    of the fields the filter restricts (then it goes out as stored, unparsed)."""
    text = doc if isinstance(doc, str) else doc.decode()
    if not flt.touches(text):
        return None
    return orjson.dumps(flt.apply(orjson.loads(text)))


def name_as_seen(name: str, entity: str, policy: Policy) -> str:
    """A record's name (the duplicate pairs') as the caller may see it."""
    how = policy.get(entity, {}).get("name")
    if how is None:
        return name
    return str(mask_value(name)) if how == MASKED else ""


def restricted(policy: Policy, entity: str, names: Iterable[str]) -> list[str]:
    """The fields among `names` the caller may not read (so may not write)."""
    rules = policy.get(entity)
    return [n for n in names if n in rules] if rules else []
