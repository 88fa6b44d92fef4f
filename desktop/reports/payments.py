"""Collected is the sum of received payments, not a typed field: the one-off move of
the deals' old `collected_amount` into `payment` records (finance runs it once).

Each moved amount becomes a received payment whose id is derived from the deal's id, so
two finance laptops that both run it write the same record (merged field by field on
the server) instead of collecting the money twice; running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.store import Store

_NS = uuid.UUID("0190f1a2-0000-7000-8000-c011ec7ed000")
NOTE = "collected_amount before payments were recorded"


def payment_id_for(deal_id: str) -> str:
    return str(uuid.uuid5(_NS, deal_id))


def move_collected_amounts(store: Store, *, today: dt.date | None = None) -> dict[str, Any]:
    """Create the received payment of every deal with a collected amount and no
    received payment yet. Returns {"moved": n, "payment_ids": [...], "skipped": n}."""
    from desktop.followup.clock import user_zone
    from desktop.timezones import now_in

    zone = user_zone(store)  # dates are the user's days, never the computer's or UTC's
    day = (today or now_in(zone).date()).isoformat()
    found = store.conn.execute(
        "SELECT d.id, d.collected_amount, d.currency, d.owner, d.stage_changed_at FROM deal d "
        "WHERE d.deleted = 0 AND d.collected_amount > 0 AND NOT EXISTS (SELECT 1 FROM "
        "payment p WHERE p.deal_id = d.id AND p.kind = 'received' AND p.deleted = 0)"
    ).fetchall()
    repo = store.repo("payment")
    made: list[str] = []
    skipped = 0
    for deal_id, amount, currency, owner, changed in found:
        pid = payment_id_for(deal_id)
        if store.conn.execute("SELECT 1 FROM payment WHERE id = ?", (pid,)).fetchone():
            skipped += 1  # moved before and deleted since: a person decided
            continue
        repo.create({"kind": "received", "amount": amount, "currency": currency or "CNY",
                     "date": _local_day(changed, zone) or day, "deal_id": deal_id,
                     "method": "other",
                     "note": NOTE, "owner": owner}, record_id=pid)
        made.append(pid)
    return {"moved": len(made), "payment_ids": made, "skipped": skipped}


def _local_day(instant: str | None, zone: dt.tzinfo) -> str | None:
    """The user's calendar day of a stored UTC instant (`stage_changed_at`)."""
    if not instant:
        return None
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date().isoformat()
