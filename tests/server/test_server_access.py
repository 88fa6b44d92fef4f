"""Access is decided by the server: owners, teams, roles, reserved fields, guessed ids."""

from __future__ import annotations

from conftest import Api, Session, hlc, rid


def _setup(api: Api) -> dict[str, Session]:
    api.user("alice", "rep", ("north",))
    api.user("amy", "rep", ("north",))
    api.user("bob", "rep", ("south",))
    api.user("solo", "rep")
    api.user("mona", "manager", ("north",))
    api.user("fin", "finance")
    api.user("root", "admin")
    return {n: api.login(n) for n in ("alice", "amy", "bob", "solo", "mona", "fin", "root")}


def _ids(s: Session) -> set[str]:
    return {rec_id for (_e, rec_id) in s.pull_all()}


def test_visibility_by_owner_team_and_role(api: Api) -> None:
    u = _setup(api)
    a_acc, b_acc, solo_acc, a_deal = rid(), rid(), rid(), rid()
    u["alice"].push(u["alice"].entry("account", a_acc, {"name": "Alice Co"}),
                    u["alice"].entry("deal", a_deal, {"title": "Big one", "account_id": a_acc}))
    u["bob"].push(u["bob"].entry("account", b_acc, {"name": "Bob Co"}))
    u["solo"].push(u["solo"].entry("account", solo_acc, {"name": "Solo Co"}))
    assert _ids(u["alice"]) == _ids(u["amy"]) == _ids(u["mona"]) == {a_acc, a_deal}
    assert _ids(u["bob"]) == {b_acc}
    assert _ids(u["solo"]) == {solo_acc}
    assert _ids(u["fin"]) == _ids(u["root"]) == {a_acc, a_deal, b_acc, solo_acc}
    # The server filled in the owner, stamped below any real clock.
    fields = u["alice"].pull_all()[("account", a_acc)]
    assert fields["owner"]["value"] == "alice"


def test_guessing_ids_gets_nothing(api: Api) -> None:
    u = _setup(api)
    acc = rid()
    u["bob"].push(u["bob"].entry("account", acc, {"name": "Secret Co", "region": "south"}))
    res = u["alice"].push(u["alice"].entry("account", acc, {"name": "Pwned"}))["results"][0]
    assert res["status"] == "rejected"
    assert "Secret" not in res["reason"] and "bob" not in res["reason"]
    # A tombstone on someone else's record is refused the same way.
    res = u["alice"].push(u["alice"].entry("account", acc, {"deleted": True}))["results"][0]
    assert res["status"] == "rejected"
    assert u["bob"].pull_all()[("account", acc)]["name"]["value"] == "Secret Co"
    assert "deleted" not in u["bob"].pull_all()[("account", acc)]
    assert acc not in _ids(u["alice"])
    r = api.client.get(f"/v1/pull?cursor=0&record_id={acc}", headers=u["alice"].headers)
    assert acc not in r.text


def test_manager_writes_team_records_but_not_other_teams(api: Api) -> None:
    u = _setup(api)
    a_acc, b_acc = rid(), rid()
    u["alice"].push(u["alice"].entry("account", a_acc, {"name": "Alice Co"}))
    u["bob"].push(u["bob"].entry("account", b_acc, {"name": "Bob Co"}))
    ok = u["mona"].push(u["mona"].entry("account", a_acc, {"lifecycle": "customer"}))["results"][0]
    no = u["mona"].push(u["mona"].entry("account", b_acc, {"lifecycle": "customer"}))["results"][0]
    assert ok["status"] == "applied" and no["status"] == "rejected"
    assert u["alice"].pull_all()[("account", a_acc)]["lifecycle"]["value"] == "customer"


def test_collected_amount_is_finance_only(api: Api) -> None:
    u = _setup(api)
    deal = rid()
    u["alice"].push(u["alice"].entry("deal", deal, {"title": "D", "amount": 1000}))
    res = u["alice"].push(u["alice"].entry("deal", deal, {"collected_amount": 500, "stage": "won"}))
    r = res["results"][0]
    assert (r["status"] == "rejected" and "Collected amount" in r["reason"]
            and "finance" in r["reason"])
    # The whole entry is refused: the stage in the same entry did not land either.
    assert "stage" not in u["alice"].pull_all()[("deal", deal)]
    assert u["fin"].push(u["fin"].entry("deal", deal, {"collected_amount": 500})
                         )["results"][0]["status"] == "applied"
    assert u["alice"].pull_all()[("deal", deal)]["collected_amount"]["value"] == 500


def test_owner_can_be_handed_only_within_reach(api: Api) -> None:
    u = _setup(api)
    acc = rid()
    u["alice"].push(u["alice"].entry("account", acc, {"name": "Hand over"}))
    bad = u["alice"].push(u["alice"].entry("account", acc, {"owner": "bob"}))["results"][0]
    ghost = u["alice"].push(u["alice"].entry("account", rid(), {"name": "x", "owner": "nobody"})
                            )["results"][0]
    assert bad["status"] == ghost["status"] == "rejected"
    assert u["alice"].push(u["alice"].entry("account", acc, {"owner": "amy"})
                           )["results"][0]["status"] == "applied"
    assert u["amy"].pull_all()[("account", acc)]["owner"]["value"] == "amy"
    # Admin may move it anywhere; then the north team no longer sees it.
    assert u["root"].push(u["root"].entry("account", acc, {"owner": "bob"},
                                              stamp=hlc(1_800_000_000_000, 0, "dev-root"))
                          )["results"][0]["status"] == "applied"
    assert acc in _ids(u["bob"]) and acc not in _ids(u["alice"])


def test_pipeline_rules_are_read_by_everyone_and_written_by_admins_only(api: Api) -> None:
    u = _setup(api)
    rule = rid()
    res = u["root"].push(u["root"].entry("pipeline_rule", rule, {
        "name": "Won needs a contract", "stage": "won", "requires": ["contract"]}))["results"][0]
    assert res["status"] == "applied"
    for name in ("alice", "bob", "solo", "mona", "fin"):
        assert rule in _ids(u[name])
    for name in ("alice", "mona", "fin"):
        for change in ({"requires": []}, {"deleted": True}):
            res = u[name].push(u[name].entry("pipeline_rule", rule, change))["results"][0]
            assert res["status"] == "rejected" and "admin" in res["reason"]
    assert u["bob"].pull_all()[("pipeline_rule", rule)]["requires"]["value"] == ["contract"]
