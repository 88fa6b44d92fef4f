"""Who may read which field, end to end over a real server (SQLite and PostgreSQL): a
field only directors may read never reaches a rep's laptop (no byte of it in any file of
the profile folder, nor in a pull response), a masked one arrives masked, a push writing
it is refused for that field alone, and a rule change converges every device at its
next sync: hidden values purged, values readable again pulled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop import cli as client_cli
from desktop.schema import ENTITIES
from desktop.store.visibility import held_policy, repull_wanted
from server import cli as server_cli
from tests.sync.conftest import PASSWORD, Server

SECRET = "ZEBRACORP-SECRET-7731"  # a deal's competitor: directors only
LOCAL_SECRET = "QUOKKA-LOCAL-5521"
PHONE = "13812345678"  # an account's phone: masked for reps
RULES = {"rules": [
    {"entity": "deal", "field": "cf_competitor", "readable_by": ["director", "admin"],
     "others": "hidden"},
    {"entity": "account", "field": "phone", "readable_by": ["director", "manager"],
     "others": "masked"},
]}


def server_cmd(capsys: pytest.CaptureFixture[str], srv: Server, tmp_path: Path,
               *argv: str) -> tuple[int, Any]:
    code = server_cli.main([*argv, "--data", str(tmp_path / "srv"), "--database-url",
                            str(srv.engine.url.render_as_string(hide_password=False)),
                            "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def load_rules(capsys: pytest.CaptureFixture[str], srv: Server, tmp_path: Path,
               rules: dict[str, Any]) -> Any:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    code, out = server_cmd(capsys, srv, tmp_path, "visibility", "load", str(path))
    assert code == 0, out
    return out


def files_holding(profile: Path, *needles: str) -> list[str]:
    """Every file under the profile folder whose bytes hold one of the needles (UTF-8)."""
    hits = []
    for f in sorted(profile.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            hits += [f"{f.name}: {n}" for n in needles if n.encode() in data]
    return hits


def raw_pull(srv: Server, user: str) -> str:
    """Every page of a full pull as the user's device receives it, as text."""
    with httpx.Client(base_url=srv.url) as http:
        token = http.post("/v1/auth/login", json={
            "username": user, "password": PASSWORD, "device_id": f"probe-{user}",
            "device_name": "probe"}).json()["access_token"]
        pages, cursor = [], 0
        while True:
            resp = http.get("/v1/pull", params={"cursor": cursor, "limit": 1},
                            headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == 200
            pages.append(resp.text)
            body = resp.json()
            cursor = body["cursor"]
            if not body["has_more"]:
                return "\n".join(pages)


def make_book(server: Server, devices: Any) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """A rep and a director of one team; the director's account with a phone and a deal
    with a competitor, synced to the server."""
    server.user("rita", teams=("east",))
    server.user("dora", "director", teams=("east",))
    rep, boss = devices("rita"), devices("dora")
    rep.login("rita")
    boss.login("dora")
    acc = boss.repo("account").create({"name": "上海浦东发展银行", "phone": PHONE})
    deal = boss.repo("deal").create({"title": "核心系统升级", "account_id": acc["id"],
                                     "cf_competitor": SECRET, "amount": 1_200_000})
    boss.sync()
    return rep, boss, acc, deal


def test_a_field_only_directors_may_read_never_reaches_a_reps_laptop(
        server: Server, devices: Any, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    load_rules(capsys, server, tmp_path, RULES)
    rep, boss, acc, deal = make_book(server, devices)
    first = rep.sync()
    assert first.complete
    # A new laptop's first pull brings each record once: the masked field arrives masked
    # in it, nothing is left to pull again.
    assert first.pulled == raw_pull(server, "rita").count('"record_id"') >= 2
    assert repull_wanted(rep.store) is None
    # The rep holds the record without the field, and the phone masked.
    got = rep.repo("deal").get(deal["id"])
    assert got["title"] == "核心系统升级" and got["cf_competitor"] is None
    assert rep.repo("account").get(acc["id"])["phone"] == "+86****5678"
    assert held_policy(rep.store) == {"account": {"phone": "masked"},
                                      "deal": {"cf_competitor": "hidden"}}
    rep.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    assert files_holding(rep.profile, SECRET, PHONE) == []
    assert client_cli.main(["--profile", str(rep.profile), "fields", "unreadable",
                            "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"entity": "account", "field": "phone", "shown": "masked"},
        {"entity": "deal", "field": "cf_competitor", "shown": "hidden"}]
    page = raw_pull(server, "rita")
    assert SECRET not in page and PHONE not in page and "+86****5678" in page
    # The director's laptop has both.
    boss.sync()
    assert boss.repo("deal").get(deal["id"])["cf_competitor"] == SECRET
    assert files_holding(boss.profile, SECRET)
    assert SECRET in raw_pull(server, "dora")
    # A push writing the field is refused for that field; the rest of the entry applies,
    # and the rep's laptop does not keep what it wrote.
    rep.repo("deal").update(deal["id"], {"cf_competitor": LOCAL_SECRET, "title": "核心系统二期"})
    report = rep.sync()
    assert report.parked == 0
    assert report.refused == ["Competitor (cf_competitor) was not saved: only director, "
                              "admin may read it."]
    assert rep.repo("deal").get(deal["id"])["cf_competitor"] is None
    boss.sync()
    assert boss.repo("deal").get(deal["id"])["title"] == "核心系统二期"
    assert boss.repo("deal").get(deal["id"])["cf_competitor"] == SECRET
    code, shown = server_cmd(capsys, server, tmp_path, "visibility", "show")
    assert code == 0 and [(r["entity"], r["field"], r["others"]) for r in shown] == [
        ("account", "phone", "masked"), ("deal", "cf_competitor", "hidden")]


def test_a_rule_change_purges_what_the_rep_may_no_longer_read_and_brings_back_the_rest(
        server: Server, devices: Any, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    rep, boss, acc, deal = make_book(server, devices)
    rep.sync()
    assert rep.repo("deal").get(deal["id"])["cf_competitor"] == SECRET
    assert [h.id for h in rep.store.search("13812345678")] == [acc["id"]]  # phone indexed
    # The rep's own pending edit of the field, still unpushed when the rule arrives.
    other = boss.repo("deal").create({"title": "备用机房", "cf_competitor": "SOMEONE-ELSE"})
    boss.sync()
    rep.sync()
    rep.repo("deal").update(other["id"], {"cf_competitor": LOCAL_SECRET})
    assert files_holding(rep.profile, SECRET, PHONE, LOCAL_SECRET)
    out = load_rules(capsys, server, tmp_path, RULES)
    assert out["added"] == ["account.phone", "deal.cf_competitor"]
    rep.sync()
    assert rep.repo("deal").get(deal["id"])["cf_competitor"] is None
    assert rep.repo("account").get(acc["id"])["phone"] == "+86****5678"
    assert rep.store.search("13812345678") == []
    assert files_holding(rep.profile, SECRET, PHONE, LOCAL_SECRET, "SOMEONE-ELSE") == []
    # Rules taken away: the values are readable again and arrive at the next sync.
    out = load_rules(capsys, server, tmp_path, {"rules": []})
    assert out["removed"] == ["account.phone", "deal.cf_competitor"]
    rep.sync()
    assert rep.repo("deal").get(deal["id"])["cf_competitor"] == SECRET
    assert rep.repo("account").get(acc["id"])["phone"] == "+8613812345678"
    assert held_policy(rep.store) == {}
    # A temporary grant: readable by reps until a moment, hidden again after it.
    grant = {"rules": [{"entity": "deal", "field": "cf_competitor", "readable_by": ["director"],
                        "others": "hidden",
                        "grants": [{"roles": ["rep"], "until": "2999-01-01T00:00:00Z"}]}]}
    load_rules(capsys, server, tmp_path, grant)
    rep.sync()
    assert rep.repo("deal").get(deal["id"])["cf_competitor"] == SECRET
    grant["rules"][0]["grants"][0]["until"] = "2000-01-01T00:00:00Z"
    load_rules(capsys, server, tmp_path, grant)
    rep.sync()
    assert rep.repo("deal").get(deal["id"])["cf_competitor"] is None
    assert ENTITIES["deal"].has_field("cf_competitor")


def test_bad_rules_are_refused_with_a_clear_reason(
        server: Server, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    for rules, reason in [
        ([{"entity": "deal", "field": "cf_nope", "readable_by": ["director"]}],
         "deal has no field 'cf_nope'"),
        ([{"entity": "deal", "field": "owner", "readable_by": ["director"]}],
         "'owner' decides who sees the record"),
        ([{"entity": "deal", "field": "amount", "readable_by": ["boss"]}],
         "'boss' is not a role"),
        ([{"entity": "deal", "field": "amount", "readable_by": ["admin"], "others": "blur"}],
         "others must be 'hidden' or 'masked'"),
    ]:
        path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
        code, out = server_cmd(capsys, server, tmp_path, "visibility", "load", str(path))
        assert code == 1 and reason in out["error"], out
    assert server_cmd(capsys, server, tmp_path, "visibility", "show") == (0, [])
