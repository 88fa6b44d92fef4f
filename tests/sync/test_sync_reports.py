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
