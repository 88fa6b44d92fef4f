"""Which reminders exist, computed from the records (Qt-free).

Sources:

* ``task_due``        an open task (activity kind "task"), fires its lead time before due_at
* ``golden_warning``  a new account or deal without a valid follow-up, 48 h after creation
* ``golden_overdue``  the same at 72 h (urgent; also creates a review task for the manager)
* ``stalled``         a deal in a stage longer than that stage allows
* ``lead_new``        a lead the server assigned to its owner, not contacted since (issue 17)
* ``lead_sla``        the same lead once the server's SLA clock reminded (urgent)

Reminder delivery state is local to this device: the table ``followup_reminder`` is
created by the store's migration m006 (desktop.store.followup_tables) and is never synced
or journaled. A reminder's key names its source and anchor (e.g. the due time), so a
rescheduled task makes a new reminder and the old one becomes ``obsolete``.

The recipient is the current owner of the source record, copied into the row and
rewritten by the incremental pass whenever the record changes (locally or by sync: both
reach `store.on_change`), so when ownership changes pending reminders follow the record.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.followup.clock import iso, parse_iso
from desktop.followup.settings import FollowupSettings
from desktop.schema import ENTITIES
from desktop.store.bulkindex import indexed_by
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.followup_tables import EVIDENCE_SQL
from desktop.store.followup_tables import REMINDER_TABLE as TABLE
from desktop.store.rows import clock_stamps

if TYPE_CHECKING:
    import sqlite3

    from desktop.store import Changes, Store
    from desktop.store.store import WriteTx

_FMT = "%Y-%m-%dT%H:%M:%SZ"  # the store's UTC text form (desktop.schema.to_utc_iso)
PENDING_STATES = ("scheduled", "snoozed")
STATES = ("scheduled", "delivered", "seen", "acted", "snoozed", "obsolete")
PRUNE_DAYS = 30  # obsolete and acted-on reminders are kept this long, then deleted
LEAD_FIELD = "remind_before_min"  # optional activity field (minutes); see the report

_COUNTS = EVIDENCE_SQL  # settings._counts in SQL

@contextmanager
def derived_write(store: Store) -> Iterator[WriteTx]:
    """A write of derived reminder rows: committed without waiting for the disk
    (synchronous=NORMAL in WAL mode; the database stays consistent, and the next durable
    commit carries these pages to disk too). Losing the last of them to a power cut only
    means the next pass computes them again. User edits and delivery states keep the
    store's durable commits. Inside someone else's transaction nothing is changed."""
    conn = store.conn
    if conn.in_transaction:
        with store.write() as w:
            yield w
        return
    mode = conn.execute("PRAGMA synchronous").fetchone()[0]
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        with store.write() as w:
            yield w
    finally:
        conn.execute(f"PRAGMA synchronous = {int(mode)}")


@dataclass(frozen=True)
class Reminder:
    key: str
    kind: str
    entity: str
    record_id: str
    fire_at: str
    due_at: str | None
    title: str
    urgent: bool = False
    recipient: str = ""


# ------------------------------------------------------------------ per-record rules
def _ms_to_dt(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def golden_start(row: sqlite3.Row | dict[str, Any]) -> dt.datetime | None:
    """When the record was created on its first device: the oldest field stamp (the
    local created_at of a synced record is only when it arrived here)."""
    try:
        first = min(int(str(s).split("-", 1)[0]) for s in clock_stamps(row["_clocks"] or "{}"))
        return _ms_to_dt(first)
    except (ValueError, TypeError, KeyError, IndexError):
        return parse_iso(row["created_at"])


def task_reminder(row: Any, s: FollowupSettings) -> Reminder | None:
    if row["deleted"] or row["kind"] != "task" or row["done_at"] or not row["due_at"]:
        return None
    due = parse_iso(row["due_at"])
    if due is None:
        return None
    lead = s.task_lead_minutes
    if LEAD_FIELD in row.keys() and row[LEAD_FIELD] is not None:  # noqa: SIM118 (sqlite3.Row)
        lead = int(row[LEAD_FIELD])
    fire = due - dt.timedelta(minutes=lead)
    urgent = "task_due" in s.urgent_kinds
    return Reminder(f"task:{row['id']}:{row['due_at']}", "task_due", "activity", row["id"],
                    iso(fire), row["due_at"], row["subject"] or "", urgent, row["owner"] or "")


def golden_reminders(entity: str, row: Any, activities: list[dict[str, Any]],
                     s: FollowupSettings, now: dt.datetime) -> list[Reminder]:
    if row["deleted"]:
        return []
    start = golden_start(row)
    if start is None or now - start > dt.timedelta(days=s.golden_window_days):
        return []
    if s.is_valid_followup(activities):
        return []
    title = row[ENTITIES[entity].title_field] or ""
    anchor = iso(start)
    out = []
    for kind, hours in (("golden_warning", s.golden_warn_hours),
                        ("golden_overdue", s.golden_overdue_hours)):
        fire = start + dt.timedelta(hours=hours)
        out.append(Reminder(f"{kind}:{entity}:{row['id']}:{anchor}", kind, entity, row["id"],
                            iso(fire), iso(start + dt.timedelta(hours=s.golden_overdue_hours)),
                            title, kind in s.urgent_kinds, row["owner"] or ""))
    return out


def stalled_reminder(row: Any, s: FollowupSettings) -> Reminder | None:
    if row["deleted"] or row["stage"] not in s.stalled_days:
        return None
    since = parse_iso(row["stage_changed_at"]) or parse_iso(row["created_at"])
    if since is None:
        return None
    fire = since + dt.timedelta(days=float(s.stalled_days[row["stage"]]))
    return Reminder(f"stalled:{row['id']}:{row['stage']}:{iso(since)}", "stalled", "deal",
                    row["id"], iso(fire), None, row["title"] or "", "stalled" in s.urgent_kinds,
                    row["owner"] or "")


# ------------------------------------------------------------------ reading sources
LEAD_KINDS = ("lead_new", "lead_sla")


def lead_reminders(row: Any) -> list[Reminder]:
    """A lead assigned to its owner and not contacted since: "new lead" at once, and
    "first contact overdue" once the server's SLA clock reminded (`escalation`)."""
    assigned, owner = row["assigned_at"], row["owner"]
    last = row["last_contact_at"]
    if row["deleted"] or row["status"] != "assigned" or not owner or not assigned or (
            last and last >= assigned):
        return []
    title = " · ".join(x for x in (row["name"], row["company"]) if x)
    out = [Reminder(f"lead_new:{row['id']}:{assigned}", "lead_new", "lead", row["id"], assigned,
                    None, title, False, owner)]
    if row["escalation"] == "reminded":
        out.append(Reminder(f"lead_sla:{row['id']}:{assigned}", "lead_sla", "lead", row["id"],
                            assigned, None, title, True, owner))
    return out


def _marks(values: list[Any]) -> str:
    """`(?, ?, ...)`: literal IN lists let SQLite use the id/ref indexes."""
    return "(" + ", ".join("?" * len(values)) + ")"  # SQLite accepts an empty ()

_ACT_COLS = "account_id, deal_id, kind, duration_s, attachments, outcome, done_at"
_ID_BATCH = 10_000  # ids per statement (SQLite allows 32,766 bound variables)
_RECOMPUTE_BATCH = 5_000  # records per recompute: ids + up to two reminder keys each


def _activities_for(conn: sqlite3.Connection, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Linked activities per account/deal id (two indexed lookups per batch)."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    for col, index in (("account_id", "followup_evidence_account"),
                       ("deal_id", "followup_evidence_deal")):
        hint = indexed_by(conn, index)  # none while a first sync defers it (bulkindex)
        # a batch at a time: a manager's first sync makes a million records new at once,
        # more than the bound variables one statement may have (32,766)
        for start in range(0, len(ids), _ID_BATCH):
            batch = ids[start:start + _ID_BATCH]
            # Only activities that can count (see settings._counts); planned tasks cannot.
            rows = conn.execute(
                f"SELECT {_ACT_COLS} FROM activity {hint} WHERE deleted = 0 "
                f"AND {col} IS NOT NULL AND {_COUNTS} AND {col} IN {_marks(batch)}", batch)
            for r in rows:
                act = {"kind": r[2], "duration_s": r[3], "attachments": r[4] not in (None, "[]"),
                       "outcome": r[5], "done_at": r[6]}
                out[r[0] if col == "account_id" else r[1]].append(act)
    return out


def _golden_for_rows(conn: sqlite3.Connection, entity: str, rows: list[Any],
                     s: FollowupSettings, now: dt.datetime) -> list[Reminder]:
    acts = _activities_for(conn, [r["id"] for r in rows])
    out: list[Reminder] = []
    for r in rows:
        out += golden_reminders(entity, r, acts[r["id"]], s, now)
    return out


@dataclass
class PassResult:
    reminders: int = 0
    inserted: int = 0
    obsoleted: int = 0


class Rules:
    """Computes reminders and keeps the local reminder table in step with the records."""

    def __init__(self, store: Store, settings: FollowupSettings) -> None:
        self.store = store
        self.s = settings

    # ---------------------------------------------------------------- full pass
    def full_pass(self, now: dt.datetime, *, tasks: bool = True) -> PassResult:
        """The rules over every relevant record: the golden 72 hours and stalled deals,
        and (tasks=True) the task reminders in the horizon. Run in the background, e.g.
        every 30 minutes: edits are handled at once by `on_changes`; this pass catches
        what time alone changed and writes made by other processes (the CLI)."""
        conn = self.store.conn
        s = self.s
        found: list[Reminder] = []
        lo = iso(now - dt.timedelta(hours=s.missed_lookback_hours))
        hi = iso(now + dt.timedelta(hours=s.horizon_hours))
        kinds = ["golden_warning", "golden_overdue", "stalled"]
        if tasks:
            found += self._tasks_between(lo, hi)
            kinds.append("task_due")
        for entity in ("account", "deal"):
            found += self._golden_bulk(entity, now)
        kinds += LEAD_KINDS
        for row in conn.execute("SELECT * FROM lead WHERE deleted = 0 AND status = 'assigned' "
                                "AND owner IS NOT NULL"):
            found += lead_reminders(row)
        for stage, days in s.stalled_days.items():
            cutoff = iso(now + dt.timedelta(hours=s.horizon_hours) - dt.timedelta(days=float(days)))
            # Computed in SQL (same result as stalled_reminder; a test holds them equal):
            # thousands of long-stalled deals cost no Python date arithmetic.
            since_sql = f"strftime('{_FMT}', coalesce(stage_changed_at, created_at))"
            rows = conn.execute(
                f"SELECT 'stalled:' || id || ':' || stage || ':' || {since_sql}, id, "
                f"strftime('{_FMT}', coalesce(stage_changed_at, created_at), ?), "
                "coalesce(title, ''), coalesce(owner, '') FROM deal "
                "WHERE deleted = 0 AND stage = ? "
                "AND (stage_changed_at IS NULL OR stage_changed_at <= ?)",
                (f"+{float(days)} days", stage, cutoff)).fetchall()
            urgent = "stalled" in s.urgent_kinds
            found += [Reminder(r[0], "stalled", "deal", r[1], r[2], None, r[3], urgent, r[4])
                      for r in rows if r[2] and r[2] <= hi]
        res = PassResult(reminders=len(found))
        # Compare with what the table holds and write only the difference: a repeated
        # pass over an unchanged store writes nothing.
        have = {r[0]: r[1:] for r in conn.execute(
            f"SELECT key, title, urgent, recipient, state, kind, fire_at FROM {TABLE} "
            f"WHERE kind IN {_marks(kinds)} AND (state != 'obsolete' OR fire_at >= ?)",
            (*kinds, lo))}
        new = [r for r in found if (h := have.get(r.key)) is None or h[3] == "obsolete"
               or h[:3] != (r.title, int(r.urgent), r.recipient)]
        keys = {r.key for r in found}
        stale = [k for k, h in have.items() if h[3] in PENDING_STATES and k not in keys
                 # task rows older than the window scanned here are judged at delivery
                 and (h[4] != "task_due" or h[5] > lo)]
        prune = iso(now - dt.timedelta(days=PRUNE_DAYS))
        with derived_write(self.store) as w:
            res.inserted = self._upsert(w.conn, new, now)
            w.conn.executemany(f"UPDATE {TABLE} SET state = 'obsolete' WHERE key = ?",
                               [(k,) for k in stale])
            res.obsoleted = len(stale)
            # History: obsolete and acted-on reminders go after PRUNE_DAYS.
            w.conn.execute(f"DELETE FROM {TABLE} WHERE state IN ('obsolete', 'acted') "
                           "AND fire_at < ?", (prune,))
            if tasks:
                self.store.meta_set("followup_horizon", hi, conn=w.conn)
            if res.inserted or res.obsoleted:
                w.changed(TABLE, None)
        return res

    def _golden_bulk(self, entity: str, now: dt.datetime) -> list[Reminder]:
        """New records without a valid follow-up; times computed in SQL (same result as
        golden_reminders; a test holds them equal). The start is first_write_at's second
        (desktop.store.firstwrite: golden_start as a column), read through its index."""
        s = self.s
        conn = self.store.conn
        title = ENTITIES[entity].title_field
        cutoff = iso(now - dt.timedelta(days=s.golden_window_days))
        cutoff_ms = calendar.timegm(time.strptime(cutoff, _FMT)) * 1000  # st >= cutoff
        start_sql = f"strftime('{_FMT}', {FIRST_WRITE} / 1000, 'unixepoch')"
        rows = conn.execute(
            f"SELECT id, coalesce(\"{title}\", ''), coalesce(owner, ''), st, "
            f"strftime('{_FMT}', st, ?), strftime('{_FMT}', st, ?) FROM "
            f"(SELECT id, \"{title}\", owner, {start_sql} AS st FROM \"{entity}\" "
            f'INDEXED BY "{entity}_first_write" WHERE deleted = 0 AND {FIRST_WRITE} >= ?)',
            (f"+{float(s.golden_warn_hours)} hours", f"+{float(s.golden_overdue_hours)} hours",
             cutoff_ms)).fetchall()
        acts = _activities_for(conn, [r[0] for r in rows])
        out: list[Reminder] = []
        for rid, name, owner, start, warn, overdue in rows:
            if s.is_valid_followup(acts[rid]):
                continue
            for kind, fire in (("golden_warning", warn), ("golden_overdue", overdue)):
                out.append(Reminder(f"{kind}:{entity}:{rid}:{start}", kind, entity, rid, fire,
                                    overdue, name, kind in s.urgent_kinds, owner))
        return out

    def _tasks_between(self, lo: str, hi: str) -> list[Reminder]:
        """Open tasks due in (lo, hi], computed in SQL (same result as task_reminder)."""
        lead = str(int(self.s.task_lead_minutes))
        if ENTITIES["activity"].has_field(LEAD_FIELD):
            lead = f"coalesce({LEAD_FIELD}, {lead})"
        rows = self.store.conn.execute(
            "SELECT 'task:' || id || ':' || due_at, id, "
            f"strftime('{_FMT}', due_at, (-{lead}) || ' minutes'), due_at, coalesce(subject, ''), "
            "coalesce(owner, '') FROM activity INDEXED BY followup_task_due WHERE deleted = 0 "
            "AND kind = 'task' AND done_at IS NULL AND due_at > ? AND due_at <= ?",
            (lo, hi)).fetchall()
        urgent = "task_due" in self.s.urgent_kinds
        return [Reminder(r[0], "task_due", "activity", r[1], r[2], r[3], r[4], urgent, r[5])
                for r in rows if r[2]]

    def extend_horizon(self, now: dt.datetime) -> int:
        """Schedule task reminders entering the horizon since the last pass (cheap)."""
        last = self.store.meta_get("followup_horizon")
        hi = iso(now + dt.timedelta(hours=self.s.horizon_hours))
        lo = last or iso(now - dt.timedelta(hours=self.s.missed_lookback_hours))
        if last and last >= iso(now + dt.timedelta(hours=self.s.horizon_hours / 2)):
            return 0
        found = self._tasks_between(lo, hi)
        with derived_write(self.store) as w:
            n = self._upsert(w.conn, found, now)
            self.store.meta_set("followup_horizon", hi, conn=w.conn)
        return n

    # ---------------------------------------------------------------- incremental
    def on_changes(self, changes: Changes, now: dt.datetime) -> bool:
        """Recompute the reminders of the records an edit touched. Returns False when
        the change was too broad (an import) and a full pass is needed instead."""
        ents = changes.entities
        todo: dict[str, set[str]] = {"activity": set(), "account": set(), "deal": set(),
                                     "lead": set()}
        for entity in todo:
            ids = ents.get(entity, set())
            if None in ids:
                return False
            todo[entity] |= {i for i in ids if i}
        if not any(todo.values()):
            return True
        conn = self.store.conn
        if todo["activity"]:
            act_ids = sorted(todo["activity"])
            rows = conn.execute(f"SELECT account_id, deal_id FROM activity WHERE id IN "
                                f"{_marks(act_ids)}", act_ids).fetchall()
            for r in rows:
                if r[0]:
                    todo["account"].add(r[0])
                if r[1]:
                    todo["deal"].add(r[1])
        self.recompute(todo, now)
        return True

    def recompute(self, todo: dict[str, set[str]], now: dt.datetime) -> None:
        """The reminders of these records, a few thousand records at a time (a statement
        names each record and each of its reminders' keys: SQLite allows 32,766)."""
        size = sum(len(ids) for ids in todo.values())
        if size <= _RECOMPUTE_BATCH:
            self._recompute(todo, now)
            return
        for entity, ids in todo.items():
            ordered = sorted(ids)
            for start in range(0, len(ordered), _RECOMPUTE_BATCH):
                part: dict[str, set[str]] = {e: set() for e in todo}
                part[entity] = set(ordered[start:start + _RECOMPUTE_BATCH])
                self._recompute(part, now)

    def _recompute(self, todo: dict[str, set[str]], now: dt.datetime) -> None:
        conn = self.store.conn
        s = self.s
        found: list[Reminder] = []
        horizon = iso(now + dt.timedelta(hours=s.horizon_hours))
        for entity, ids in todo.items():
            if not ids:
                continue
            idl = sorted(ids)
            rows = conn.execute(f'SELECT * FROM "{entity}" WHERE id IN {_marks(idl)}',
                                idl).fetchall()
            if entity == "activity":
                found += [r for r in (task_reminder(row, s) for row in rows)
                          if r is not None and r.fire_at <= horizon]
                continue
            if entity == "lead":
                found += [r for row in rows for r in lead_reminders(row)]
                continue
            found += _golden_for_rows(conn, entity, rows, s, now)
            if entity == "deal":
                found += [r for r in (stalled_reminder(row, s) for row in rows)
                          if r is not None and r.fire_at <= horizon]
        keys = [r.key for r in found]
        with derived_write(self.store) as w:
            n = self._upsert(w.conn, found, now)
            stale = 0
            for entity, ids in todo.items():
                if not ids:
                    continue
                idl = sorted(ids)
                args = (entity, *idl, *keys)
                where = (f"entity = ? AND record_id IN {_marks(idl)} "
                         f"AND key NOT IN {_marks(keys)}")
                stale += w.conn.execute(
                    f"UPDATE {TABLE} SET state = 'obsolete' "
                    "WHERE state IN ('scheduled', 'snoozed') "
                    f"AND {where}", args).rowcount
                # Delivered reminders whose cause went away (task done, follow-up logged,
                # deal moved on) were acted on.
                stale += w.conn.execute(
                    f"UPDATE {TABLE} SET state = 'acted', acted_at = ? "
                    f"WHERE state IN ('delivered', 'seen') AND {where}", (iso(now), *args)).rowcount
            if n or stale:
                w.changed(TABLE, None)

    # ---------------------------------------------------------------- writing
    def _upsert(self, conn: sqlite3.Connection, found: Iterable[Reminder], now: dt.datetime) -> int:
        before = conn.total_changes
        stamp = iso(now)
        conn.executemany(
            f"INSERT INTO {TABLE} (key, kind, entity, record_id, fire_at, due_at, title, urgent, "
            "recipient, scheduled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO "
            "UPDATE SET title = excluded.title, urgent = excluded.urgent, "
            "recipient = excluded.recipient, "
            "state = CASE WHEN state = 'obsolete' THEN 'scheduled' ELSE state END "
            "WHERE title != excluded.title OR urgent != excluded.urgent "
            "OR recipient != excluded.recipient OR state = 'obsolete'",
            [(r.key, r.kind, r.entity, r.record_id, r.fire_at, r.due_at, r.title, int(r.urgent),
              r.recipient, stamp) for r in found])
        return conn.total_changes - before
