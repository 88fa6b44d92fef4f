"""The rep's agenda (Qt-free): open activities with a due time, grouped into overdue,
today and upcoming, each with its account, contact and the phone to call; and the
actions taken from it: done with an outcome (and a next step), a call or visit logged
with its outcome and next step, a reschedule by whole days or onto another group.

Times are stored in UTC; "today" is the local day of `zone`. Every action is one store
write (the record and its journal entry commit together) and returns the ids it touched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from heapq import merge
from itertools import islice
from typing import TYPE_CHECKING, Any

from desktop.errors import ValidationError
from desktop.followup.clock import iso, parse_iso

if TYPE_CHECKING:
    from desktop.store import Store

GROUPS = ("overdue", "today", "upcoming")
UPCOMING_DAYS = 7  # "upcoming" ends this many local days after today
GROUP_LIMIT = 200  # rows per group (the oldest overdue first)
NEXT_STEP_DAYS = 3  # default due of a next step: this many days ahead, same local time
OUTCOME_MAX = 500
PLACE_PREFIX = "📍 "


@dataclass(frozen=True)
class AgendaItem:
    id: str
    kind: str
    subject: str
    due_at: str  # UTC ISO
    group: str  # one of GROUPS
    account_id: str | None = None
    account: str = ""
    contact_id: str | None = None
    contact: str = ""
    phone: str = ""  # the contact's first phone, else the account's
    deal_id: str | None = None
    owner: str | None = None


@dataclass
class Agenda:
    overdue: list[AgendaItem] = field(default_factory=list)
    today: list[AgendaItem] = field(default_factory=list)
    upcoming: list[AgendaItem] = field(default_factory=list)

    def group(self, name: str) -> list[AgendaItem]:
        return list(getattr(self, name))

    @property
    def counts(self) -> dict[str, int]:
        return {g: len(getattr(self, g)) for g in GROUPS}

    def items(self) -> list[AgendaItem]:
        return [*self.overdue, *self.today, *self.upcoming]


def day_start(local_day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(local_day, dt.time(), tzinfo=zone)


def group_of(due: dt.datetime, now: dt.datetime, zone: dt.tzinfo) -> str | None:
    """Which group a due time falls in (None: beyond the upcoming window)."""
    today = now.astimezone(zone).date()
    if due < now:
        return "overdue"
    if due < day_start(today + dt.timedelta(days=1), zone):
        return "today"
    if due < day_start(today + dt.timedelta(days=1 + UPCOMING_DAYS), zone):
        return "upcoming"
    return None


def mine_sql(me: str) -> tuple[str, tuple[str, ...]]:
    """Records of this rep: with no user known, or without an owner, everything is."""
    if not me:
        return "1", ()
    return "(owner IS NULL OR owner = '' OR owner = ?)", (me,)


def _whose(me: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return ("owner = ?", (me,)), ("owner = ''", ()), ("owner IS NULL", ())


def open_by_owner(conn: Any, columns: str, where: str, args: Sequence[Any], me: str,
                  limit: int, everyone: str = "") -> list[Any]:
    """`columns` of the open activities matching `where` (which includes "deleted = 0
    AND done_at IS NULL AND due_at IS NOT NULL") of `me` and of nobody, earliest due
    first: read by owner in due order (followup_open_by_owner), three short reads merged,
    never everyone's open activities walked in due order for the user's. With no user,
    everyone's (`everyone`: an INDEXED BY clause for that read)."""
    if not me:  # no user known: everything is this device's
        return conn.execute(f"SELECT {columns}, due_at, rid FROM activity {everyone} "
                            f"WHERE {where} ORDER BY due_at, rid LIMIT ?",
                            (*args, limit)).fetchall()
    parts = [conn.execute(
        f"SELECT {columns}, due_at, rid FROM activity INDEXED BY followup_open_by_owner "
        f"WHERE {where} AND {whose} ORDER BY due_at, rid LIMIT ?",
        (*args, *extra, limit)).fetchall() for whose, extra in _whose(me)]
    return list(islice(merge(*parts, key=lambda r: (r[-2], r[-1])), limit))


def count_open_by_owner(conn: Any, where: str, args: Sequence[Any], me: str) -> int:
    """How many open activities match `where` (as `open_by_owner`) of `me` and nobody."""
    if not me:
        return int(conn.execute(f"SELECT count(*) FROM activity WHERE {where}",
                                tuple(args)).fetchone()[0])
    return sum(int(conn.execute(
        f"SELECT count(*) FROM activity INDEXED BY followup_open_by_owner "
        f"WHERE {where} AND {whose}", (*args, *extra)).fetchone()[0])
        for whose, extra in _whose(me))


def load_agenda(store: Store, now: dt.datetime, zone: dt.tzinfo, me: str = "",
                limit: int = GROUP_LIMIT) -> Agenda:
    """Open activities (not done, with a due time) of `me`, by group, earliest first."""
    today = now.astimezone(zone).date()
    bounds = {"overdue": (None, now),
              "today": (now, day_start(today + dt.timedelta(days=1), zone)),
              "upcoming": (day_start(today + dt.timedelta(days=1), zone),
                           day_start(today + dt.timedelta(days=1 + UPCOMING_DAYS), zone))}
    out = Agenda()
    rows_by_group: dict[str, list[Any]] = {}
    for name, (lo, hi) in bounds.items():
        where = "deleted = 0 AND done_at IS NULL AND due_at IS NOT NULL AND due_at < ?"
        args: list[Any] = [iso(hi)]
        if lo is not None:
            where += " AND due_at >= ?"
            args.append(iso(lo))
        rows_by_group[name] = open_by_owner(
            store.conn, "id, kind, subject, account_id, contact_id, deal_id, owner", where,
            args, me, limit)
    every = [r for rows in rows_by_group.values() for r in rows]
    accounts = _names(store, "account", "name", "phone", {r["account_id"] for r in every})
    contacts = _names(store, "contact", "name", "phones", {r["contact_id"] for r in every})
    for name, rows in rows_by_group.items():
        items = getattr(out, name)
        for r in rows:
            acc_name, acc_phone = accounts.get(r["account_id"], ("", ""))
            con_name, con_phone = contacts.get(r["contact_id"], ("", ""))
            items.append(AgendaItem(
                r["id"], r["kind"] or "task", r["subject"] or "", r["due_at"], name,
                r["account_id"], acc_name, r["contact_id"], con_name, con_phone or acc_phone,
                r["deal_id"], r["owner"]))
    return out


def _names(store: Store, table: str, name_col: str, phone_col: str,
           ids: set[str | None]) -> dict[str, tuple[str, str]]:
    wanted = [i for i in ids if i]
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for rid, name, phone in store.conn.execute(
                f'SELECT id, "{name_col}", "{phone_col}" FROM "{table}" '
                f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
            if phone_col == "phones":
                phones = json.loads(phone) if phone else []
                phone = phones[0] if phones else ""
            out[rid] = (name or "", phone or "")
    return out


# ---------------------------------------------------------------- actions
def _clean_outcome(outcome: str) -> str | None:
    text = outcome.strip()
    if len(text) > OUTCOME_MAX:
        raise ValidationError(f"The outcome is longer than {OUTCOME_MAX} characters.",
                              field="outcome")
    return text or None


def next_step_due(now: dt.datetime, zone: dt.tzinfo, days: int = NEXT_STEP_DAYS) -> dt.datetime:
    """Default due of a next step: `days` local days ahead at 09:00 local time."""
    day = now.astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone)


def _next_task(store: Store, source: dict[str, Any], next_step: str,
               next_due: dt.datetime | None, now: dt.datetime) -> dict[str, Any] | None:
    step = next_step.strip()
    if not step:
        return None
    due = next_due or (now + dt.timedelta(days=NEXT_STEP_DAYS))
    return store.repo("activity").create({
        "kind": "task", "subject": step, "due_at": iso(due),
        "account_id": source.get("account_id"), "contact_id": source.get("contact_id"),
        "deal_id": source.get("deal_id")})


def complete(store: Store, activity_id: str, outcome: str, now: dt.datetime,
             next_step: str = "", next_due: dt.datetime | None = None) -> list[str]:
    """Mark an activity done with its outcome; a next step becomes a new task.
    Returns the ids written (the activity, then the next task if any)."""
    clean = _clean_outcome(outcome)
    with store.write():
        act = store.repo("activity").get(activity_id)
        if act.get("done_at"):
            raise ValidationError("This activity is already done.", field="done_at")
        store.repo("activity").update(activity_id, {"done_at": iso(now), "outcome": clean})
        nxt = _next_task(store, act, next_step, next_due, now)
    return [activity_id] + ([nxt["id"]] if nxt else [])


def log_contact(store: Store, kind: str, account_id: str | None, outcome: str,
                now: dt.datetime, *, subject: str = "", contact_id: str | None = None,
                deal_id: str | None = None, next_step: str = "",
                next_due: dt.datetime | None = None, at: dt.datetime | None = None,
                place: str = "", body: str = "", lang: str = "en") -> list[str]:
    """Log a call or visit that took place (done at `at`, default now) with its outcome,
    a visit's check-in place, and a next step as a new task. Returns the ids written."""
    if kind not in ("call", "visit"):
        raise ValidationError("Only a call or a visit is logged with an outcome.", field="kind")
    clean = _clean_outcome(outcome)
    when = at or now
    lines = [line for line in (PLACE_PREFIX + place.strip() if place.strip() else "",
                               body.strip()) if line]
    values = {"kind": kind, "subject": subject.strip() or default_subject(kind, clean, lang),
              "done_at": iso(when), "due_at": iso(when), "outcome": clean,
              "account_id": account_id, "contact_id": contact_id, "deal_id": deal_id,
              "body": "\n".join(lines) or None}
    with store.write():
        act = store.repo("activity").create(values)
        nxt = _next_task(store, values, next_step, next_due, now)
    return [act["id"]] + ([nxt["id"]] if nxt else [])


def default_subject(kind: str, outcome: str | None, lang: str = "en") -> str:
    """"Call: agreed to a trial" / "电话：同意试单" when no subject was typed."""
    zh = lang.startswith("zh")
    head = ({"call": "电话", "visit": "拜访"} if zh else
            {"call": "Call", "visit": "Visit"}).get(kind, kind.title())
    colon = "：" if zh else ": "
    return f"{head}{colon}{outcome}"[:300] if outcome else head


def reschedule(store: Store, activity_id: str, days: int = 1) -> dict[str, Any]:
    """Move an open activity's due time by whole days (the same wall-clock time)."""
    act = store.repo("activity").get(activity_id)
    due = parse_iso(act.get("due_at"))
    if due is None:
        raise ValidationError("This activity has no due time to move.", field="due_at")
    return store.repo("activity").update(activity_id,
                                         {"due_at": iso(due + dt.timedelta(days=days))})


def reschedule_to_group(store: Store, activity_id: str, group: str, now: dt.datetime,
                        zone: dt.tzinfo) -> dict[str, Any]:
    """What a drop on a group header does: "today" puts it later today (its own time of
    day if that is still ahead, else the next full hour), "upcoming" tomorrow at its own
    time of day. Nothing can be dropped onto "overdue"."""
    act = store.repo("activity").get(activity_id)
    due = parse_iso(act.get("due_at")) or now
    local_due = due.astimezone(zone)
    local_now = now.astimezone(zone)
    if group == "today":
        target = dt.datetime.combine(local_now.date(), local_due.timetz())
        if target <= local_now:
            target = local_now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            if target.date() != local_now.date():  # 23:xx: the last minute of today
                target = local_now.replace(hour=23, minute=59, second=0, microsecond=0)
    elif group == "upcoming":
        target = dt.datetime.combine(local_now.date() + dt.timedelta(days=1), local_due.timetz())
    else:
        raise ValidationError("An activity cannot be moved into the past.", field="due_at")
    return store.repo("activity").update(activity_id, {"due_at": iso(target)})
