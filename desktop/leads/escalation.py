"""What the SLA clock asks of one lead at a moment: pure, so the server's pass, its
preview (`fieldcrm-server leads tick --now ...`) and the tests agree.

- Assigned and no contact logged since: at `first_contact_min` remind the rep and tell
  their manager ("reminded"); at `reassign_min` give it to the next rep, or to the pool
  once it was reassigned `max_reassign` times.
- The last contact failed (no answer, busy, wrong number): each failure has its retry
  time (`retry_min`, in order; "retry N" reminds when it is due); one failure more than
  the schedule has sends the lead to the pool.
- Contacted: no follow-up logged for `reclaim_days` days takes it back to the pool.

`evaluate` returns the action due now and the next moment anything could be due (the
server indexes that moment, so its pass reads only the leads whose time has come).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.leads.rules import Policy, parse_time
from desktop.schema import LEAD_OPEN

FAILED_OUTCOMES = frozenset({"no_answer", "busy", "wrong_number"})
NONE, REMIND, RETRY, REASSIGN, TO_POOL, RECLAIM = (
    "none", "remind", "retry", "reassign", "pool", "reclaim")
REMINDED = "reminded"


@dataclass(frozen=True)
class Due:
    action: str
    next_at: dt.datetime | None  # when to look again (None: nothing will ever be due)
    escalation: str = ""  # the lead's `escalation` after a reminder


def _time(v: Any) -> dt.datetime | None:
    try:
        return parse_time(str(v)) if v else None
    except ValueError:
        return None


def evaluate(lead: Mapping[str, Any], policy: Policy, now: dt.datetime) -> Due:
    """The action due for `lead` (its values) at `now` under `policy`."""
    if lead.get("deleted") or lead.get("status") not in LEAD_OPEN or not lead.get("owner"):
        return Due(NONE, None)
    assigned = _time(lead.get("assigned_at"))
    if assigned is None:
        return Due(NONE, None)
    last = _time(lead.get("last_contact_at"))
    escalation = str(lead.get("escalation") or "")
    minutes = dt.timedelta(minutes=1)
    if last is None or last < assigned:  # no contact since it was assigned
        remind_at = assigned + policy.first_contact_min * minutes
        reassign_at = assigned + max(policy.reassign_min, policy.first_contact_min) * minutes
        if now >= reassign_at:
            over = int(lead.get("reassign_count") or 0) >= policy.max_reassign
            return Due(TO_POOL if over else REASSIGN, None)
        if escalation != REMINDED:
            if now >= remind_at:
                return Due(REMIND, reassign_at, REMINDED)
            return Due(NONE, remind_at)
        return Due(NONE, reassign_at)
    reclaim_at = last + dt.timedelta(days=policy.reclaim_days)
    if lead.get("last_outcome") in FAILED_OUTCOMES:
        failures = max(1, int(lead.get("attempts") or 1))
        if failures > len(policy.retry_min):
            return Due(TO_POOL, None)
        retry_at = last + policy.retry_min[failures - 1] * minutes
        marker = f"retry {failures}"
        if escalation != marker:
            if now >= retry_at:
                return Due(RETRY, reclaim_at, marker)
            return Due(NONE, min(retry_at, reclaim_at))
    if now >= reclaim_at:
        return Due(RECLAIM, None)
    return Due(NONE, reclaim_at)
