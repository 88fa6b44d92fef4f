"""Webhooks and a real loopback "ERP" (issue 25, server.webhooks): the ERP follows the
change feed, writes 1,000 payments twice with the same idempotency keys, receives signed
webhooks; killed mid-delivery and started again it still gets every event, in order per
record; an endpoint down for a day (injected clock) is retried, then paused; replay
delivers. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Api, hlc, rid
from erp import Erp, free_port
from prometheus_client.parser import text_string_to_metric_families

from server import audit, leads
from server import integrations as ig
from server import tables as t
from server import webhooks as wh
from server.cli import main as cli_main

PAYMENTS = 1000


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _system(api: Api) -> str:
    every = ["deal:*", "account:*", "payment:*"]
    return str(ig.add(api.engine, "erp", ig.Scopes.parse(every, every), 10**6)["key"])


def _drain(worker: wh.Worker, rounds: int = 200) -> None:
    for _ in range(rounds):
        out = worker.run_once()
        if not out["enqueued"] and not out["delivered"] and not out["failed"]:
            return
    raise AssertionError("the worker did not settle")


def _pending(api: Api) -> int:
    d = t.webhook_deliveries
    with api.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(d).where(
            d.c.status == "pending")).scalar_one())


def test_erp_follows_writes_twice_and_receives_signed_webhooks(api: Api) -> None:
    api.user("li", "rep")
    key = _system(api)
    sub = wh.add(api.engine, "erp", "http://127.0.0.1:1/unused", ["payment.created"])
    erp = Erp(sub["secret"])
    erp.start()
    with api.engine.begin() as conn:
        conn.execute(t.webhook_subscriptions.update().values(url=erp.url))
    worker = wh.Worker(api.engine)
    try:
        worker.run_once()  # its place in the change log: from here on
        headers = {"X-Integration-Key": key}
        deal = api.client.post("/api/v1/deal", json={"fields": {"title": "Pumps", "owner": "li"}},
                               headers=headers).json()["id"]
        first: dict[int, str] = {}
        for rnd in range(2):
            for i in range(PAYMENTS):
                r = api.client.post("/api/v1/payment", json={
                    "fields": {"kind": "received", "amount": 100 + i, "date": "2026-12-01",
                               "deal_id": deal, "invoice_no": f"INV-{i}"},
                    "external_ids": {"erp": f"P-{i}"}},
                    headers={**headers, "Idempotency-Key": f"payment-{i}"})
                assert r.status_code == 201, r.text
                if rnd == 0:
                    first[i] = r.json()["id"]
                    assert r.json()["fields"]["owner"] == "li"  # the deal's rep
                else:
                    assert r.json()["id"] == first[i]
        # the ERP follows the feed from the start to the end: every payment once
        seen: list[str] = []
        cursor = 0
        while True:
            page = api.client.get("/api/v1/payment/changes", params={"since": cursor,
                                                                     "limit": 300},
                                  headers=headers).json()
            seen += [c["id"] for c in page["changes"]]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        assert len(seen) == len(set(seen)) == PAYMENTS
        assert set(seen) == set(first.values())
        _drain(worker)
        got = erp.unique()
        assert erp.bad_signatures == 0
        assert sorted(d["record_id"] for d in got) == sorted(first.values())
        assert all(d["event"] == "payment.created" and d["_delivery_header"] == d["delivery_id"]
                   for d in got)
        assert {d["fields"]["amount"] for d in got} == {100 + i for i in range(PAYMENTS)}
        # the ids as the API gives them, not the devices' field (issue 25)
        assert {d["external_ids"]["erp"] for d in got} == {f"P-{i}" for i in range(PAYMENTS)}
        assert not any("external_ids" in d["fields"] for d in got)
    finally:
        worker.stop()
        erp.stop()


def test_killed_mid_delivery_every_event_arrives_in_order(api: Api) -> None:
    api.user("li", "rep")
    key = _system(api)
    port = free_port()
    sub = wh.add(api.engine, "erp", f"http://127.0.0.1:{port}/hooks", ["deal.*"])
    erp = Erp(sub["secret"], port)
    erp.start()
    erp.die_after = 25
    clock = Clock()
    worker = wh.Worker(api.engine, clock=clock)
    headers = {"X-Integration-Key": key}
    try:
        worker.run_once()
        ids = [api.client.post("/api/v1/deal", json={"fields": {
            "title": f"D{i}", "owner": "li", "stage": "lead"}}, headers=headers).json()["id"]
            for i in range(10)]
        for stage in ("qualified", "proposal", "won"):
            worker.run_once()  # each round of changes its own events
            for rid in ids:
                assert api.client.patch(f"/api/v1/deal/{rid}", json={
                    "fields": {"stage": stage}}, headers=headers).status_code == 200
        for _ in range(50):
            worker.run_once()
            if not erp.running:
                break
        assert not erp.running  # killed mid-delivery
        for _ in range(3):
            clock.now += 10
            worker.run_once()  # refused: retried later
        erp.start()
        for _ in range(100):
            clock.now += 3600
            worker.run_once()
            if not _pending(api):
                break
        assert _pending(api) == 0
        got = erp.unique()
        with api.engine.connect() as conn:
            made = conn.execute(sa.select(t.webhook_deliveries.c.delivery_id)).scalars().all()
        assert {d["delivery_id"] for d in got} == set(made)  # none lost
        assert len(erp.received) > len(got)  # the one dropped came again
        for rid in ids:
            versions = [d["version"] for d in got if d["record_id"] == rid]
            assert versions == sorted(versions)  # in commit order per record
            events = [d["event"] for d in got if d["record_id"] == rid]
            assert events[0] == "deal.created" and events[-1] == "deal.won"
            assert events.count("deal.stage_changed") == 3
        assert erp.bad_signatures == 0
    finally:
        worker.stop()
        erp.stop()


def _gauges(api: Api) -> tuple[float, float]:
    """(paused subscriptions, pending deliveries) as Prometheus scrapes them."""
    text = api.client.get("/metrics").text
    values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    return (values["fieldcrm_webhook_subscriptions_paused"],
            values["fieldcrm_webhook_deliveries_pending"])


def test_down_for_a_day_retries_then_pauses_and_replay_delivers(api: Api) -> None:
    api.user("li", "rep")
    api.user("root", "admin")
    key = _system(api)
    port = free_port()
    sub = wh.add(api.engine, "erp", f"http://127.0.0.1:{port}/hooks", ["account.created"])
    clock = Clock()
    worker = wh.Worker(api.engine, clock=clock)
    erp = Erp(sub["secret"], port)
    try:
        worker.run_once()
        assert api.client.post("/api/v1/account", json={"fields": {"name": "A", "owner": "li"}},
                               headers={"X-Integration-Key": key}).status_code == 201
        start = clock.now
        while clock.now - start < 25 * 3600:
            worker.run_once()
            clock.now += 600
        row = wh.log_of(api.engine, sub["id"])[0]
        assert row["status"] == "failed" and row["attempts"] >= 10
        assert wh.list_all(api.engine)[0]["status"] == "paused"
        assert [e["target"] for e in audit.entries(api.engine, action="webhook_paused")] == [
            f"webhook:{sub['id']}"]
        # the admin is told: the admin view and the metrics
        admin = api.login("root").headers
        r = api.client.get("/v1/admin/webhooks", headers=admin)
        assert r.status_code == 200, r.text
        shown = r.json()
        assert shown["paused"] == 1
        one = shown["subscriptions"][0]
        assert (one["id"], one["status"], one["failed"], one["pending"]) == (
            sub["id"], "paused", 1, 0)
        assert one["paused_at"] and one["last_error"].startswith("ConnectError")
        assert api.client.get("/v1/admin/webhooks",
                              headers=api.login("li").headers).status_code == 403
        assert api.client.get("/v1/admin/webhooks").status_code == 401
        assert _gauges(api) == (1.0, 0.0)
        erp.start()
        worker.run_once()
        assert erp.received == []  # paused: nothing sent
        assert wh.replay(api.engine, sub["id"], clock=clock)["replayed"] == 1
        assert _gauges(api) == (0.0, 1.0)
        worker.run_once()
        assert [d["event"] for d in erp.unique()] == ["account.created"]
        assert erp.bad_signatures == 0
        assert _gauges(api) == (0.0, 0.0)
    finally:
        worker.stop()
        erp.stop()


def test_one_worker_per_database(api: Api) -> None:
    _system(api)
    a0 = wh.Worker(api.engine)
    assert a0.run_once()["leased"] == 0  # no subscription: idle, no lease taken
    a0.stop()
    wh.add(api.engine, "erp", "https://erp.example.com/hooks", ["*"])
    clock = Clock()
    a, b = wh.Worker(api.engine, clock=clock), wh.Worker(api.engine, clock=clock)
    try:
        assert a.run_once()["leased"] == 1
        assert b.run_once()["leased"] == 0
        clock.now += wh.LEASE_S + 1  # a died: its lease runs out and b takes over
        assert b.run_once()["leased"] == 1
        assert a.run_once()["leased"] == 0
    finally:
        a.stop()
        b.stop()


def test_webhook_cli(api: Api, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _system(api)
    erp = Erp("")
    base = ["--database-url", db_url, "--json"]

    def run(*args: str) -> Any:
        assert cli_main([*args, *base]) == 0
        return json.loads(capsys.readouterr().out)

    added = run("webhook", "add", "erp", erp.url, "--event", "deal.won")
    erp.secret = added["secret"]
    erp.start()
    try:
        assert run("webhook", "list")[0]["events"] == ["deal.won"]
        assert run("webhook", "test", added["id"])["ok"] is True
        assert erp.received[0]["event"] == "ping" and erp.bad_signatures == 0
        assert run("webhook", "log", added["id"]) == []
        assert run("webhook", "replay", added["id"])["replayed"] == 0
        more = run("webhook", "add", "erp", erp.url, "--events",
                   "lead.assigned,lead.sla_breached", "--event", "payment.received")
        assert more["events"] == ["lead.assigned", "lead.sla_breached", "payment.received"]
        assert cli_main(["webhook", "add", "erp", erp.url, "--events", "lead.nope", *base]) == 1
        assert cli_main(["webhook", "add", "erp", "http://example.com/x", *base]) == 1
        assert cli_main(["webhook", "add", "nobody", erp.url, *base]) == 1
    finally:
        erp.stop()


T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
LEAD_RULES: dict[str, Any] = {
    "rules": [{"name": "north web", "regions": ["north"], "team": "north"}],
    "reps": [{"username": "ann", "weight": 1}, {"username": "bo", "weight": 1}],
    "policy": {"first_contact_min": 15, "reassign_min": 60, "max_reassign": 1,
               "retry_min": [30], "reclaim_days": 7, "daily_claim_limit": 5},
}


def test_lead_and_payment_transitions_are_sent_once_each(api: Api) -> None:
    """lead.assigned (assignment, reassignment by the escalation pass, a claim from the
    pool), lead.sla_breached (escalation set) and payment.received (created received, or
    changed to received): one event per transition, none for other changes."""
    for name in ("ann", "bo"):
        api.user(name, "rep", ("north",))
    api.user("max", "manager", ("north",))
    leads.load_rules(api.engine, LEAD_RULES)
    every = ["lead:*", "payment:*", "deal:*"]
    key = str(ig.add(api.engine, "erp", ig.Scopes.parse(every, every), 10**6)["key"])
    sub = wh.add(api.engine, "erp", "http://127.0.0.1:1/unused",
                 ["lead.assigned", "lead.sla_breached", "payment.received"])
    erp = Erp(sub["secret"])
    erp.start()
    with api.engine.begin() as conn:
        conn.execute(t.webhook_subscriptions.update().values(url=erp.url))
    worker = wh.Worker(api.engine)
    headers = {"X-Integration-Key": key}

    def events() -> list[tuple[str, str]]:
        _drain(worker)
        out = [(d["event"], d["record_id"]) for d in erp.unique()]
        erp.received.clear()
        return out

    try:
        worker.run_once()
        one = leads.add_lead(api.engine, {"name": "赵六", "phone": "13700001111",
                                          "region": "north"}, now=T0)
        pooled = leads.add_lead(api.engine, {"name": "公海", "email": "p@x.cn",
                                             "region": "west"}, now=T0)
        assert pooled["status"] == "pool"
        assert events() == [("lead.assigned", one["id"])]
        leads.tick(api.engine, T0 + dt.timedelta(minutes=15))  # reminder: escalated
        leads.tick(api.engine, T0 + dt.timedelta(minutes=16))  # nothing new
        assert events() == [("lead.sla_breached", one["id"])]
        leads.tick(api.engine, T0 + dt.timedelta(minutes=60))  # reassigned to the other rep
        assert events() == [("lead.assigned", one["id"])]
        assert erp_owner(api, one["id"]) != one["owner"]
        # a claim from the pool; then a change that is no transition
        ann = api.login("ann")
        ann.push(ann.entry("lead_claim", rid(), {"lead_id": pooled["id"], "action": "claim"}))
        ann.push(ann.entry("lead", pooled["id"], {"note": "called"},
                           stamp=hlc(int(time.time() * 1000) + 1000, 0, ann.device_id)))
        assert events() == [("lead.assigned", pooled["id"])]
        # payments: planned (nothing), then received; a note (nothing); created received
        deal = api.client.post("/api/v1/deal", json={"fields": {"title": "D", "owner": "ann"}},
                               headers=headers).json()["id"]
        pay = {"kind": "planned", "amount": 10, "date": "2026-12-20", "deal_id": deal}
        planned = api.client.post("/api/v1/payment", json={"fields": pay},
                                  headers=headers).json()["id"]
        assert events() == []
        for change in ({"kind": "received"}, {"note": "bank ref 17"}):
            assert api.client.patch(f"/api/v1/payment/{planned}", json={"fields": change},
                                    headers=headers).status_code == 200
        got = api.client.post("/api/v1/payment", json={"fields": {**pay, "kind": "received"}},
                              headers=headers).json()["id"]
        assert events() == [("payment.received", planned), ("payment.received", got)]
        assert erp.bad_signatures == 0
    finally:
        worker.stop()
        erp.stop()


def erp_owner(api: Api, lead_id: str) -> str | None:
    return next(r["owner"] for r in leads.list_leads(api.engine, limit=100) if r["id"] == lead_id)


def test_event_patterns_and_the_cli_take_the_transition_events() -> None:
    for pattern, event in (("lead.*", "lead.assigned"), ("payment.*", "payment.received"),
                           ("*", "lead.sla_breached")):
        assert wh._matches([pattern], event)
    assert not wh._matches(["deal.*"], "payment.received")
    assert {"lead.assigned", "lead.sla_breached", "payment.received"} <= set(wh.event_names())
