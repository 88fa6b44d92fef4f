"""The scheduler: what is due now, for whom, and how it is delivered (Qt-free).

`Scheduler.tick()` is called every minute or so (and on wake, start, and after a
change): it delivers each due reminder exactly once, holds non-urgent ones during quiet
hours, and turns a burst (after sleep, while the app was closed, at the end of quiet
hours) into one grouped notice instead of a flood. It returns `Notice`s; showing them
(desktop notification, tray, in-app centre) is the caller's job.

Every instant is UTC; the clock's zone is read on every tick, so travelling across time
zones or a daylight-saving change only moves what is defined in wall-clock time (quiet
hours, "today"), never a due time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop.errors import NotFoundError, ValidationError
from desktop.followup.clock import Clock, SystemClock, iso, parse_iso
from desktop.followup.reminders import PENDING_STATES, TABLE, Reminder, Rules
from desktop.followup.rule import ENTITY as RULE_ENTITY
from desktop.followup.rule import read_rule
from desktop.followup.settings import FollowupSettings, _hhmm, load_settings

if TYPE_CHECKING:
    from desktop.store import Changes, Store

LAST_TICK_KEY = "followup_last_tick"
REVIEW_NS = uuid.UUID("6f1c2a4e-8d0b-4c39-9a57-2f6e1d7b0c11")

TEXT = {
    "en": {
        "task_due": "Task due: {title}",
        "golden_warning": "No follow-up yet ({warn:g} h): {title}",
        "golden_overdue": "Follow-up overdue ({overdue:g} h): {title}",
        "stalled": "Deal stalled: {title}",
        "lead_new": "New lead for you: {title}",
        "lead_sla": "Lead waiting for your first contact: {title}",
        "group_title": "{n} reminders while you were away",
        "group_title_quiet": "{n} reminders held during quiet hours",
        "more": "and {n} more",
        "review": "Review: “{title}” had no valid follow-up within {hours} hours",
        "review_body": "Owner: {owner}. Created {start}. Check in with the rep.",
    },
    "zh": {
        "task_due": "任务到期：{title}",
        "golden_warning": "尚未跟进（{warn:g} 小时）：{title}",
        "golden_overdue": "跟进已逾期（{overdue:g} 小时）：{title}",
        "stalled": "商机停滞：{title}",
        "lead_new": "新线索分配给您：{title}",
        "lead_sla": "线索待首次联系（已超时）：{title}",
        "group_title": "离开期间有 {n} 条提醒",
        "group_title_quiet": "免打扰期间暂存了 {n} 条提醒",
        "more": "另有 {n} 条",
        "review": "复核：“{title}” 在 {hours} 小时内没有有效跟进",
        "review_body": "负责人：{owner}。创建于 {start}。请与该销售沟通。",
    },
}


def text(lang: str, key: str, **values: Any) -> str:
    table = TEXT["zh" if lang.startswith("zh") else "en"]
    return table[key].format(**values)


@dataclass(frozen=True)
class PendingReminder:
    """A reminder joined with its record's current state (owner, done, deleted)."""

    key: str
    kind: str
    entity: str
    record_id: str
    fire_at: str
    due_at: str | None
    title: str
    urgent: bool
    state: str
    owner: str | None
    delivered_at: str | None = None
    seen_at: str | None = None
    acted_at: str | None = None
    snoozed_until: str | None = None

    def headline(self, lang: str, s: FollowupSettings | None = None) -> str:
        """The reminder's line; the golden rule's hours are those of `s` (the rule in
        force), else the built-in 48 and 72."""
        if self.kind not in TEXT["en"]:
            return self.title
        s = s or FollowupSettings()
        return text(lang, self.kind, title=self.title, warn=s.golden_warn_hours,
                    overdue=s.golden_overdue_hours)


@dataclass(frozen=True)
class Notice:
    """One notification to show. A grouped notice carries several reminder keys."""

    title: str
    body: str
    keys: tuple[str, ...]
    urgent: bool
    grouped: bool
    entity: str | None = None  # the record "open" goes to (single notices)
    record_id: str | None = None
    kinds: tuple[str, ...] = field(default=())


def in_quiet_hours(moment: dt.datetime, zone: dt.tzinfo, s: FollowupSettings) -> bool:
    """Is `moment` inside quiet hours, in wall-clock time of `zone`?"""
    local = moment.astimezone(zone)
    hm = (local.hour, local.minute)
    start, end = _hhmm(s.quiet_start), _hhmm(s.quiet_end)
    if start == end:
        return False
    if start < end:
        return start <= hm < end
    return hm >= start or hm < end


_OWNER = "r.recipient"
_GONE = ("CASE r.entity WHEN 'activity' THEN a.deleted OR a.done_at IS NOT NULL "
         "WHEN 'account' THEN c.deleted WHEN 'lead' THEN l.deleted ELSE d.deleted END")
_SOURCE_SQL = f"""
SELECT r.key, r.kind, r.entity, r.record_id, r.fire_at, r.due_at, r.title, r.urgent, r.state,
       r.delivered_at, r.seen_at, r.acted_at, r.snoozed_until, {_OWNER}, {_GONE}
FROM {TABLE} r
LEFT JOIN activity a ON r.entity = 'activity' AND a.id = r.record_id
LEFT JOIN account c ON r.entity = 'account' AND c.id = r.record_id
LEFT JOIN deal d ON r.entity = 'deal' AND d.id = r.record_id
LEFT JOIN lead l ON r.entity = 'lead' AND l.id = r.record_id
"""


def _pending(row: Any) -> PendingReminder:
    return PendingReminder(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]),
                           row[8], row[13], row[9], row[10], row[11], row[12])


class Scheduler:
    """Owns the follow-up rules for one store; use it on the store's thread."""

    def __init__(self, store: Store, clock: Clock | None = None,
                 settings: FollowupSettings | None = None, lang: str = "en") -> None:
        self.store = store
        self.settings = settings or load_settings(store)
        self.clock = clock or SystemClock(self.settings.time_zone)
        self.lang = lang
        self.rules = Rules(store, self.settings)

    def _quiet(self, moment: dt.datetime) -> bool:
        return in_quiet_hours(moment, self.clock.zone(), self.settings)

    def is_urgent(self, p: PendingReminder) -> bool:
        """Urgent kinds (settings), and tasks the rep set inside quiet hours on purpose
        (judged in the zone the rep is in now)."""
        if p.urgent:
            return True
        due = parse_iso(p.due_at) if p.kind == "task_due" else None
        return due is not None and self._quiet(due)

    @property
    def me(self) -> str:
        return self.store.user

    def is_mine(self, owner: str | None) -> bool:
        """Reminders go to the record's owner. With no signed-in user, or a record with
        no owner, this device is the only one that can remind anybody."""
        return not self.me or not owner or owner == self.me

    # ---------------------------------------------------------------- passes
    def full_pass(self) -> Any:
        return self.rules.full_pass(self.clock.now())

    def on_changes(self, changes: Changes) -> None:
        """Hook for store.on_change / ctx.operation_did_execute (on the store thread)."""
        if TABLE in changes.entities and len(changes.entities) == 1:
            return
        if RULE_ENTITY in changes.entities or "*" in changes.entities:
            # the admin's follow-up rule changed (edited here or pulled; gone in a wipe):
            # every record's reminders are judged by it from now on
            self.settings = read_rule(self.store.conn).apply(self.settings)
            self.rules.s = self.settings
            if RULE_ENTITY in changes.entities:
                self.full_pass()
                return
        if not self.rules.on_changes(changes, self.clock.now()):
            self.full_pass()

    # ---------------------------------------------------------------- what is due
    def due_now(self, now: dt.datetime | None = None) -> list[PendingReminder]:
        """Pending reminders whose time has come and whose recipient is me."""
        now = now or self.clock.now()
        # Filtered by the indexed recipient: a manager's store holds many reminders for others.
        mine = "" if not self.me else " AND r.recipient IN ('', ?)"
        args = ([self.me] if self.me else []) + [iso(now)]
        rows = self.store.conn.execute(
            _SOURCE_SQL + f" WHERE r.state IN ('scheduled', 'snoozed'){mine} AND r.fire_at <= ? "
            f"AND NOT coalesce({_GONE}, 1) ORDER BY r.fire_at", args).fetchall()
        return [_pending(row) for row in rows]

    def pending_for(self, owner: str | None = None, due_before: dt.datetime | None = None,
                    ) -> list[PendingReminder]:
        """Every reminder not yet acted on (for the CLI and the centre), oldest first."""
        sql = _SOURCE_SQL + " WHERE r.state IN ('scheduled', 'snoozed', 'delivered', 'seen')"
        args: list[Any] = []
        if owner is None and self.me:  # mine, by the indexed recipient (as due_now)
            sql += " AND r.recipient IN ('', ?)"
            args.append(self.me)
        elif owner is not None:
            sql += " AND r.recipient = ?"
            args.append(owner)
        if due_before is not None:
            sql += " AND r.fire_at <= ?"
            args.append(iso(due_before))
        rows = self.store.conn.execute(sql + " ORDER BY r.fire_at", args).fetchall()
        out = []
        for row in rows:
            if row[14] is None or row[14]:
                continue
            p = _pending(row)
            if ((owner is None and self.is_mine(p.owner))
                    or (owner is not None and p.owner == owner)):
                out.append(p)
        return out

    def all_reminders(self, limit: int = 500) -> list[PendingReminder]:
        """The notification centre: every reminder of mine in any state but obsolete."""
        rows = self.store.conn.execute(
            _SOURCE_SQL + " WHERE r.state != 'obsolete' ORDER BY r.fire_at DESC LIMIT ?",
            (limit * 2,)).fetchall()
        out = [p for p in (_pending(r) for r in rows) if self.is_mine(p.owner)]
        return out[:limit]

    # ---------------------------------------------------------------- delivery
    def tick(self) -> list[Notice]:
        """Deliver what is due now, once. Call every minute, on wake and on start."""
        s = self.settings
        now = self.clock.now()
        self.rules.extend_horizon(now)
        last = parse_iso(self.store.meta_get(LAST_TICK_KEY))
        gap = dt.timedelta(minutes=s.sleep_gap_minutes)
        quiet = self._quiet(now)
        due = self.due_now(now)
        ready = [p for p in due if not quiet or self.is_urgent(p)]
        notices: list[Notice] = []
        if ready:
            missed = [p for p in ready if now - (parse_iso(p.fire_at) or now) > gap]
            woke = last is None or now - last > gap
            if len(ready) > s.group_after or (len(ready) > 1 and (missed or woke)):
                held_in_quiet = last is not None and self._quiet(last) and not woke
                notices.append(self._group(ready, quiet_end=held_in_quiet))
            else:
                notices += [self._single(p) for p in ready]
        with self.store.write() as w:
            for n in notices:
                gid = n.keys[0] if n.grouped else None
                w.conn.executemany(
                    f"UPDATE {TABLE} SET state = 'delivered', delivered_at = ?, group_id = ? "
                    "WHERE key = ? AND state IN ('scheduled', 'snoozed')",
                    [(iso(now), gid, k) for k in n.keys])
            if notices:
                w.changed(TABLE, None)
            for p in ready:
                if p.kind == "golden_overdue":
                    self._review_task(p, now)
            self.store.meta_set(LAST_TICK_KEY, iso(now), conn=w.conn)
        return notices

    def _single(self, p: PendingReminder) -> Notice:
        when = ""
        if p.due_at:
            due = parse_iso(p.due_at)
            if due is not None:
                when = due.astimezone(self.clock.zone()).strftime("%Y-%m-%d %H:%M")
        return Notice(p.headline(self.lang, self.settings), when, (p.key,), self.is_urgent(p),
                      False, p.entity, p.record_id, (p.kind,))

    def _group(self, ready: list[PendingReminder], quiet_end: bool) -> Notice:
        n = len(ready)
        title = text(self.lang, "group_title_quiet" if quiet_end else "group_title", n=n)
        ordered = sorted(ready, key=lambda p: (not p.urgent, p.fire_at))
        lines = [p.headline(self.lang, self.settings) for p in ordered[:3]]
        if n > 3:
            lines.append(text(self.lang, "more", n=n - 3))
        return Notice(title, "\n".join(lines), tuple(p.key for p in ordered),
                      any(self.is_urgent(p) for p in ready), True, None, None,
                      tuple(sorted({p.kind for p in ready})))

    def _review_task(self, p: PendingReminder, now: dt.datetime) -> str | None:
        """The golden 72 hours passed: a review task for the manager, created once
        (its id is derived from the reminder, so two devices make the same record)."""
        manager = self.settings.manager
        if not manager:
            return None
        rid = str(uuid.uuid5(REVIEW_NS, p.key))
        repo = self.store.repo("activity")
        try:
            repo.get(rid, include_deleted=True)
            return rid
        except NotFoundError:
            pass
        start = p.key.rsplit(":", 1)[-1] if p.key.count(":") >= 3 else ""
        values: dict[str, Any] = {
            "kind": "task",
            "subject": text(self.lang, "review", title=p.title,
                            hours=f"{self.settings.golden_overdue_hours:g}")[:300],
            "body": text(self.lang, "review_body", owner=p.owner or "-", start=start),
            "due_at": iso(now), "owner": manager,
            f"{p.entity}_id": p.record_id,
        }
        repo.create(values, record_id=rid)
        return rid

    # ---------------------------------------------------------------- user actions
    def mark_seen(self, keys: list[str] | tuple[str, ...]) -> None:
        now = iso(self.clock.now())
        with self.store.write() as w:
            w.conn.executemany(
                f"UPDATE {TABLE} SET state = 'seen', seen_at = ? "
                "WHERE key = ? AND state = 'delivered'",
                [(now, k) for k in keys])
            w.changed(TABLE, None)

    def mark_acted(self, key: str) -> None:
        """The rep opened the record from the reminder (or otherwise handled it)."""
        now = iso(self.clock.now())
        with self.store.write() as w:
            w.conn.execute(f"UPDATE {TABLE} SET state = 'acted', acted_at = ?, "
                           "seen_at = coalesce(seen_at, ?) WHERE key = ?", (now, now, key))
            w.changed(TABLE, None)

    def snooze(self, key: str, minutes: float = 60) -> str:
        """Deliver again after `minutes`; returns the new time (UTC ISO)."""
        if minutes <= 0:
            raise ValidationError("Snooze for at least one minute.")
        until = iso(self.clock.now() + dt.timedelta(minutes=minutes))
        with self.store.write() as w:
            cur = w.conn.execute(
                f"UPDATE {TABLE} SET state = 'snoozed', snoozed_until = ?, fire_at = ? "
                "WHERE key = ?",
                (until, until, key))
            if not cur.rowcount:
                raise NotFoundError("That reminder no longer exists.")
            w.changed(TABLE, None)
        return until

    def mark_done(self, key: str) -> None:
        """"Mark done" from a notification: a task is completed; any reminder is acted on."""
        row = self.store.conn.execute(f"SELECT entity, record_id, kind FROM {TABLE} WHERE key = ?",
                                      (key,)).fetchone()
        if row is None:
            raise NotFoundError("That reminder no longer exists.")
        with self.store.write():
            if row[2] == "task_due":
                self.store.repo("activity").update(row[1], {"done_at": iso(self.clock.now())})
            self.mark_acted(key)

    def reminder(self, key: str) -> Reminder | None:
        row = self.store.conn.execute(
            f"SELECT key, kind, entity, record_id, fire_at, due_at, title, urgent FROM {TABLE} "
            "WHERE key = ?", (key,)).fetchone()
        return None if row is None else Reminder(row[0], row[1], row[2], row[3], row[4], row[5],
                                                 row[6], bool(row[7]))


def to_json(p: PendingReminder, zone: dt.tzinfo, lang: str = "en",
            s: FollowupSettings | None = None) -> dict[str, Any]:
    """A reminder for the CLI: what, for whom, when, and why."""
    fire = parse_iso(p.fire_at)
    return {"key": p.key, "kind": p.kind, "entity": p.entity, "record_id": p.record_id,
            "title": p.title, "why": p.headline(lang, s), "recipient": p.owner, "state": p.state,
            "urgent": p.urgent, "fire_at": p.fire_at, "due_at": p.due_at,
            "fire_at_local": fire.astimezone(zone).isoformat() if fire else None}


__all__ = ["PENDING_STATES", "Notice", "PendingReminder", "Scheduler", "in_quiet_hours",
           "to_json"]
