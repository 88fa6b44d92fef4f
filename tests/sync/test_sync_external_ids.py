"""A record's ids in other systems reach the rep's laptop (issue 25): an ERP sets them
through the API for systems, the server writes them into the record's server-only
`external_ids` field, and the rep's next sync brings them: shown by `fieldcrm account
show`, found by search. A device's own write to the field is refused for that field
alone. A real loopback server on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from desktop.cli import main as fieldcrm
from desktop.exchange.mapping import targets
from desktop.schema import ENTITIES, EXTERNAL_IDS, is_server_only
from server import integrations as ig
from tests.sync.conftest import Server


def _erp(server: Server) -> httpx.Client:
    key = ig.add(server.engine, "erp", ig.Scopes.parse(["account:*"], ["account:*"]))["key"]
    return httpx.Client(base_url=server.url, headers={"X-Integration-Key": str(key)},
                        timeout=10)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    assert fieldcrm(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_entities_of_the_api_carry_the_server_only_field() -> None:
    for entity in ig.API_ENTITIES:
        assert is_server_only(ENTITIES[entity].field(EXTERNAL_IDS)), entity
        assert EXTERNAL_IDS not in targets(ENTITIES[entity])  # no import column fills it


def test_erp_ids_reach_the_laptop_and_find_the_record(
        server: Server, devices: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server.user("li")
    li = devices("li")
    li.login("li")
    mine = li.repo("account").create({"name": "华东精密机械"})
    assert li.sync().pushed == 1
    with _erp(server) as erp:
        # the rep's account gets its ERP number; another account is created by it
        r = erp.patch(f"/api/v1/account/{mine['id']}", json={"external_ids": {"erp": "C-1029"}})
        assert r.status_code == 200, r.text
        assert r.json()["external_ids"] == {"erp": "C-1029"}
        assert EXTERNAL_IDS not in r.json()["fields"]  # the API's own shape is unchanged
        r = erp.put("/api/v1/account/by-external/erp/C-2040",
                    json={"fields": {"name": "华南机电", "owner": "li"}})
        assert r.status_code == 201, r.text
        theirs = r.json()["id"]
    li.sync()
    assert li.repo("account").get(mine["id"])[EXTERNAL_IDS] == ["erp:C-1029"]
    assert li.repo("account").get(theirs)[EXTERNAL_IDS] == ["erp:C-2040"]
    assert [h.id for h in li.store.search("C-1029")] == [mine["id"]]
    assert [h.id for h in li.store.search("c-2040")] == [theirs]
    li.close()
    profile = ["--profile", str(li.profile)]
    shown = _cli([*profile, "account", "show", mine["id"], "--json"], capsys)
    assert shown[EXTERNAL_IDS] == ["erp:C-1029"]
    found = _cli([*profile, "search", "C-1029", "--json"], capsys)
    assert [h["id"] for h in found] == [mine["id"]]


def test_a_device_write_to_the_ids_is_refused_for_that_field(
        server: Server, devices: Any) -> None:
    server.user("li")
    li = devices("li")
    li.login("li")
    acc = li.repo("account").create({"name": "华东精密机械"})
    li.sync()
    erp = _erp(server)
    with erp:
        assert erp.patch(f"/api/v1/account/{acc['id']}",
                         json={"external_ids": {"erp": "C-1029"}}).status_code == 200
        # nor may a system write the field itself: its ids go in the body's external_ids
        r = erp.patch(f"/api/v1/account/{acc['id']}",
                      json={"fields": {EXTERNAL_IDS: ["erp:X"]}})
        assert r.status_code == 422 and r.json()["detail"]["field"] == EXTERNAL_IDS
    li.sync()
    # The rep's laptop writes the field (as a script or an old import could) and more.
    li.repo("account").update(acc["id"], {EXTERNAL_IDS: ["erp:FAKE-1"], "industry": "机械"})
    report = li.sync()
    assert report.parked == 0 and report.pushed == 1
    assert any("only the server sets it" in why for why in report.refused), report.refused
    li.sync()  # the record the server sent again
    local = li.repo("account").get(acc["id"])
    assert local["industry"] == "机械" and local[EXTERNAL_IDS] == ["erp:C-1029"]
    assert [h.id for h in li.store.search("C-1029")] == [acc["id"]]
    assert li.store.search("FAKE-1") == []
    with httpx.Client(base_url=server.url, headers=erp.headers, timeout=10) as again:
        rec = again.get(f"/api/v1/account/{acc['id']}").json()
    assert rec["external_ids"] == {"erp": "C-1029"} and rec["fields"]["industry"] == "机械"


def test_a_merge_on_the_laptop_never_takes_the_ids(tmp_path: Any) -> None:
    """The survivor of a merge keeps its own ids in other systems (the server's), never
    the merged-away record's: the laptop does not write the field."""
    from desktop.dedupe.merge import merge
    from desktop.store import Store

    with Store.open(tmp_path / "p") as store:
        keep = store.repo("account").create({"name": "华东精密"})
        drop = store.repo("account").create({"name": "华东精密机械"})
        store.repo("account").update(drop["id"], {EXTERNAL_IDS: ["erp:C-1029"]})
        result = merge(store, "account", keep["id"], drop["id"])
        assert EXTERNAL_IDS not in result.taken
        assert store.repo("account").get(keep["id"])[EXTERNAL_IDS] is None
