"""Leads on the server (issue 17), through the real loopback server on SQLite and
PostgreSQL: intake (bad key, bad fields, a replay, the rate limit), assignment by the
rules, duplicate flags, the escalation timeline with an injected clock, a rep disabled
mid-SLA, two devices claiming the same pool lead offline, and two server processes
running the escalation pass at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Api, Session, hlc, rid

from server import duplicates, leads
from server.admin import disable_user
from server.db import open_database

T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
RULES: dict[str, Any] = {
    "rules": [
        {"name": "big budgets", "min_budget": 1_000_000, "reps": ["cy"]},
        {"name": "north web", "regions": ["north"], "team": "north"},
    ],
    "reps": [{"username": "ann", "weight": 1}, {"username": "bo", "weight": 3}],
    "policy": {"first_contact_min": 15, "reassign_min": 60, "max_reassign": 1,
               "retry_min": [30], "reclaim_days": 7, "daily_claim_limit": 1},
}


def fresh(s: Session) -> str:
    """A device stamp later than the server's writes it has pulled (a device's clock
    observes every stamp it receives)."""
    return hlc(int(time.time() * 1000) + 1000, 0, s.device_id)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _setup(api: Api) -> dict[str, Session]:
    api.user("ann", "rep", ("north",))
    api.user("bo", "rep", ("north",))
    api.user("cy", "rep", ("key",))
    api.user("max", "manager", ("north",))
    api.user("root", "admin")
    leads.load_rules(api.engine, RULES)
    return {n: api.login(n) for n in ("ann", "bo", "cy", "max")}


def _post(api: Api, key: str | None, body: dict[str, Any]) -> Any:
    headers = {"X-Api-Key": key} if key else {}
    return api.client.post("/api/leads", json=body, headers=headers)


def _lead(api: Api, lead_id: str) -> dict[str, Any]:
    rows = [r for r in leads.list_leads(api.engine, limit=10_000) if r["id"] == lead_id]
    assert rows, lead_id
    return rows[0]


BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@BOTH
def test_intake_validates_assigns_and_answers_a_replay_with_the_first_answer(api: Api) -> None:
    s = _setup(api)
    key = leads.add_api_key(api.engine, "web")
    body = {"external_id": "form-1", "name": "王芳", "phone": "13812345678",
            "region": "north", "company": "北京星河科技有限公司"}
    assert _post(api, None, body).json()["detail"]["code"] == "api_key_missing"
    bad = _post(api, "fcl_wrong", body)
    assert (bad.status_code, bad.json()["detail"]["code"]) == (401, "api_key_invalid")
    wrong = _post(api, key, {**body, "phone": "12"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"]["field"] == "phone"
    unreachable = _post(api, key, {"external_id": "x", "name": "无联系方式"})
    assert unreachable.status_code == 422
    first = _post(api, key, body)
    assert first.status_code == 201, first.text
    got = first.json()
    assert got["owner"] in ("ann", "bo") and got["status"] == "assigned"
    assert got["assigned_rule"] == "north web" and got["replay"] is False
    again = _post(api, key, {**body, "name": "另一个名字"})
    assert again.status_code == 200
    assert again.json() == {**got, "replay": True}
    assert len(leads.list_leads(api.engine)) == 1
    # the owner's device receives it through sync; the other rep's team-mate sees it too
    pulled = s[got["owner"]].pull_all()
    lead = pulled[("lead", got["id"])]
    assert lead["owner"]["value"] == got["owner"]
    assert lead["phone"]["value"] == "+8613812345678"
    assert ("lead", got["id"]) not in s["cy"].pull_all()  # another team's rep does not


@BOTH
def test_round_robin_by_weight_and_rules_by_budget(api: Api) -> None:
    _setup(api)
    key = leads.add_api_key(api.engine, "ads", per_minute=1000)
    owners = [_post(api, key, {"external_id": f"ad-{i}", "name": f"客户{i}",
                               "phone": f"1390000{i:04d}", "region": "north"}).json()["owner"]
              for i in range(12)]
    assert owners.count("bo") == 9 and owners.count("ann") == 3  # weights 3 : 1
    big = _post(api, key, {"external_id": "big", "name": "大客户", "email": "boss@big.cn",
                           "region": "north", "budget": 5_000_000}).json()
    assert (big["owner"], big["assigned_rule"]) == ("cy", "big budgets")
    nowhere = _post(api, key, {"external_id": "far", "name": "远方", "email": "a@far.cn",
                               "region": "west"}).json()
    assert (nowhere["owner"], nowhere["status"]) == (None, "pool")


@BOTH
def test_the_rate_limit_is_per_source_and_minute(api: Api) -> None:
    _setup(api)
    key = leads.add_api_key(api.engine, "fair", per_minute=2)
    codes = [_post(api, key, {"external_id": f"f{i}", "name": "张三",
                              "email": f"z{i}@x.cn"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    r = _post(api, key, {"external_id": "f0", "name": "张三", "email": "z0@x.cn"})
    assert r.status_code == 200  # a replay is always answered


@BOTH
def test_a_lead_matching_an_existing_account_is_flagged(api: Api) -> None:
    s = _setup(api)
    acc = rid()
    s["ann"].push(s["ann"].entry("account", acc, {"name": "深圳市腾讯计算机系统有限公司"}))
    duplicates.catch_up(api.engine)
    key = leads.add_api_key(api.engine, "expo")
    got = _post(api, key, {"external_id": "e1", "name": "李雷", "email": "li@qq.com",
                           "company": "腾讯计算机系统（深圳）有限公司", "region": "north"}).json()
    assert got["duplicate_of"] == [f"account:{acc}"]
    other = _post(api, key, {"external_id": "e2", "name": "韩梅", "email": "han@x.cn",
                             "company": "腾达建材（深圳）有限公司"}).json()
    assert other["duplicate_of"] == []


@BOTH
def test_escalation_timeline_remind_reassign_pool(api: Api) -> None:
    s = _setup(api)
    one = leads.add_lead(api.engine, {"name": "赵六", "phone": "13700001111",
                                      "region": "north"}, now=T0)
    first = one["owner"]
    assert leads.tick(api.engine, at(14))["remind"] == 0
    out = leads.tick(api.engine, at(15))
    assert out["remind"] == 1
    lead = _lead(api, one["id"])
    assert (lead["escalation"], lead["escalated_to"]) == ("reminded", "max")
    assert leads.tick(api.engine, at(16))["remind"] == 0  # once only
    assert leads.tick(api.engine, at(60))["reassign"] == 1
    lead = _lead(api, one["id"])
    second = lead["owner"]
    assert second not in (first, None) and lead["reassign_count"] == 1
    assert lead["assigned_at"] == "2026-12-05T02:00:00Z" and not lead["escalation"]
    # the second rep's device learns it; the rep logs a failed first call
    dev = s[second]
    fields = dev.pull_all()[("lead", one["id"])]
    assert fields["owner"]["value"] == second
    r = dev.push(dev.entry("lead", one["id"], {"last_contact_at": "2026-12-05T02:10:00Z",
                                               "first_contact_at": "2026-12-05T02:10:00Z",
                                               "last_outcome": "no_answer", "attempts": 1},
                               stamp=fresh(dev)))
    assert r["results"][0]["status"] == "applied"
    assert leads.tick(api.engine, at(60 + 10 + 29))["retry"] == 0
    assert leads.tick(api.engine, at(60 + 10 + 30))["retry"] == 1
    r = dev.push(dev.entry("lead", one["id"], {"last_contact_at": "2026-12-05T03:00:00Z",
                                               "last_outcome": "busy", "attempts": 2},
                               stamp=fresh(dev)))
    assert leads.tick(api.engine, at(121))["pool"] == 1  # the retry schedule is spent
    lead = _lead(api, one["id"])
    assert (lead["owner"], lead["status"]) == (None, "pool")
    assert lead["assignments"] == [
        f"2026-12-05T01:00:00Z {first} (north web)",
        f"2026-12-05T02:00:00Z {second} (north web)",
        f"2026-12-05T03:01:00Z pool (SLA: {second} did not reach it)"]
    # every rep now sees it in the pool
    assert ("lead", one["id"]) in s["cy"].pull_all()
    stats = leads.stats(api.engine, at(121))
    assert stats["by_status"] == {"pool": 1}
    assert stats["breaches"][0]["reassigned"] == 1


@BOTH
def test_a_rep_disabled_mid_sla_loses_their_open_leads_at_once(api: Api) -> None:
    _setup(api)
    mine = [leads.add_lead(api.engine, {"name": f"客户{i}", "email": f"c{i}@x.cn",
                                        "region": "north"}, now=T0) for i in range(4)]
    anns = [m["id"] for m in mine if m["owner"] == "ann"]
    assert anns
    disable_user(api.engine, "ann")
    out = leads.tick(api.engine, at(1))
    assert out["reassign"] == len(anns)
    assert {_lead(api, i)["owner"] for i in anns} == {"bo"}


@BOTH
def test_two_devices_claiming_one_pool_lead_offline_get_one_owner(api: Api) -> None:
    s = _setup(api)
    pooled = leads.add_lead(api.engine, {"name": "公海客户", "email": "p@x.cn",
                                         "region": "west"}, now=T0)
    assert pooled["status"] == "pool"
    ann, bo = s["ann"], s["bo"]
    assert ("lead", pooled["id"]) in ann.pull_all()  # reps see the pool
    # both claimed it while offline; bo's device reaches the server first
    c_ann, c_bo = rid(), rid()
    bo.push(bo.entry("lead_claim", c_bo, {"lead_id": pooled["id"], "action": "claim"}))
    ann.push(ann.entry("lead_claim", c_ann, {"lead_id": pooled["id"], "action": "claim"}))
    assert _lead(api, pooled["id"])["owner"] == "bo"
    ann_view = ann.pull_all()
    claim = ann_view[("lead_claim", c_ann)]
    assert claim["result"]["value"] == "lost"
    assert "bo has this lead" in claim["reason"]["value"]
    assert bo.pull_all()[("lead_claim", c_bo)]["result"]["value"] == "won"
    # a rep cannot just write themselves in as owner
    r = ann.push(ann.entry("lead", pooled["id"], {"owner": "ann"}))
    assert r["results"][0]["status"] == "rejected"
    # nor hide their lead by calling it a pool lead
    bo.push(bo.entry("lead", pooled["id"], {"status": "pool"}, stamp=fresh(bo)))
    assert (_lead(api, pooled["id"])["status"], _lead(api, pooled["id"])["owner"]) == (
        "assigned", "bo")
    # bo returns it; the daily claim limit (1) stops bo claiming it back today
    bo.push(bo.entry("lead_claim", rid(), {"lead_id": pooled["id"], "action": "release"}))
    assert _lead(api, pooled["id"])["status"] == "pool"
    again = rid()
    bo.push(bo.entry("lead_claim", again, {"lead_id": pooled["id"], "action": "claim"}))
    assert "daily limit" in bo.pull_all()[("lead_claim", again)]["reason"]["value"]


@BOTH
def test_a_lead_a_rep_adds_offline_is_assigned_by_the_server(api: Api) -> None:
    s = _setup(api)
    cy = s["cy"]
    lead_id = rid()
    r = cy.push(cy.entry("lead", lead_id, {"name": "展会名片", "phone": "13911112222",
                                           "region": "north", "status": "new"}))
    assert r["results"][0]["status"] == "applied"
    lead = _lead(api, lead_id)
    assert lead["owner"] in ("ann", "bo") and lead["assigned_rule"] == "north web"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_server_processes_escalate_each_lead_exactly_once(api: Api, db_url: str) -> None:
    _setup(api)
    ids = [leads.add_lead(api.engine, {"name": f"客户{i}", "email": f"k{i}@x.cn",
                                       "region": "north"}, now=T0)["id"] for i in range(30)]
    other = open_database(db_url)  # a second server process's engine
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def run(engine: sa.Engine) -> None:
        barrier.wait()
        for _ in range(3):
            results.append(leads.tick(engine, at(20)))

    threads = [threading.Thread(target=run, args=(e,)) for e in (api.engine, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    other.dispose()
    assert sum(r["remind"] for r in results) == len(ids)
    assert all(_lead(api, i)["escalation"] == "reminded" for i in ids)


@BOTH
def test_the_lead_commands_with_json(api: Api, db_url: str, tmp_path: Any,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import main

    api.user("ann", "rep", ("north",))
    common = ["--data", str(tmp_path / "data"), "--database-url", db_url, "--json"]

    def run(*args: str) -> Any:
        assert main([*args, *common]) == 0
        return json.loads(capsys.readouterr().out)

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES), encoding="utf-8")
    assert run("leads", "rules", "load", str(rules)) == {"written": 5, "deleted": 0}
    shown = run("leads", "rules", "show")
    assert [r["name"] for r in shown["rules"]] == ["big budgets", "north web"]
    assert shown["policy"]["retry_min"] == [30]
    RULES_LESS = {**RULES, "rules": RULES["rules"][1:]}
    rules.write_text(json.dumps(RULES_LESS), encoding="utf-8")
    assert run("leads", "rules", "load", str(rules))["deleted"] == 1
    key = run("apikey", "add", "web")["api_key"]
    assert _post(api, key, {"external_id": "1", "name": "甲", "email": "a@b.cn"}).status_code == 201
    added = run("leads", "add", "--name", "乙", "--phone", "13800000000", "--region", "north")
    assert added["owner"] == "ann"
    listed = run("leads", "list", "--owner", "ann")
    assert [r["id"] for r in listed] == [added["id"]]
    ticked = run("leads", "tick", "--now", "2099-01-01T00:00:00Z")
    assert ticked["skipped"] is False and ticked["reassign"] + ticked["pool"] >= 1
    assert "by_status" in run("leads", "stats")
    assert main(["leads", "rules", "load", str(tmp_path / "missing.json"), *common]) == 1


@BOTH
def test_pool_leads_are_masked_until_a_claim_wins_when_the_policy_says_so(api: Api) -> None:
    s = _setup(api)
    leads.load_rules(api.engine, {**RULES, "policy": {**RULES["policy"], "mask_in_pool": True}})
    pooled = leads.add_lead(api.engine, {"name": "公海客户", "phone": "13755556666",
                                         "email": "p@x.cn", "region": "west"})
    assert (pooled["status"], pooled.get("phone"), pooled.get("email")) == ("pool", None, None)
    seen = s["cy"].pull_all()[("lead", pooled["id"])]
    assert seen["phone"]["value"] is None and seen["email"]["value"] is None
    ann = s["ann"]
    ann.push(ann.entry("lead_claim", rid(), {"lead_id": pooled["id"], "action": "claim"}))
    lead = _lead(api, pooled["id"])
    assert (lead["owner"], lead["phone"], lead["email"]) == ("ann", "+8613755556666", "p@x.cn")
    assert ann.pull_all()[("lead", pooled["id"])]["phone"]["value"] == "+8613755556666"


@BOTH
def test_a_thousand_leads_over_seven_reps_land_within_one_of_their_weights(api: Api) -> None:
    weights = {"r1": 1, "r2": 2, "r3": 3, "r4": 1, "r5": 4, "r6": 2, "r7": 1}
    for name in weights:
        api.user(name, "rep", ("field",))
    api.user("boss", "manager", ("field",))  # managers get no leads from a team rule
    leads.load_rules(api.engine, {"rules": [{"name": "all", "team": "field"}],
                                  "reps": [{"username": n, "weight": w, "open_limit": 5000}
                                           for n, w in weights.items()]})
    got: dict[str, int] = {}
    for i in range(1000):
        owner = leads.add_lead(api.engine, {"name": f"客户{i}", "email": f"c{i}@x.cn"},
                               now=T0)["owner"]
        got[owner] = got.get(owner, 0) + 1
    total = sum(weights.values())
    assert set(got) == set(weights)
    for name, w in weights.items():
        assert abs(got[name] - 1000 * w / total) <= 1, (name, got)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_server_runs_the_escalation_pass_by_itself(api: Api, tmp_path: Any) -> None:
    from conftest import serve

    from server.app import create_app
    from server.config import Settings

    _setup(api)
    lead = leads.add_lead(api.engine, {"name": "超时", "email": "late@x.cn", "region": "north"},
                          now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))
    app = create_app(Settings(tmp_path / "ticking", api.engine.url.render_as_string(
        hide_password=False), leads_interval_s=0.2), engine=api.engine)
    with serve(app, api.engine):
        deadline = time.monotonic() + 10
        while _lead(api, lead["id"]).get("escalation") != "reminded":
            assert time.monotonic() < deadline, "the background pass did not run"
            time.sleep(0.1)
    assert _lead(api, lead["id"])["escalated_to"] == "max"
