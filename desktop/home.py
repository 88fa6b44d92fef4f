"""The numbers a rep watches on the home view (Qt-free): open activities overdue and due
today, deals expected to close in the next 14 days (count and amount per currency), and
this week's logged calls, visits and notes against a weekly target.

Leads waiting: the leads assigned to this rep and not contacted since they were
assigned (the "new lead" reminders of desktop.followup.reminders count the same leads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop.followup.agenda import count_open_by_owner, day_start, mine_sql
from desktop.followup.clock import iso

if TYPE_CHECKING:
    from desktop.store import Store

CLOSING_DAYS = 14
DEFAULT_WEEK_TARGET = 20  # calls + visits + notes logged per week
WEEK_TARGET_META = "home_week_target"
LOGGED_KINDS = ("call", "visit", "note")


@dataclass
class HomeNumbers:
    overdue: int = 0
    due_today: int = 0
    closing_count: int = 0
    closing_amounts: dict[str, float] = field(default_factory=dict)  # currency -> sum
    week_done: int = 0
    week_by_kind: dict[str, int] = field(default_factory=dict)
    week_target: int = DEFAULT_WEEK_TARGET
    week_start: str = ""  # local date (Monday)
    leads_waiting: int | None = None  # None: the local profile has no user name yet

    @property
    def week_ratio(self) -> float:
        return self.week_done / self.week_target if self.week_target > 0 else 0.0


def week_target(store: Store) -> int:
    raw = store.meta_get(WEEK_TARGET_META)
    try:
        value = int(raw) if raw else DEFAULT_WEEK_TARGET
    except ValueError:
        return DEFAULT_WEEK_TARGET
    return value if value > 0 else DEFAULT_WEEK_TARGET


def set_week_target(store: Store, target: int) -> None:
    from desktop.errors import ValidationError

    if not 1 <= target <= 1000:
        raise ValidationError("The weekly target is a number from 1 to 1000.", field="target")
    store.meta_set(WEEK_TARGET_META, str(target))


def home_numbers(store: Store, now: dt.datetime, zone: dt.tzinfo, me: str = "") -> HomeNumbers:
    """Counted in SQL over indexes (activity due_at / kind+done_at, deal close_date)."""
    local = now.astimezone(zone)
    today = local.date()
    tomorrow = day_start(today + dt.timedelta(days=1), zone)
    monday = today - dt.timedelta(days=today.weekday())
    mine, mine_args = mine_sql(me)
    conn = store.conn
    out = HomeNumbers(week_target=week_target(store), week_start=monday.isoformat())
    open_where = ("deleted = 0 AND done_at IS NULL AND due_at IS NOT NULL "
                  "AND due_at >= ? AND due_at < ?")
    out.overdue = count_open_by_owner(conn, open_where, ("", iso(now)), me)
    out.due_today = count_open_by_owner(conn, open_where, (iso(now), iso(tomorrow)), me)
    until = (today + dt.timedelta(days=CLOSING_DAYS)).isoformat()
    for currency, n, total in conn.execute(
            "SELECT coalesce(currency, ''), count(*), sum(amount) FROM deal WHERE deleted = 0 "
            "AND close_date >= ? AND close_date <= ? AND (stage IS NULL OR stage NOT IN "
            f"('won', 'lost')) AND {mine} GROUP BY 1", (today.isoformat(), until, *mine_args)):
        out.closing_count += n
        if total is not None:
            out.closing_amounts[currency] = out.closing_amounts.get(currency, 0.0) + total
    start = iso(day_start(monday, zone))
    for kind, n in conn.execute(
            "SELECT kind, count(*) FROM activity WHERE deleted = 0 AND kind IN "
            f"({', '.join('?' * len(LOGGED_KINDS))}) AND done_at >= ? AND done_at <= ? "
            f"AND {mine} GROUP BY kind", (*LOGGED_KINDS, start, iso(now), *mine_args)):
        out.week_by_kind[kind] = n
        out.week_done += n
    if me:
        out.leads_waiting = conn.execute(
            "SELECT count(*) FROM lead WHERE deleted = 0 AND owner = ? AND status = 'assigned' "
            "AND (last_contact_at IS NULL OR last_contact_at < assigned_at)",
            (me,)).fetchone()[0]
    return out
