"""Webhooks (issue 25): systems subscribe to record events and the server posts them.

Events: `<entity>.created`, `<entity>.changed`, `<entity>.deleted` for the entities of the
API for systems (server.integrations), and the transitions `deal.stage_changed`,
`deal.won`, `lead.assigned`, `lead.sla_breached` and `payment.received` (sent once per
transition: `webhook_state` keeps what each record last looked like, see `_events`). A
subscription names a system (its credential's read scope decides which fields a payload
carries), an address and event patterns (`deal.won`, `account.*`, `*`).

The worker (`Worker.run_once`, run by a background thread of each server process):
1. Takes the lease row (`webhook_worker`, id 1) if it is free or its own: one process per
   database works at a time, on SQLite and PostgreSQL alike; another takes over when a
   lease runs out (LEASE_S). Without any subscription it does nothing at all (one small
   read a pass); the first subscription starts it at the change log's present.
2. Enqueues: reads the change log (`records.version`) after its cursor, up to the
   counter read in the same snapshot, compares each record with what it last saw
   (`webhook_state`) to name the events, writes one delivery per matching subscription
   and moves its cursor, all in one transaction: every committed change is enqueued once,
   in commit order. Several changes of a record between two passes are one event at its
   newest state.
3. Delivers the due deliveries (a delivery waits while an older one of the same record
   and subscription is undelivered: in commit order per record), outside any database
   transaction, so a slow endpoint never holds a lock that sync needs. POST with
   `X-FieldCRM-Delivery` (its id, for de-duplication: delivery is at least once),
   `X-FieldCRM-Event`, `X-FieldCRM-Timestamp` and `X-FieldCRM-Signature: sha256=HEX`,
   HMAC-SHA256 of `TIMESTAMP.BODY` with the subscription's secret.
4. A failed attempt is retried with exponential backoff (RETRY_BASE_S doubling, at most
   RETRY_MAX_S apart) until GIVE_UP_S after its first attempt; then the delivery is
   `failed`, the subscription is paused and the audit log says so (`webhook_paused`).
   `replay` sets failed deliveries back to pending and resumes the subscription.

The subscription's secret is not stored: it is HMAC(server webhook key, subscription id),
the key being one random value in the database's settings (like the JWT key), so it can
be shown again only by whoever holds the database. The clock is injectable (`clock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import sqlalchemy as sa

from desktop.errors import FieldCRMError
from desktop.schema import DELETED, EXTERNAL_IDS, external_ids_of
from server import audit
from server import tables as t
from server.db import read_tx, write_tx
from server.errors import now_iso
from server.integrations import API_ENTITIES, NAME_RE, Scopes

log = logging.getLogger(__name__)

KEY_SETTING = "webhook_key"
LEASE_S = 15.0
RETRY_BASE_S = 30.0
RETRY_MAX_S = 3600.0
GIVE_UP_S = 24 * 3600.0
SEND_TIMEOUT_S = 5.0
ENQUEUE_BATCH = 2000
DELIVER_BATCH = 200
INTERVAL_S = 0.05
IDLE_S = 1.0  # between looks while no subscription exists (or another process works)
SPECIAL_EVENTS = ("deal.stage_changed", "deal.won", "lead.assigned", "lead.sla_breached",
                  "payment.received")
# Fields whose transitions are events of their own (besides `deleted` and a deal's stage),
# kept per record in `webhook_state.marks`.
MARKED = {"lead": ("owner", "escalation"), "payment": ("kind",)}
KINDS = ("created", "changed", "deleted", "stage_changed", "won", "assigned", "sla_breached",
         "received")


class WebhookError(FieldCRMError):
    """The webhook command could not be carried out."""


def event_names() -> list[str]:
    return [f"{e}.{kind}" for e in API_ENTITIES for kind in ("created", "changed", "deleted")
            ] + list(SPECIAL_EVENTS)


def _matches(patterns: list[str], event: str) -> bool:
    entity = event.split(".", 1)[0]
    return any(p in ("*", event, f"{entity}.*") for p in patterns)


def _server_key(engine: sa.Engine) -> bytes:
    with write_tx(engine) as conn:
        row = conn.execute(sa.select(t.settings.c.value).where(
            t.settings.c.key == KEY_SETTING)).first()
        if row:
            return bytes.fromhex(str(row[0]))
        key = secrets.token_hex(32)
        conn.execute(t.settings.insert().values(key=KEY_SETTING, value=key))
        return bytes.fromhex(key)


def secret_of(engine: sa.Engine, subscription_id: str) -> str:
    return hmac.new(_server_key(engine), subscription_id.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not host or parts.scheme not in ("https", "http") or (
            parts.scheme == "http" and not loopback):
        raise WebhookError("The address must be https:// (http:// only on this machine).")


# ---------------------------------------------------------------- administration
def add(engine: sa.Engine, system: str, url: str, events: list[str]) -> dict[str, Any]:
    """A subscription; its signing secret is in the answer. Raises WebhookError."""
    if not NAME_RE.match(system):
        raise WebhookError(f"'{system}' is not a system name.")
    with engine.connect() as conn:
        if conn.execute(sa.select(t.integrations.c.name).where(
                t.integrations.c.name == system, t.integrations.c.revoked_at.is_(None))
                ).first() is None:
            raise WebhookError(f"No active system named '{system}' "
                               "(fieldcrm-server integration add).")
    _check_url(url)
    known = set(event_names())
    for e in events or ["*"]:
        if e != "*" and e not in known and not (e.endswith(".*") and e[:-2] in API_ENTITIES):
            raise WebhookError(f"Unknown event '{e}': one of {', '.join(sorted(known))}, "
                               "ENTITY.* or *.")
    sub_id = str(uuid.uuid4())
    with write_tx(engine) as conn:
        w = t.webhook_worker
        if conn.execute(sa.select(t.webhook_subscriptions.c.id).limit(1)).first() is None:
            # The worker idles while there is no subscription: the first one starts it
            # at the change log's present.
            top = int(conn.execute(sa.select(t.counter.c.version).where(
                t.counter.c.id == 1)).scalar_one())
            if not conn.execute(w.update().where(w.c.id == 1).values(cursor=top)).rowcount:
                conn.execute(w.insert().values(id=1, holder=None, lease_until=0.0, cursor=top))
        conn.execute(t.webhook_subscriptions.insert().values(
            id=sub_id, system=system, url=url, events=json.dumps(events or ["*"]),
            status="active", created_at=now_iso()))
    return {"id": sub_id, "system": system, "url": url, "events": events or ["*"],
            "secret": secret_of(engine, sub_id)}


def list_all(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every subscription with its state, for the admin (`webhook list`, `GET
    /v1/admin/webhooks`): delivery counts by status, `retrying` (pending deliveries that
    failed at least once), and the newest delivery error with its time."""
    s, d = t.webhook_subscriptions, t.webhook_deliveries
    with engine.connect() as conn:
        subs = conn.execute(sa.select(s).order_by(s.c.created_at)).all()
        counts = {(sid, st): n for sid, st, n in conn.execute(
            sa.select(d.c.subscription_id, d.c.status, sa.func.count())
            .group_by(d.c.subscription_id, d.c.status))}
        retrying = {sid: int(n) for sid, n in conn.execute(
            sa.select(d.c.subscription_id, sa.func.count()).where(
                d.c.status == "pending", d.c.attempts > 0).group_by(d.c.subscription_id))}
        # The newest delivery (by id) with an error holds the last error (deliveries go
        # out oldest first; one delivered after retries keeps its last error).
        errors = {r.id: conn.execute(sa.select(d.c.last_error).where(
            d.c.subscription_id == r.id, d.c.last_error.is_not(None))
            .order_by(d.c.id.desc()).limit(1)).scalar_one_or_none() for r in subs}
    return [{"id": r.id, "system": r.system, "url": r.url, "events": json.loads(r.events),
             "status": r.status, "paused_at": r.paused_at,
             **{k: counts.get((r.id, k), 0) for k in ("pending", "delivered", "failed")},
             "retrying": retrying.get(r.id, 0), "last_error": errors.get(r.id)}
            for r in subs]


def gauges(engine: sa.Engine) -> dict[str, int]:
    """The metrics' view (server.metrics): paused subscriptions, pending deliveries."""
    s, d = t.webhook_subscriptions, t.webhook_deliveries
    with engine.connect() as conn:
        paused = conn.execute(sa.select(sa.func.count()).select_from(s).where(
            s.c.status == "paused")).scalar_one()
        pending = conn.execute(sa.select(sa.func.count()).select_from(d).where(
            d.c.status == "pending")).scalar_one()
    return {"fieldcrm_webhook_subscriptions_paused": int(paused),
            "fieldcrm_webhook_deliveries_pending": int(pending)}


def log_of(engine: sa.Engine, subscription_id: str, limit: int = 100) -> list[dict[str, Any]]:
    d = t.webhook_deliveries
    with engine.connect() as conn:
        rows = conn.execute(sa.select(d).where(d.c.subscription_id == subscription_id)
                            .order_by(d.c.id.desc()).limit(limit)).all()
    return [{"delivery_id": r.delivery_id, "event": r.event, "entity": r.entity,
             "record_id": r.record_id, "version": r.version, "status": r.status,
             "attempts": r.attempts, "last_error": r.last_error} for r in rows]


def replay(engine: sa.Engine, subscription_id: str, *, delivered_too: bool = False,
           clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Failed deliveries (and delivered ones with `delivered_too`) again, from now;
    resumes a paused subscription. Raises WebhookError for an unknown subscription."""
    d, s = t.webhook_deliveries, t.webhook_subscriptions
    states = ["failed", "delivered"] if delivered_too else ["failed"]
    with write_tx(engine) as conn:
        if not conn.execute(s.update().where(s.c.id == subscription_id).values(
                status="active", paused_at=None)).rowcount:
            raise WebhookError(f"No subscription '{subscription_id}'.")
        n = conn.execute(d.update().where(d.c.subscription_id == subscription_id,
                                          d.c.status.in_(states)).values(
            status="pending", attempts=0, first_at=None, next_at=clock(),
            last_error=None)).rowcount
    return {"id": subscription_id, "replayed": int(n), "status": "active"}


def test_send(engine: sa.Engine, subscription_id: str,
              client: httpx.Client | None = None) -> dict[str, Any]:
    """Post a `ping` event now (not stored); the endpoint's answer."""
    with engine.connect() as conn:
        sub = conn.execute(sa.select(t.webhook_subscriptions).where(
            t.webhook_subscriptions.c.id == subscription_id)).first()
    if sub is None:
        raise WebhookError(f"No subscription '{subscription_id}'.")
    delivery = str(uuid.uuid4())
    body = orjson.dumps({"delivery_id": delivery, "event": "ping", "subscription": sub.id})
    own = client is None
    client = client or httpx.Client(timeout=SEND_TIMEOUT_S)
    try:
        ok, error = _post(client, sub.url, secret_of(engine, sub.id), delivery, "ping", body)
    finally:
        if own:
            client.close()
    return {"id": subscription_id, "ok": ok, "error": error}


def _post(client: httpx.Client, url: str, secret: str, delivery: str, event: str,
          body: bytes) -> tuple[bool, str | None]:
    ts = str(int(time.time()))
    try:
        r = client.post(url, content=body, headers={
            "Content-Type": "application/json", "X-FieldCRM-Delivery": delivery,
            "X-FieldCRM-Event": event, "X-FieldCRM-Timestamp": ts,
            "X-FieldCRM-Signature": sign(secret, ts, body)})
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= r.status_code < 300:
        return True, None
    return False, f"HTTP {r.status_code}"


# ---------------------------------------------------------------- the worker
State = tuple[bool, str | None, dict[str, Any]]  # deleted, a deal's stage, marks


def _state(entity: str, fields: dict[str, Any]) -> State:
    marks = {k: v for k in MARKED.get(entity, ()) if (v := fields.get(k, {}).get("value"))}
    return (bool(fields.get(DELETED, {}).get("value")),
            fields.get("stage", {}).get("value") if entity == "deal" else None, marks)


def _events(entity: str, now: State, before: State | None) -> list[str]:
    """The events of a record's step from `before` (None: not seen yet) to `now`. The
    transition events fire once per transition: a lead whose owner changes (assigned,
    claimed, reassigned by the escalation pass; not when it goes back to the pool), a lead
    whose escalation takes a new non-empty value, a payment that becomes `received`."""
    deleted, stage, marks = now
    if deleted:
        return [] if before is not None and before[0] else [f"{entity}.deleted"]
    out = [f"{entity}.created" if before is None or before[0] else f"{entity}.changed"]
    if entity == "deal" and stage != (before[1] if before else None):
        if before is not None:
            out.append("deal.stage_changed")
        if stage == "won":
            out.append("deal.won")
    was = before[2] if before is not None else {}
    if entity == "lead":
        if marks.get("owner") and marks.get("owner") != was.get("owner"):
            out.append("lead.assigned")
        if marks.get("escalation") and marks.get("escalation") != was.get("escalation"):
            out.append("lead.sla_breached")
    if entity == "payment" and marks.get("kind") == "received" and was.get("kind") != "received":
        out.append("payment.received")
    return out


def _marks_json(marks: dict[str, Any]) -> str | None:
    return json.dumps(marks, sort_keys=True, ensure_ascii=False) if marks else None


class Worker:
    """Enqueues and delivers; `run_once` is one pass (tests call it with their clock)."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], float] = time.time,
                 client: httpx.Client | None = None, holder: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.client = client or httpx.Client(timeout=SEND_TIMEOUT_S)
        self.holder = holder or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._secrets: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lease
    def _lease(self) -> int | None:
        """Take or renew the lease; the cursor when held, None when another holds it."""
        w = t.webhook_worker
        now = self.clock()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(w.c.holder, w.c.lease_until, w.c.cursor)
                               .where(w.c.id == 1)).first()
        if row is not None and row.holder == self.holder and row.lease_until - now > LEASE_S / 2:
            return int(row.cursor)  # held, and for a while yet: no write
        with write_tx(self.engine) as conn:
            row = conn.execute(sa.select(w.c.holder, w.c.lease_until, w.c.cursor)
                               .where(w.c.id == 1)).first()
            if row is None:
                top = int(conn.execute(sa.select(t.counter.c.version).where(
                    t.counter.c.id == 1)).scalar_one())
                try:
                    with conn.begin_nested():
                        conn.execute(w.insert().values(id=1, holder=self.holder,
                                                       lease_until=now + LEASE_S, cursor=top))
                except sa.exc.IntegrityError:
                    return None
                return top
            done = conn.execute(w.update().where(
                w.c.id == 1, sa.or_(w.c.holder == self.holder, w.c.lease_until < now))
                .values(holder=self.holder, lease_until=now + LEASE_S)).rowcount
            return int(row.cursor) if done else None

    def release(self) -> None:
        w = t.webhook_worker
        with write_tx(self.engine) as conn:
            conn.execute(w.update().where(w.c.id == 1, w.c.holder == self.holder)
                         .values(lease_until=0.0))

    # -- one pass
    def run_once(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            idle = conn.execute(sa.select(t.webhook_subscriptions.c.id).limit(1)).first() is None
        cursor = None if idle else self._lease()
        if cursor is None:
            return {"leased": 0, "enqueued": 0, "delivered": 0, "failed": 0}
        enqueued = 0
        while True:
            n, more = self._enqueue()
            enqueued += n
            if not more:
                break
        delivered, failed = self._deliver()
        return {"leased": 1, "enqueued": enqueued, "delivered": delivered, "failed": failed}

    def _enqueue(self) -> tuple[int, bool]:
        w, st, s = t.webhook_worker, t.webhook_state, t.webhook_subscriptions
        now = self.clock()
        with read_tx(self.engine) as conn:
            cursor = int(conn.execute(sa.select(w.c.cursor).where(w.c.id == 1)).scalar_one())
            top = int(conn.execute(sa.select(t.counter.c.version).where(
                t.counter.c.id == 1)).scalar_one())
            rows = conn.execute(sa.text(
                "SELECT entity, record_id, fields, version FROM records WHERE version > :c "
                "AND version <= :top ORDER BY version LIMIT :lim"),
                {"c": cursor, "top": top, "lim": ENQUEUE_BATCH}).all()
        if not rows:
            if top != cursor:
                with write_tx(self.engine) as conn:
                    conn.execute(w.update().where(w.c.id == 1, w.c.holder == self.holder,
                                                  w.c.cursor == cursor).values(cursor=top))
            return 0, False
        more = len(rows) == ENQUEUE_BATCH
        new_cursor = int(rows[-1][3]) if more else top
        made = 0
        with write_tx(self.engine) as conn:
            # Only the lease holder, and only from where it read: a pass of another process
            # that took over meanwhile is not repeated.
            if not conn.execute(w.update().where(w.c.id == 1, w.c.holder == self.holder,
                                                 w.c.cursor == cursor)
                                .values(cursor=new_cursor)).rowcount:
                return 0, False
            subs = [(r.id, r.system, json.loads(r.events)) for r in conn.execute(sa.select(
                s.c.id, s.c.system, s.c.events))]
            scopes = {name: Scopes.from_json(json.loads(doc)) for name, doc in conn.execute(
                sa.select(t.integrations.c.name, t.integrations.c.scopes))}
            # Only entities some subscription asks for are followed (a subscription added
            # later sees a record it has no state of as created).
            wanted = {e for e in API_ENTITIES if any(
                _matches(p, f"{e}.{kind}") for _i, _s, p in subs for kind in KINDS)}
            keys = [(e, r) for e, r, _f, _v in rows if e in wanted]
            seen: dict[tuple[str, str], State] = {}
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                for e, r, deleted, stage, marks in conn.execute(sa.select(
                        st.c.entity, st.c.record_id, st.c.deleted, st.c.stage, st.c.marks).where(
                        sa.tuple_(st.c.entity, st.c.record_id).in_(part))):
                    seen[(e, r)] = (bool(deleted), stage, json.loads(marks) if marks else {})
            outbox: list[dict[str, Any]] = []
            for entity, rid, fields_json, version in rows:
                if entity not in wanted:
                    continue
                fields = orjson.loads(fields_json)
                before = seen.get((entity, rid))
                state = _state(entity, fields)
                events = _events(entity, state, before)
                if before is None:
                    conn.execute(st.insert().values(entity=entity, record_id=rid,
                                                    deleted=state[0], stage=state[1],
                                                    marks=_marks_json(state[2])))
                elif before != state:
                    conn.execute(st.update().where(st.c.entity == entity,
                                                   st.c.record_id == rid)
                                 .values(deleted=state[0], stage=state[1],
                                         marks=_marks_json(state[2])))
                seen[(entity, rid)] = state
                for sub_id, system, patterns in subs:
                    scope = scopes.get(system)
                    if scope is None or entity not in scope.read:
                        continue
                    values = {k: w_.get("value") for k, w_ in fields.items()
                              if k not in (DELETED, EXTERNAL_IDS) and scope.may_read(entity, k)}
                    for event in events:
                        if not _matches(patterns, event):
                            continue
                        delivery = str(uuid.uuid4())
                        outbox.append({
                            "delivery_id": delivery, "subscription_id": sub_id, "event": event,
                            "entity": entity, "record_id": rid, "version": int(version),
                            "payload": orjson.dumps({
                                "delivery_id": delivery, "event": event, "entity": entity,
                                "record_id": rid, "version": int(version),
                                "fields": values,  # ids as the API gives them (_shape)
                                "external_ids": external_ids_of(
                                    fields.get(EXTERNAL_IDS, {}).get("value"))}).decode(),
                            "status": "pending", "attempts": 0, "next_at": now,
                            "created_at": now})
            if outbox:
                conn.execute(t.webhook_deliveries.insert(), outbox)
                made = len(outbox)
        return made, more

    def _due(self) -> list[Any]:
        d, s = t.webhook_deliveries, t.webhook_subscriptions
        older = d.alias("older")
        now = self.clock()
        with self.engine.connect() as conn:
            return list(conn.execute(
                sa.select(d.c.id, d.c.delivery_id, d.c.subscription_id, d.c.event, d.c.payload,
                          d.c.attempts, d.c.first_at, s.c.url)
                .join(s, s.c.id == d.c.subscription_id)
                .where(d.c.status == "pending", d.c.next_at <= now, s.c.status == "active",
                       ~sa.exists().where(older.c.subscription_id == d.c.subscription_id,
                                          older.c.entity == d.c.entity,
                                          older.c.record_id == d.c.record_id,
                                          older.c.id < d.c.id,
                                          older.c.status != "delivered"))
                .order_by(d.c.id).limit(DELIVER_BATCH)).all())

    def _deliver(self) -> tuple[int, int]:
        failed = 0
        done: list[int] = []
        down: set[str] = set()  # a subscription that failed in this pass waits for the next
        for row in self._due():
            if row.subscription_id in down:
                continue
            secret = self._secrets.get(row.subscription_id)
            if secret is None:
                secret = self._secrets[row.subscription_id] = secret_of(
                    self.engine, row.subscription_id)
            ok, error = _post(self.client, row.url, secret, row.delivery_id, row.event,
                              row.payload.encode())
            if ok:
                done.append(row.id)
            else:
                down.add(row.subscription_id)
                failed += 1
                self._failed(row, error or "failed")
        self._done(done)  # one transaction for the pass (a crash before it: sent again)
        return len(done), failed

    def _done(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        d = t.webhook_deliveries
        with write_tx(self.engine) as conn:
            conn.execute(d.update().where(d.c.id.in_(row_ids)).values(
                status="delivered", delivered_at=self.clock(), attempts=d.c.attempts + 1))

    def _failed(self, row: Any, error: str) -> None:
        d, s = t.webhook_deliveries, t.webhook_subscriptions
        now = self.clock()
        first = row.first_at if row.first_at is not None else now
        attempts = int(row.attempts) + 1
        with write_tx(self.engine) as conn:
            if now - first >= GIVE_UP_S:
                conn.execute(d.update().where(d.c.id == row.id).values(
                    status="failed", attempts=attempts, first_at=first, last_error=error))
                paused = conn.execute(s.update().where(s.c.id == row.subscription_id,
                                                       s.c.status == "active")
                                      .values(status="paused", paused_at=now_iso())).rowcount
                if paused:
                    audit.record(conn, "webhook_paused", actor="(webhook worker)",
                                 target=f"webhook:{row.subscription_id}",
                                 detail={"delivery": row.delivery_id, "attempts": attempts,
                                         "error": error[:200]})
                return
            delay = min(RETRY_BASE_S * 2 ** (attempts - 1), RETRY_MAX_S)
            conn.execute(d.update().where(d.c.id == row.id).values(
                attempts=attempts, first_at=first, last_error=error,
                next_at=min(now + delay, first + GIVE_UP_S)))

    # -- background
    def start(self, interval_s: float = INTERVAL_S) -> None:
        if interval_s <= 0:
            return

        def run() -> None:
            wait = interval_s
            while not self._stop.wait(wait):
                try:
                    # Without a subscription, look again only every IDLE_S.
                    wait = interval_s if self.run_once()["leased"] else max(interval_s, IDLE_S)
                except sa.exc.SQLAlchemyError as exc:  # database down: try again later
                    log.warning("webhook worker paused: %s", exc)
                    self._stop.wait(1.0)

        self._thread = threading.Thread(target=run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            self.release()
        self.client.close()
