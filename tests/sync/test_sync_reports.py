"""A manager's report on the server (issue 18) is the same definition as the laptop's:
over a real server on SQLite and PostgreSQL it equals the sum of the team members' own
reports, and leaves out what the manager may not see."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.reports import ReportFilter, run
from desktop.sync.errors import SyncError
from tests.sync.conftest import PASSWORD, Server

TODAY = dt.date.today()
PERIOD = {"from": (TODAY - dt.timedelta(days=30)).isoformat(), "to": TODAY.isoformat()}


def _token(server: Server, user: str) -> str:
    r = httpx.post(f"{server.url}/v1/auth/login", json={
        "username": user, "password": PASSWORD, "device_id": f"web-{user}"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _get(server: Server, token: str, name: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{server.url}/v1/reports/{name}", params={**PERIOD, **params},
                     headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_the_managers_report_is_the_sum_of_the_reps_own(
        server: Server, devices: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server.user("mgr", "manager", teams=("north",))
    server.user("alice", teams=("north",))
    server.user("ann", teams=("north",))
    server.user("bob", teams=("south",))
    reps = {}
    for i, name in enumerate(("alice", "ann", "bob")):
        d = devices(name)
        d.login(name)
        for j in range(3):
            acc = d.repo("account").create({"name": f"{name}客户{j}"})
            d.repo("deal").create({"title": f"{name}商机{j}", "amount": 1000.10 * (i + j + 1),
                                   "currency": "USD" if j == 2 else "CNY",
                                   "stage": ("proposal", "negotiation", "lead")[j]})
            if j == 0:
                now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                d.repo("activity").create({"kind": "call", "subject": "电话", "duration_s": 100,
                                           "done_at": now, "account_id": acc["id"]})
                d.repo("activity").create({"kind": "note", "subject": "回复", "done_at": now,
                                           "outcome": "customer_reply",
                                           "account_id": acc["id"]})
        d.sync()
        reps[name] = d
    token = _token(server, "mgr")
    f = ReportFilter(TODAY - dt.timedelta(days=30), TODAY)
    for name, values in (("pipeline", ("deals", "amount", "weighted")),
                         ("golden-72", ("records", "met", "missed")),
                         ("activities", ("activities", "calls", "follow_ups"))):
        r = _get(server, token, name)
        assert r.status_code == 200, r.text
        team = r.json()
        own = [run(reps[u].store, name, ReportFilter(f.date_from, f.date_to, owners=(u,)))
               for u in ("alice", "ann")]
        for v in values:
            expect = sum(Decimal(str(o.totals[v])) for o in own)
            assert Decimal(str(team["totals"][v])) == expect, (name, v)
        ids = {i for row in team["rows"] for i in row["ids"]}
        assert ids == {i for o in own for c in o.cells for i in c.ids}
        assert not any("bob" in str(row["key"]) for row in team["rows"])
    # one deal each is in dollars, and no rate exists: listed, never added
    pipe = _get(server, token, "pipeline").json()
    assert len(pipe["unconverted"]) == 2
    # narrowing to a member; a team that does not exist; a period backwards
    only_ann = _get(server, token, "pipeline", owner="ann").json()
    assert only_ann["totals"]["deals"] == 3
    assert _get(server, token, "pipeline", team="nowhere").status_code == 404
    bad = _get(server, token, "pipeline", **{"from": "2026-12-31", "to": "2026-01-01"})
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "invalid_period"
    # a rep sees only the team's book: bob's report holds nothing of the north team
    bob = _get(server, _token(server, "bob"), "pipeline").json()
    assert bob["totals"]["deals"] == 3
    # the manager's laptop asks for the team's report (`fieldcrm report --team`): the
    # server's figures, though the laptop holds none of the team's records
    mgr = devices("mgr")
    mgr.login("mgr")
    code, data = _cli(mgr.profile, ["report", "pipeline", "--team", "north", "--json",
                                    "--from", PERIOD["from"], "--to", PERIOD["to"]],
                      capsys)
    assert code == 0 and data["totals"] == _get(server, token, "pipeline",
                                                 team="north").json()["totals"]
    assert data["totals"]["deals"] == 6
    with pytest.raises(SyncError, match="unknown_team"):
        _cli(mgr.profile, ["report", "pipeline", "--team", "nowhere", "--json"], capsys)


def _cli(profile: Path, argv: list[str], capsys: pytest.CaptureFixture[str],
         ) -> tuple[int, dict[str, Any]]:
    import argparse

    from desktop.reports.cli import add_subcommands

    parser = argparse.ArgumentParser(prog="fieldcrm")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.profile = profile
    code = args.func(args)
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


# The admin's follow-up rule: a 30-second call, a visit (no photo needed) or a demo
# counts, one of them is enough, within 24 hours. The built-in rule counts none of what
# the reps log below (a 40-second call, a visit without a photo).
RULE = [{"name": "call_30s", "kind": "call", "min_duration_s": 30},
        {"name": "visit", "kind": "visit"},
        {"name": "demo", "outcomes": ["demo", "演示"]}]


def test_the_admins_follow_up_rule_counts_alike_on_the_server_and_the_laptops(
        server: Server, devices: Any) -> None:
    from desktop.followup import rule as rules

    server.user("boss", "admin")
    server.user("mgr", "manager", teams=("north",))
    server.user("alice", teams=("north",))
    server.user("ann", teams=("north",))
    server.user("bob", teams=("south",))
    boss = devices("boss")
    boss.login("boss")
    rules.set_rule(boss.store, criteria=RULE, required_criteria=1, golden_overdue_hours=24,
                   name="华北")
    assert boss.sync().parked == 0
    reps = {}
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name in ("alice", "ann", "bob"):
        d = devices(name)
        d.login(name)
        d.sync()  # the rule arrives
        assert rules.current_rule(d.store).golden_overdue_hours == 24
        for j in range(2):
            acc = d.repo("account").create({"name": f"{name}客户{j}"})
            deal = d.repo("deal").create({"title": f"{name}商机{j}", "amount": 1000,
                                          "account_id": acc["id"]})
            if j == 0:
                d.repo("activity").create({"kind": "call", "subject": "电话", "duration_s": 40,
                                           "done_at": now, "account_id": acc["id"]})
                d.repo("activity").create({"kind": "visit", "subject": "拜访", "done_at": now,
                                           "deal_id": deal["id"]})
        d.sync()
        reps[name] = d
    token = _token(server, "mgr")
    f = ReportFilter(TODAY - dt.timedelta(days=30), TODAY)
    for name, values, expect in (
            ("golden-72", ("records", "met", "missed"), (8, 4, 4)),
            ("activities", ("activities", "calls", "visits", "follow_ups"), (4, 2, 2, 4))):
        r = _get(server, token, name)
        assert r.status_code == 200, r.text
        team = r.json()
        own = [run(reps[u].store, name, ReportFilter(f.date_from, f.date_to, owners=(u,)))
               for u in ("alice", "ann")]
        for v, want in zip(values, expect, strict=True):
            assert sum(int(o.totals[v] or 0) for o in own) == team["totals"][v] == want, (name, v)
        for key in ("ids", "missed_ids", "follow_up_ids"):
            got = {i for row in team["rows"] for i in row.get(key, [])}
            detail = key.removesuffix("_ids")
            assert got == {i for o in own for c in o.cells
                           for i in (c.ids if key == "ids" else c.detail_ids.get(detail, []))}
    # a rep may not change what counts: the server refuses the write, the team's report
    # stays by the admin's rule
    alice = reps["alice"]
    rules.set_rule(alice.store, required_criteria=2)
    report = alice.sync()
    assert report.parked == 1
    [parked] = alice.store.journal.parked()
    assert parked.entity == "followup_rule"
    assert parked.reason == "Only an admin may change follow-up rules."
    assert _get(server, token, "golden-72").json()["totals"]["met"] == 4
    assert rules.current_rule(reps["ann"].store).required_criteria == 1
    # the admin turns the rule off: the built-in rule counts on the server and laptops
    rules.set_rule(boss.store, active=False)
    boss.sync()
    reps["ann"].sync()
    assert _get(server, token, "golden-72").json()["totals"]["met"] == 0
    assert run(reps["ann"].store, "golden-72", f).totals["met"] == 0
    # the refusal is in the OpenAPI document
    doc = httpx.get(f"{server.url}/openapi.json").json()
    assert "`followup_rule`" in doc["paths"]["/v1/push"]["post"]["description"]
