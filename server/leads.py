"""Leads on the server (issue 17): intake, assignment, escalation, the pool. The server
alone decides who owns a lead; devices ask (a `lead_claim` record) and are told.

- Intake (`intake`): a web form or ad platform posts a lead with its source's API key;
  validated like any record, rate-limited per source, idempotent by the source's
  external id (a replay returns the first answer), flagged when it matches an existing
  account or contact (the same blocking keys and comparison as the duplicate checker),
  assigned by the rules (desktop.leads.rules) and written as one server change.
- A lead a device pushes without an owner is assigned the same way, in the push's own
  transaction (`after_push`); claims and releases pushed by reps are arbitrated there too:
  the first to reach the server wins, the other device gets its claim back marked lost,
  with the reason.
- Escalation (`tick`): every open lead has a moment when the SLA clock must look at it
  again (`lead_state.due_at`, from desktop.leads.escalation); a pass reads only the
  leads whose moment has come. One pass at a time per database (a PostgreSQL advisory
  lock; SQLite has one writer), and each lead is re-read inside the pass, so a lead is
  escalated exactly once however many server processes run.

Server writes are stamped above every stamp the record holds (`fields._stamp_above`), so
they win over the devices' earlier writes and travel to them like any change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.dedupe.index import keys_of
from desktop.dedupe.match import probe
from desktop.errors import FieldCRMError, ValidationError
from desktop.leads import escalation as esc
from desktop.leads.rules import (
    FALLBACK_RULE,
    Policy,
    Rep,
    Rule,
    first_match,
    iso,
    pick,
)
from desktop.schema import DELETED, ENTITIES, LEAD_OPEN, SHARED_OWNER, validate_value
from server import tables as t
from server.db import is_sqlite, write_tx
from server.fields import _stamp_above, values_of
from server.merge import FieldMap, merge_fields

log = logging.getLogger(__name__)

ENTITY = "lead"
CLAIM = "lead_claim"
ENTITIES_DECIDED = (ENTITY, CLAIM)
SERVER_DEVICE = "server"
NOTIFY_CHANNEL = "fieldcrm_version"
TICK_LOCK_KEY = 727060117  # pg_try_advisory_xact_lock: one escalation pass per database
DEFAULT_PER_MINUTE = 120  # intakes per source per minute
TICK_INTERVAL_S = 30.0
INTAKE_FIELDS = ("name", "company", "phone", "email", "region", "budget", "product", "note")
CLAIMED_RULE = "claimed from the pool"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # due_at of a lead due at once


class LeadError(FieldCRMError):
    """The lead command could not be carried out."""


class IntakeRefused(FieldCRMError):
    """An intake the server does not accept (status and code say why)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


def new_id(now: dt.datetime | None = None) -> str:
    """A UUIDv7 string (time-ordered, like the devices' ids)."""
    ms = int((now or dt.datetime.now(dt.UTC)).timestamp() * 1000)
    raw = ms.to_bytes(6, "big") + secrets.token_bytes(10)
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))


def _utc(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def _mark(conn: sa.Connection) -> str:
    return "?" if is_sqlite(conn.engine) else "%s"


# ---------------------------------------------------------------- admin data
@dataclass
class Setup:
    """The admin's lead data as of one transaction."""

    rules: list[Rule]
    reps: dict[str, Rep]
    policy: Policy


def _records(conn: sa.Connection, entity: str) -> list[dict[str, Any]]:
    rows = conn.exec_driver_sql(
        f"SELECT record_id, fields FROM records WHERE entity = {_mark(conn)}", (entity,)).fetchall()
    out = []
    for rid, doc in rows:
        v = values_of(orjson.loads(doc))
        if not v.get(DELETED):
            out.append({**v, "id": rid})
    return out


def load_setup(conn: sa.Connection) -> Setup:
    policies = sorted(_records(conn, "lead_policy"), key=lambda v: str(v.get("name")))
    return Setup(rules=[Rule.from_values(v) for v in _records(conn, "lead_rule")],
                 reps={r.username: r for r in map(Rep.from_values, _records(conn, "lead_rep"))},
                 policy=Policy.from_values(policies[0] if policies else None))


def _candidates(conn: sa.Connection, rule: Rule) -> list[str]:
    """The rule's named users, or its team's reps; never a disabled user."""
    q = sa.select(t.users.c.username).where(t.users.c.disabled.is_(False))
    if rule.reps:
        q = q.where(t.users.c.username.in_(rule.reps))
    else:
        q = q.join(t.team_members, t.team_members.c.user_id == t.users.c.id).where(
            t.team_members.c.team == rule.team, t.users.c.role == "rep")
    return sorted(conn.execute(q).scalars().all())


def _open_counts(conn: sa.Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(names)
    if not names:
        return {}
    rows = conn.execute(sa.select(t.lead_state.c.owner, sa.func.count()).where(
        t.lead_state.c.owner.in_(names), t.lead_state.c.open.is_(True))
        .group_by(t.lead_state.c.owner)).all()
    return {str(o): int(n) for o, n in rows}


def _rr_counts(conn: sa.Connection, key: str) -> dict[str, int]:
    rows = conn.execute(sa.select(t.lead_rr.c.username, t.lead_rr.c.assigned).where(
        t.lead_rr.c.pool_key == key)).all()
    return {str(u): int(n) for u, n in rows}


def _rr_bump(conn: sa.Connection, key: str, username: str, had: dict[str, int]) -> None:
    if username in had:
        conn.execute(t.lead_rr.update().where(
            t.lead_rr.c.pool_key == key, t.lead_rr.c.username == username).values(
            assigned=t.lead_rr.c.assigned + 1))
    else:
        conn.execute(t.lead_rr.insert().values(pool_key=key, username=username, assigned=1))


def assign(conn: sa.Connection, setup: Setup, lead: Mapping[str, Any], now: dt.datetime,
           exclude: Iterable[str] = ()) -> tuple[str | None, str]:
    """(the rep who gets `lead`, the rule that decided), or (None, why) for the pool.
    Counts the assignment in the round-robin."""
    rule = first_match(setup.rules, lead)
    if rule is None:
        return None, FALLBACK_RULE
    names = _candidates(conn, rule)
    had = _rr_counts(conn, rule.pool_key)
    who = pick(names, setup.reps, had, _open_counts(conn, names), now, exclude)
    if who is None:
        return None, f"{rule.name}: nobody available"
    _rr_bump(conn, rule.pool_key, who, had)
    return who, rule.name


def manager_of(conn: sa.Connection, username: str) -> str | None:
    """A manager of one of the rep's teams (the first by name), to be told of a breach."""
    mine = sa.select(t.team_members.c.team).join(
        t.users, t.users.c.id == t.team_members.c.user_id).where(t.users.c.username == username)
    q = (sa.select(t.users.c.username)
         .join(t.team_members, t.team_members.c.user_id == t.users.c.id)
         .where(t.team_members.c.team.in_(mine), t.users.c.role == "manager",
                t.users.c.disabled.is_(False), t.users.c.username != username)
         .order_by(t.users.c.username).limit(1))
    return conn.execute(q).scalar()


# ---------------------------------------------------------------- duplicates
def matches_existing(conn: sa.Connection, lead: Mapping[str, Any]) -> list[str]:
    """"account:ID" / "contact:ID" of the records the lead probably is (server.duplicates'
    keys and comparison: the same rule as the devices)."""
    from server.duplicates import _compare, _probes, _Sql, thresholds

    sql = _Sql(conn)
    limits = thresholds(conn)
    out: list[str] = []
    probes = []
    if lead.get("company"):
        probes.append(probe("account", {"name": lead.get("company"), "phone": lead.get("phone")}))
    probes.append(probe("contact", {"name": lead.get("name"),
                                    "phones": [lead["phone"]] if lead.get("phone") else [],
                                    "email": lead.get("email")}))
    for me in probes:
        found: set[str] = set()
        for key in keys_of(me):
            found.update(r[0] for r in sql(
                "SELECT record_id FROM dedupe_keys WHERE entity = ? AND key = ? LIMIT 50",
                (me.entity, key)))
        for rid, other in _probes(sql, me.entity, found):
            match = _compare(me, other, limits.get(me.entity, 92.0))
            # A contact alike only by name is another person with the same name.
            if match and (me.entity == "account" or set(match[1]) - {"name"}):
                out.append(f"{me.entity}:{rid}")
    return sorted(out)


# ---------------------------------------------------------------- server writes
def _lock_counter(conn: sa.Connection) -> int:
    from server.push import _lock_counter as lock

    return lock(conn)


def _load(conn: sa.Connection, entity: str, record_id: str) -> tuple[FieldMap, str] | None:
    row = conn.exec_driver_sql(
        f"SELECT fields, created_by FROM records WHERE entity = {_mark(conn)} "
        f"AND record_id = {_mark(conn)}", (entity, record_id)).fetchone()
    return None if row is None else (orjson.loads(row[0]), str(row[1]))


@dataclass
class Writer:
    """Server changes inside one transaction that holds the version counter."""

    conn: sa.Connection
    version: int
    now: dt.datetime
    setup: Setup | None = None
    start: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start = self.version

    @property
    def lead_setup(self) -> Setup:
        if self.setup is None:
            self.setup = load_setup(self.conn)
        return self.setup

    def write(self, entity: str, record_id: str, changes: Mapping[str, Any], *,
              current: FieldMap | None, created_by: str = SERVER_DEVICE) -> FieldMap:
        """Write `changes` (validated) over `current` (None: a new record)."""
        ent = ENTITIES[entity]
        clean = {k: validate_value(ent, k, v) for k, v in changes.items()}
        have = current or {}
        stamp = _stamp_above(have)
        writes = {k: (v, stamp, have.get(k, {}).get("hlc")) for k, v in clean.items()
                  if k not in have or have[k].get("value") != v}
        merged, changed, _ = merge_fields(have, writes)
        if not changed:
            return merged
        self.version += 1
        doc = orjson.dumps(merged).decode()
        owner_value = merged.get("owner", {}).get("value")
        if not ent.owned or (entity == ENTITY and not owner_value):
            owner = SHARED_OWNER  # shared admin data; a lead in the pool
        else:
            owner = owner_value or created_by
        updated = iso(self.now)
        if current is None:
            self.conn.execute(t.records.insert().values(
                entity=entity, record_id=record_id, owner=owner, created_by=created_by,
                fields=doc, version=self.version, origin_device=None, updated_at=updated))
        else:
            self.conn.execute(t.records.update().where(
                t.records.c.entity == entity, t.records.c.record_id == record_id).values(
                owner=owner, fields=doc, version=self.version, origin_device=None,
                updated_at=updated))
        if entity == ENTITY:
            self.index(record_id, values_of(merged))
        return merged

    def index(self, record_id: str, values: Mapping[str, Any]) -> None:
        """Keep `lead_state` (owner, open, next SLA moment) equal to the lead's values."""
        # The first moment anything can be due, whatever the clock says now (a pass as of
        # any moment, a preview included, finds it): the policy read from the beginning.
        due = esc.evaluate(values, self.lead_setup.policy, EPOCH)
        due_at = iso(EPOCH) if due.action != esc.NONE else (
            iso(due.next_at) if due.next_at else None)
        is_open = bool(values.get("status") in LEAD_OPEN and values.get("owner")
                       and not values.get(DELETED))
        row = {"owner": values.get("owner") or None, "open": is_open, "due_at": due_at}
        done = self.conn.execute(t.lead_state.update().where(
            t.lead_state.c.record_id == record_id).values(**row))
        if done.rowcount == 0:
            self.conn.execute(t.lead_state.insert().values(record_id=record_id, **row))

    def finish(self) -> int:
        if self.version != self.start:
            self.conn.execute(t.counter.update().where(t.counter.c.id == 1).values(
                version=self.version))
            if not is_sqlite(self.conn.engine):
                self.conn.execute(sa.text("SELECT pg_notify(:ch, :v)"),
                                  {"ch": NOTIFY_CHANNEL, "v": str(self.version)})
        return self.version

    # -------------------------------------------------------- lead decisions
    def assign_new(self, record_id: str, current: FieldMap | None,
                   values: Mapping[str, Any], *, exclude: Iterable[str] = (),
                   extra: Mapping[str, Any] | None = None,
                   created_by: str = SERVER_DEVICE) -> FieldMap:
        """Assign a lead by the rules (or send it to the pool) and write it, with `extra`
        (all of a new lead's values) in the same change."""
        who, rule = assign(self.conn, self.lead_setup, values, self.now, exclude)
        changes: dict[str, Any] = dict(extra or {})
        changes.update(owner=who, status="assigned" if who else "pool",
                       assigned_at=iso(self.now) if who else None, assigned_rule=rule,
                       escalation=None, escalated_to=None, attempts=None)
        changes["assignments"] = history(values, self.now, who, rule)
        if who is None:
            changes.update(self.hide({**values, **changes}, record_id))
        return self.write(ENTITY, record_id, changes, current=current, created_by=created_by)

    def hide(self, values: Mapping[str, Any], record_id: str) -> dict[str, Any]:
        """A lead going to the pool: when the policy masks contact details there, keep
        them aside and return the changes that blank them on the record."""
        if not self.lead_setup.policy.mask_in_pool or not (
                values.get("phone") or values.get("email")):
            return {}
        self.conn.execute(t.lead_hidden.delete().where(t.lead_hidden.c.record_id == record_id))
        self.conn.execute(t.lead_hidden.insert().values(
            record_id=record_id, phone=values.get("phone"), email=values.get("email")))
        return {"phone": None, "email": None}

    def unhide(self, record_id: str) -> dict[str, Any]:
        """The contact details kept aside for a pool lead (claimed now), if any."""
        row = self.conn.execute(sa.select(t.lead_hidden.c.phone, t.lead_hidden.c.email).where(
            t.lead_hidden.c.record_id == record_id)).first()
        if row is None:
            return {}
        self.conn.execute(t.lead_hidden.delete().where(t.lead_hidden.c.record_id == record_id))
        return {k: v for k, v in (("phone", row[0]), ("email", row[1])) if v}


MAX_HISTORY = 20


def history(lead: Mapping[str, Any], now: dt.datetime, owner: str | None,
            why: str) -> list[str]:
    """The lead's assignment history with one more entry (the last MAX_HISTORY kept)."""
    have = [str(x) for x in lead.get("assignments") or ()]
    return [*have, f"{iso(now)} {owner or 'pool'} ({why})"][-MAX_HISTORY:]


# ---------------------------------------------------------------- intake
def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_api_key(engine: sa.Engine, source: str, per_minute: int = DEFAULT_PER_MINUTE) -> str:
    """A new API key for `source` (shown once; only its hash is kept)."""
    source = source.strip()
    if not source or len(source) > 100:
        raise LeadError("A source is 1 to 100 characters.")
    key = "fcl_" + secrets.token_urlsafe(24)
    with write_tx(engine) as conn:
        conn.execute(t.lead_api_keys.insert().values(
            key_hash=_hash_key(key), source=source, per_minute=max(1, per_minute),
            created_at=iso(dt.datetime.now(dt.UTC))))
    return key


def source_of(engine: sa.Engine, key: str | None) -> tuple[str, int]:
    """(source, intakes allowed per minute) of an API key; IntakeRefused 401 otherwise."""
    if not key:
        raise IntakeRefused(401, "api_key_missing", "Send the source's API key in X-Api-Key.")
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.lead_api_keys.c.source, t.lead_api_keys.c.per_minute)
                           .where(t.lead_api_keys.c.key_hash == _hash_key(key))).first()
    if row is None:
        raise IntakeRefused(401, "api_key_invalid", "This API key is not known.")
    return str(row[0]), int(row[1])


def _clean_intake(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    ext = body.get("external_id")
    if not isinstance(ext, str) or not ext.strip() or len(ext) > 200:
        raise IntakeRefused(422, "invalid_field", "external_id is required (1 to 200 "
                            "characters): the source's own id, so a replay is recognised.",
                            "external_id")
    ent = ENTITIES[ENTITY]
    values: dict[str, Any] = {}
    for name in INTAKE_FIELDS:
        raw = body.get(name)
        try:
            v = validate_value(ent, name, raw)
        except ValidationError as exc:
            raise IntakeRefused(422, "invalid_field", exc.message, name) from None
        if v is not None:
            values[name] = v
    if "name" not in values:
        raise IntakeRefused(422, "invalid_field", "Name is required", "name")
    if not values.get("phone") and not values.get("email"):
        raise IntakeRefused(422, "invalid_field", "A lead needs a phone or an email to be "
                            "reached.", "phone")
    return ext.strip(), values


def _public(record_id: str, values: Mapping[str, Any], replay: bool) -> dict[str, Any]:
    return {"id": record_id, "status": values.get("status"), "owner": values.get("owner"),
            "assigned_rule": values.get("assigned_rule"),
            "assigned_at": values.get("assigned_at"),
            "duplicate_of": list(values.get("duplicate_of") or []), "replay": replay}


def intake(engine: sa.Engine, source: str, per_minute: int, body: Mapping[str, Any],
           now: dt.datetime | None = None,
           publish: Any = None) -> dict[str, Any]:
    """Take one lead from `source`: validated, rate-limited, idempotent by external id,
    flagged against existing accounts and contacts, assigned. Raises IntakeRefused."""
    ext, values = _clean_intake(body)
    moment = _utc(now)
    with write_tx(engine) as conn:
        version = _lock_counter(conn)
        seen = conn.execute(sa.select(t.lead_intake.c.record_id).where(
            t.lead_intake.c.source == source, t.lead_intake.c.external_id == ext)).scalar()
        if seen is not None:
            got = _load(conn, ENTITY, seen)
            return _public(seen, values_of(got[0]) if got else {}, True)
        window = iso(moment - dt.timedelta(minutes=1))
        recent = conn.execute(sa.select(sa.func.count()).select_from(t.lead_intake).where(
            t.lead_intake.c.source == source, t.lead_intake.c.received_at > window)).scalar_one()
        if recent >= per_minute:
            raise IntakeRefused(429, "rate_limited", f"At most {per_minute} leads a minute "
                                f"from {source}; try again in a minute.")
        w = Writer(conn, version, moment)
        record_id = new_id(moment)
        dups = matches_existing(conn, values)
        first = {**values, "source": source, "external_id": ext, "status": "new",
                 "duplicate_of": dups or None}
        merged = w.assign_new(record_id, None, first, extra=first,
                              created_by=f"intake:{source}")
        conn.execute(t.lead_intake.insert().values(source=source, external_id=ext,
                                                   record_id=record_id,
                                                   received_at=iso(moment)))
        top = w.finish()
    if publish is not None:
        publish(top)
    return _public(record_id, values_of(merged), False)


def add_lead(engine: sa.Engine, values: Mapping[str, Any],
             now: dt.datetime | None = None) -> dict[str, Any]:
    """`fieldcrm-server leads add`: a lead typed in by an admin, assigned like an intake."""
    clean = {k: v for k, v in values.items() if v is not None}
    ent = ENTITIES[ENTITY]
    for k in list(clean):
        clean[k] = validate_value(ent, k, clean[k])
    moment = _utc(now)
    with write_tx(engine) as conn:
        w = Writer(conn, _lock_counter(conn), moment)
        record_id = new_id(moment)
        first = {**clean, "status": "new", "duplicate_of": matches_existing(conn, clean) or None}
        merged = w.assign_new(record_id, None, first, extra=first, created_by="admin")
        w.finish()
    return {**values_of(merged), "id": record_id}


# ---------------------------------------------------------------- after a push
def after_push(conn: sa.Connection, username: str, touched: list[tuple[str, str, bool]],
               version: int, now: dt.datetime | None = None) -> int:
    """Decide what the server decides for leads and claims a push just wrote
    (`touched`: entity, record id, whether it existed before). Returns the version."""
    if not any(e in (ENTITY, CLAIM) for e, _, _ in touched):
        return version
    w = Writer(conn, version, _utc(now))
    for entity, record_id, existed in touched:
        got = _load(conn, entity, record_id)
        if got is None:
            continue
        fields, _ = got
        values = values_of(fields)
        if entity == ENTITY:
            if not existed and not values.get("owner") and values.get("status") not in (
                    "qualified", "disqualified", "converted"):
                first = {"duplicate_of": matches_existing(conn, values) or None}
                w.assign_new(record_id, fields, values, extra=first)
            elif not existed and values.get("owner") and not values.get("assigned_at"):
                w.write(ENTITY, record_id, {"assigned_at": iso(w.now), "status": "assigned",
                                            "assigned_rule": f"set by {username}"},
                        current=fields)
            elif values.get("status") == "pool" and values.get("owner"):
                # "pool" and "assigned" say who owns it, which only the server decides
                w.write(ENTITY, record_id, {"status": "assigned"}, current=fields)
            elif values.get("status") == "assigned" and not values.get("owner"):
                w.write(ENTITY, record_id, {"status": "pool"}, current=fields)
            else:
                w.index(record_id, values)
        elif not existed and values.get("result") in (None, "pending"):
            _arbitrate(w, username, record_id, fields, values)
    return w.finish()


def _arbitrate(w: Writer, username: str, claim_id: str, claim: FieldMap,
               values: Mapping[str, Any]) -> None:
    """Decide one claim or release: the first to reach the server wins."""
    lead_id = str(values.get("lead_id") or "")
    got = _load(w.conn, ENTITY, lead_id)
    lead = values_of(got[0]) if got else {}
    result, reason = "lost", ""
    if not got or lead.get(DELETED):
        reason = "This lead no longer exists."
    elif values.get("action") == "release":
        if lead.get("owner") != username:
            reason = "Only the lead's owner can return it to the pool."
        else:
            _to_pool(w, lead_id, got[0], lead, reclaimed=False, why=f"returned by {username}")
            result = "won"
    elif lead.get("owner") == username:
        result = "won"
    elif lead.get("owner"):
        reason = f"{lead['owner']} has this lead: their claim reached the server first."
    elif lead.get("status") != "pool":
        reason = "This lead is not in the pool."
    else:
        reason = _claim_refusal(w, username)
        if not reason:
            w.write(ENTITY, lead_id, {"owner": username, "status": "assigned",
                                      "assigned_at": iso(w.now), "assigned_rule": CLAIMED_RULE,
                                      "escalation": None, "escalated_to": None,
                                      "attempts": None, **w.unhide(lead_id),
                                      "assignments": history(lead, w.now, username,
                                                             CLAIMED_RULE)}, current=got[0])
            _count_claim(w.conn, username, w.now)
            result = "won"
    w.write(CLAIM, claim_id, {"result": result, "reason": reason or None}, current=claim,
            created_by=username)


def _claim_refusal(w: Writer, username: str) -> str:
    setup = w.lead_setup
    rep = setup.reps.get(username) or Rep(username)
    if _open_counts(w.conn, [username]).get(username, 0) >= rep.open_limit:
        return f"You already have {rep.open_limit} open leads, your limit."
    day = w.now.date().isoformat()
    had = w.conn.execute(sa.select(t.lead_claim_days.c.claims).where(
        t.lead_claim_days.c.username == username, t.lead_claim_days.c.day == day)).scalar() or 0
    if had >= setup.policy.daily_claim_limit:
        return f"You have claimed {had} leads today, the daily limit."
    return ""


def _count_claim(conn: sa.Connection, username: str, now: dt.datetime) -> None:
    day = now.date().isoformat()
    done = conn.execute(t.lead_claim_days.update().where(
        t.lead_claim_days.c.username == username, t.lead_claim_days.c.day == day).values(
        claims=t.lead_claim_days.c.claims + 1))
    if done.rowcount == 0:
        conn.execute(t.lead_claim_days.insert().values(username=username, day=day, claims=1))


def _to_pool(w: Writer, lead_id: str, fields: FieldMap, lead: Mapping[str, Any], *,
             reclaimed: bool, why: str) -> None:
    changes: dict[str, Any] = {"owner": None, "status": "pool", "escalation": None,
                               "escalated_to": None}
    if reclaimed:
        changes["reclaim_count"] = int(lead.get("reclaim_count") or 0) + 1
    changes["assignments"] = history(lead, w.now, None, why)
    changes.update(w.hide(lead, lead_id))
    w.write(ENTITY, lead_id, changes, current=fields)


# ---------------------------------------------------------------- escalation pass
def tick(engine: sa.Engine, now: dt.datetime | None = None, *,
         batch: int = 5000) -> dict[str, Any]:
    """One escalation pass as of `now`: every open lead whose SLA moment has come gets
    what the policy says. Returns counts; `skipped` when another process holds the pass."""
    moment = _utc(now)
    counts = {"due": 0, esc.REMIND: 0, esc.RETRY: 0, esc.REASSIGN: 0, esc.TO_POOL: 0,
              esc.RECLAIM: 0}
    publish_version = None
    with write_tx(engine) as conn:
        if not is_sqlite(engine) and not conn.execute(
                sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": TICK_LOCK_KEY}).scalar():
            return {**counts, "skipped": True, "now": iso(moment)}
        w = Writer(conn, _lock_counter(conn), moment)
        due_ids = conn.execute(sa.select(t.lead_state.c.record_id).where(
            t.lead_state.c.due_at <= iso(moment)).order_by(t.lead_state.c.due_at)
            .limit(batch)).scalars().all()
        # Open leads of a rep disabled since: to the next rep now, not at the SLA's end.
        orphans = set(conn.execute(sa.select(t.lead_state.c.record_id).join(
            t.users, t.users.c.username == t.lead_state.c.owner).where(
            t.lead_state.c.open.is_(True), t.users.c.disabled.is_(True)).limit(batch))
            .scalars().all())
        due_ids = list(dict.fromkeys([*due_ids, *sorted(orphans)]))
        counts["due"] = len(due_ids)
        for lead_id in due_ids:
            got = _load(conn, ENTITY, lead_id)
            if got is None:
                conn.execute(t.lead_state.delete().where(t.lead_state.c.record_id == lead_id))
                continue
            fields, _ = got
            lead = values_of(fields)
            due = esc.evaluate(lead, w.lead_setup.policy, moment)
            if lead_id in orphans and lead.get("status") in LEAD_OPEN:
                due = esc.Due(esc.REASSIGN, None)
            if due.action == esc.NONE:
                w.index(lead_id, lead)
                continue
            counts[due.action] += 1
            _escalate(w, lead_id, fields, lead, due)
        top = w.finish()
        if top != w.start:
            publish_version = top
    return {**counts, "skipped": False, "now": iso(moment), "version": publish_version}


def _escalate(w: Writer, lead_id: str, fields: FieldMap, lead: Mapping[str, Any],
              due: esc.Due) -> None:
    owner = str(lead.get("owner") or "")
    if due.action in (esc.REMIND, esc.RETRY):
        w.write(ENTITY, lead_id, {"escalation": due.escalation,
                                  "escalated_to": manager_of(w.conn, owner)}, current=fields)
    elif due.action == esc.REASSIGN:
        extra = {"reassign_count": int(lead.get("reassign_count") or 0) + 1}
        w.assign_new(lead_id, fields, lead, exclude=[owner], extra=extra)
    else:
        reclaimed = due.action == esc.RECLAIM
        _to_pool(w, lead_id, fields, lead, reclaimed=reclaimed,
                 why="reclaimed: no follow-up" if reclaimed else f"SLA: {owner} did not reach it")


class Ticker:
    """Runs `tick` every `interval_s` seconds in the background (0: never)."""

    def __init__(self, engine: sa.Engine, interval_s: float,
                 publish: Any = None) -> None:
        self.engine, self.interval_s, self.publish = engine, interval_s, publish
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="lead-sla", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                out = tick(self.engine)
                if out.get("version") and self.publish is not None:
                    self.publish(out["version"])
            except sa.exc.SQLAlchemyError as exc:  # the database is down: try again later
                log.warning("lead escalation paused: %s", exc)
                time.sleep(1)


# ---------------------------------------------------------------- admin: rules, lists
RULE_NS = uuid.UUID("0190f1a2-0000-7000-8000-1ead00000017")


def load_rules(engine: sa.Engine, doc: Mapping[str, Any]) -> dict[str, int]:
    """Replace the assignment rules, rep capacities and policy with a file's:
    {"rules": [{name, position, regions, sources, products, min_budget, max_budget, team,
    reps, active}], "reps": [{username, weight, open_limit, away_from, away_until,
    enabled}], "policy": {first_contact_min, ...}}. Rules and reps the file no longer
    names are deleted (tombstones that travel to the devices)."""
    if not isinstance(doc, Mapping):
        raise LeadError("The rules file must hold a JSON object.")
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for i, r in enumerate(doc.get("rules") or []):
            values = {"position": i, **r}
            wanted[("lead_rule", str(uuid.uuid5(RULE_NS, f"rule:{r['name']}")))] = values
        for r in doc.get("reps") or []:
            wanted[("lead_rep", str(uuid.uuid5(RULE_NS, f"rep:{r['username']}")))] = dict(r)
        if doc.get("policy") is not None:
            wanted[("lead_policy", str(uuid.uuid5(RULE_NS, "policy")))] = {
                "name": "default", **doc["policy"]}
    except (KeyError, TypeError) as exc:
        raise LeadError(f"The rules file is malformed: every rule needs a name and every "
                        f"rep a username ({exc}).") from exc
    counts = {"written": 0, "deleted": 0}
    with write_tx(engine) as conn:
        w = Writer(conn, _lock_counter(conn), _utc(None))
        for entity in ("lead_rule", "lead_rep", "lead_policy"):
            for rec in _records(conn, entity):
                if (entity, rec["id"]) not in wanted:
                    got = _load(conn, entity, rec["id"])
                    w.write(entity, rec["id"], {DELETED: True},
                            current=got[0] if got else None, created_by="admin")
                    counts["deleted"] += 1
        for (entity, record_id), given in wanted.items():
            values = {k: [str(x) for x in v] if isinstance(v, list) else v
                      for k, v in given.items()}  # list fields hold texts
            got = _load(conn, entity, record_id)
            before = w.version
            w.write(entity, record_id, {**values, DELETED: False},
                    current=got[0] if got else None, created_by="admin")
            counts["written"] += w.version != before
        w.finish()
    return counts


def show_rules(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        setup = load_setup(conn)
        rules = sorted(_records(conn, "lead_rule"),
                       key=lambda v: (int(v.get("position") or 0), str(v.get("name"))))
        reps = sorted(_records(conn, "lead_rep"), key=lambda v: str(v.get("username")))
    strip = ("id", DELETED)
    return {"rules": [{k: v for k, v in r.items() if k not in strip} for r in rules],
            "reps": [{k: v for k, v in r.items() if k not in strip} for r in reps],
            "policy": {**dataclasses.asdict(setup.policy),
                       "retry_min": list(setup.policy.retry_min)}}


def list_leads(engine: sa.Engine, *, status: str | None = None, owner: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        out = []
        for rec in _records(conn, ENTITY):
            if status and rec.get("status") != status:
                continue
            if owner and rec.get("owner") != owner:
                continue
            out.append(rec)
    out.sort(key=lambda r: str(r["id"]), reverse=True)
    return out[:max(1, limit)]


def stats(engine: sa.Engine, now: dt.datetime | None = None) -> dict[str, Any]:
    """The manager's view: leads by status and age, SLA breaches, response time per rep
    (minutes from assignment to the first logged contact, median)."""
    moment = _utc(now)
    by_status: dict[str, int] = {}
    ages = {"<1h": 0, "1h-1d": 0, "1d-7d": 0, ">7d": 0}
    breaches: list[dict[str, Any]] = []
    response: dict[str, list[float]] = {}
    for rec in list_leads(engine, limit=10**9):
        st = str(rec.get("status") or "new")
        by_status[st] = by_status.get(st, 0) + 1
        assigned = esc._time(rec.get("assigned_at"))
        if st in LEAD_OPEN and assigned is not None:
            hours = (moment - assigned).total_seconds() / 3600
            ages["<1h" if hours < 1 else "1h-1d" if hours < 24 else
                 "1d-7d" if hours < 168 else ">7d"] += 1
        if rec.get("escalation") or rec.get("reassign_count"):
            breaches.append({"id": rec["id"], "name": rec.get("name"), "owner": rec.get("owner"),
                             "escalation": rec.get("escalation"),
                             "reassigned": int(rec.get("reassign_count") or 0)})
        first = esc._time(rec.get("first_contact_at"))
        if assigned is not None and first is not None and rec.get("owner"):
            response.setdefault(str(rec["owner"]), []).append(
                max(0.0, (first - assigned).total_seconds() / 60))
    per_rep = {rep: {"leads": len(v), "median_min": round(sorted(v)[len(v) // 2], 1)}
               for rep, v in sorted(response.items())}
    return {"by_status": by_status, "open_by_age": ages, "breaches": breaches,
            "response_by_rep": per_rep}
