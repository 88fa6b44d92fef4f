"""Leads end to end (issue 17): devices with their own stores against the real server,
on SQLite and PostgreSQL. A lead added offline is assigned by the server and reaches
the assigned rep's store; two reps claiming one pool lead offline get one owner and the
other is told why; a conversion links the existing account instead of copying it."""

from __future__ import annotations

from typing import Any

from desktop.leads import service
from server import leads
from tests.sync.conftest import Server

RULES = {"rules": [{"name": "north", "regions": ["north"], "team": "north"}],
         "reps": [{"username": "bo", "weight": 1}]}


def _team(server: Server, devices: Any) -> tuple[Any, Any, Any]:
    for name in ("ann", "bo"):
        server.user(name, "rep", ("north",))
    server.user("cy", "rep", ("south",))
    leads.load_rules(server.engine, {**RULES, "rules": [
        {"name": "north", "regions": ["north"], "reps": ["bo"]}]})
    made = []
    for name in ("ann", "bo", "cy"):
        d = devices(name)
        d.login(name)
        made.append(d)
    return made[0], made[1], made[2]


def test_a_lead_added_offline_reaches_the_rep_the_server_picks(server: Server,
                                                               devices: Any) -> None:
    ann, bo, cy = _team(server, devices)
    lead = service.add(cy.store, {"name": "展会名片", "phone": "13912345678",
                                  "region": "north", "source": "fair"})
    assert lead.get("owner") is None and lead["status"] == "new"
    cy.sync()
    bo.sync()
    got = bo.repo("lead").get(lead["id"])
    assert (got["owner"], got["status"], got["assigned_rule"]) == ("bo", "assigned", "north")
    assert [r["id"] for r in service.list_leads(bo.store, view="mine")] == [lead["id"]]
    assert [r["name"] for r in cy.repo("lead_rule").iter_all()] == ["north"]  # rules travel
    # bo logs a first call; the SLA clock on the server sees it
    service.contact(bo.store, lead["id"], "reached")
    bo.sync()
    on_server = next(r for r in leads.list_leads(server.engine) if r["id"] == lead["id"])
    assert on_server["status"] == "contacted" and on_server["attempts"] == 1


def test_two_reps_claim_one_pool_lead_offline_one_owner(server: Server, devices: Any) -> None:
    ann, bo, cy = _team(server, devices)
    pooled = leads.add_lead(server.engine, {"name": "公海客户", "email": "p@x.cn",
                                            "region": "west"})
    assert pooled["status"] == "pool"
    ann.sync()
    bo.sync()
    assert [r["id"] for r in service.list_leads(ann.store, view="pool")] == [pooled["id"]]
    mine = service.claim(ann.store, pooled["id"])  # both offline
    theirs = service.claim(bo.store, pooled["id"])
    bo.sync()  # bo reaches the server first
    ann.sync()
    assert ann.repo("lead").get(pooled["id"])["owner"] == "bo"
    shown = service.show(ann.store, pooled["id"])
    ann_claim = next(c for c in shown["claims"] if c["id"] == mine["id"])
    assert ann_claim["result"] == "lost" and "bo has this lead" in ann_claim["reason"]
    bo.sync()
    assert bo.repo("lead_claim").get(theirs["id"])["result"] == "won"
    assert ann.engine is not None
    assert ann.store.journal.counts()["parked"] == 0  # nothing stuck on either device


def test_convert_links_the_existing_account_in_one_step(server: Server, devices: Any) -> None:
    ann, bo, cy = _team(server, devices)
    acc = bo.repo("account").create({"name": "深圳市腾讯计算机系统有限公司"})
    lead = leads.add_lead(server.engine, {"name": "李雷", "phone": "13700001234",
                                          "company": "腾讯计算机系统（深圳）有限公司",
                                          "region": "north", "budget": 300000})
    bo.sync()
    out = service.convert(bo.store, lead["id"])
    assert out["account_id"] == acc["id"] and out["account_linked"] is True
    assert out["contact_linked"] is False
    deal = bo.repo("deal").get(out["deal_id"])
    assert (deal["account_id"], deal["amount"]) == (acc["id"], 300000)
    assert bo.repo("contact").get(out["contact_id"])["account_id"] == acc["id"]
    assert bo.repo("account").count() == 1
    report = bo.sync()
    assert report.parked == 0
    on_server = next(r for r in leads.list_leads(server.engine) if r["id"] == lead["id"])
    assert (on_server["status"], on_server["deal_id"]) == ("converted", out["deal_id"])


def test_rules_an_admin_edits_in_the_app_decide_on_the_server(server: Server,
                                                              devices: Any) -> None:
    ann, bo, cy = _team(server, devices)
    server.user("root", "admin")
    admin = devices("root")
    admin.login("root")
    admin.sync()
    current = service.rules(admin.store)
    assert [r["name"] for r in current] == ["north"]
    service.save_rules(admin.store, [{"name": "south first", "regions": ["north"],
                                      "reps": ["cy"]}, *current])
    assert admin.sync().parked == 0
    got = leads.add_lead(server.engine, {"name": "北方客户", "email": "n@x.cn",
                                         "region": "north"})
    assert (got["owner"], got["assigned_rule"]) == ("cy", "south first")
    # a rep's device cannot change the rules: the server refuses and says why
    ann.sync()
    service.save_rules(ann.store, [])
    report = ann.sync()
    assert report.parked == 2
    assert "Only an admin" in str(ann.store.journal.parked()[0].reason)
