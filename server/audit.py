"""The server's audit log: who did what sensitive thing, when, from where.

    record(conn, "login", actor="li", target="device:abc", address="10.0.0.5")
    entries(engine, user="li", since="2026-12-01", limit=100) -> [dict]

Actions: login, login_failed, logout, device_revoked, user_disabled, person_erased,
rule_changed (pipeline and duplicate rules, custom fields, export rights), export (an
export a device made, from its `export_log` record), integration_changed (a system's
credential added, rotated or revoked), api_call (every call of the API for systems,
server.integrations), webhook_paused (a subscription paused after repeated failures).
Entries are only ever added (a database trigger refuses changes); they name users,
devices and record ids, never a customer's personal data.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import sqlalchemy as sa

from server import tables as t
from server.errors import now_iso

ACTIONS = ("login", "login_failed", "logout", "device_revoked", "user_disabled",
           "person_erased", "rule_changed", "export", "integration_changed", "api_call",
           "webhook_paused")
CLI_ACTOR = "(server admin)"
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str, size: int) -> str:
    """Client input (a user name as typed) made storable: no NUL or control characters."""
    return CONTROL_RE.sub("?", text)[:size]


def record(conn: sa.Connection, action: str, *, actor: str, target: str = "",
           address: str = "", detail: dict[str, Any] | None = None) -> None:
    """Add one entry inside the caller's transaction."""
    conn.execute(t.audit_log.insert().values(
        at=now_iso(), action=action, actor=_clean(actor, 100), target=_clean(target, 200),
        address=_clean(address, 64),
        detail=CONTROL_RE.sub("?", orjson.dumps(detail or {}).decode())))


def record_now(engine: sa.Engine, action: str, **kwargs: Any) -> None:
    """Add one entry in a transaction of its own."""
    with engine.begin() as conn:
        record(conn, action, **kwargs)


def entries(engine: sa.Engine, *, user: str | None = None, since: str | None = None,
            action: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Entries oldest first, optionally of one actor, from a time (ISO, UTC) on."""
    a = t.audit_log
    q = sa.select(a).order_by(a.c.id)
    if user:
        q = q.where(a.c.actor == user)
    if since:
        q = q.where(a.c.at >= since)
    if action:
        q = q.where(a.c.action == action)
    with engine.connect() as conn:
        rows = conn.execute(q.limit(limit)).all()
    return [{"id": r.id, "at": r.at, "action": r.action, "actor": r.actor, "target": r.target,
             "address": r.address, "detail": orjson.loads(r.detail)} for r in rows]
