"""The API for systems (issue 25, server.integrations): credentials and scopes, writes
through the devices' field merge, idempotency, external ids, the change feed. A real
loopback server on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from conftest import Api

from server import audit
from server import integrations as ig
from server import tables as t
from server.cli import main as cli_main


def _key(api: Api, name: str = "erp", read: tuple[str, ...] = ("account:*", "deal:*"),
         write: tuple[str, ...] = ("account:*", "deal:*"), per_minute: int = 100_000) -> str:
    out = ig.add(api.engine, name, ig.Scopes.parse(list(read), list(write)), per_minute)
    return str(out["key"])


def _h(key: str, idem: str | None = None) -> dict[str, str]:
    return {"X-Integration-Key": key, **({"Idempotency-Key": idem} if idem else {})}


def _follow(client: httpx.Client, key: str, entity: str, since: int, limit: int
            ) -> tuple[list[dict[str, Any]], int]:
    seen: list[dict[str, Any]] = []
    while True:
        r = client.get(f"/api/v1/{entity}/changes", params={"since": since, "limit": limit},
                       headers=_h(key))
        assert r.status_code == 200, r.text
        page = r.json()
        seen.extend(page["changes"])
        since = page["next_cursor"]
        if not page["has_more"]:
            return seen, since


def test_write_merges_by_field_with_a_device(api: Api) -> None:
    api.user("li", "rep")
    rep = api.login("li")
    key = _key(api)
    r = api.client.post("/api/v1/account", json={
        "fields": {"name": "华东精密", "owner": "li"}, "external_ids": {"erp": "C-1029"}},
        headers=_h(key))
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["fields"]["name"] == "华东精密" and rec["external_ids"] == {"erp": "C-1029"}
    # The rep changes the phone on a device; then the ERP sets the industry: both stay.
    rep.push(rep.entry("account", rec["id"], {"phone": "13812345678"},
                       stamp=f"{int(datetime.now(UTC).timestamp() * 1000):013d}-0000-dev-li"))
    r = api.client.patch(f"/api/v1/account/{rec['id']}", json={"fields": {"industry": "机械"}},
                         headers=_h(key))
    assert r.status_code == 200, r.text
    assert r.json()["fields"]["phone"] == "+8613812345678"
    assert r.json()["fields"]["industry"] == "机械"
    pulled = rep.pull_all()[("account", rec["id"])]
    assert pulled["industry"]["value"] == "机械" and pulled["phone"]["value"] == "+8613812345678"
    # by external id
    r = api.client.get("/api/v1/account/by-external/erp/C-1029", headers=_h(key))
    assert r.status_code == 200 and r.json()["id"] == rec["id"]
    assert any(e["action"] == "api_call" and e["actor"] == "system:erp"
               for e in audit.entries(api.engine))


def test_scopes_revocation_rotation(api: Api) -> None:
    api.user("li", "rep")
    key = _key(api, "desk", read=("account:name,owner",), write=("account:industry",))
    r = api.client.post("/api/v1/account", json={"fields": {"name": "X", "owner": "li"}},
                        headers=_h(key))
    assert r.status_code == 403 and r.json()["detail"]["code"] == "out_of_scope"
    erp = _key(api)
    rid = api.client.post("/api/v1/account", json={"fields": {
        "name": "X", "owner": "li", "phone": "13812345678"}}, headers=_h(erp)).json()["id"]
    r = api.client.patch(f"/api/v1/account/{rid}", json={"fields": {"phone": "13900000000"}},
                         headers=_h(key))
    assert r.status_code == 403 and r.json()["detail"]["field"] == "phone"
    r = api.client.get(f"/api/v1/account/{rid}", headers=_h(key))
    assert r.status_code == 200 and set(r.json()["fields"]) == {"name", "owner"}
    assert api.client.get("/api/v1/deal/changes", headers=_h(key)).status_code == 403
    assert api.client.patch(f"/api/v1/account/{rid}", json={"fields": {"industry": "IT"}},
                            headers=_h(key)).status_code == 200
    # rotation: both keys work until the grace period ends, then only the new one
    new = str(ig.rotate(api.engine, "desk", grace_hours=1)["key"])
    for k in (key, new):
        assert api.client.get(f"/api/v1/account/{rid}", headers=_h(k)).status_code == 200
    limiter = ig.RateLimiter()
    later = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(ig.ApiRefused) as exc:
        ig.authenticate(api.engine, key, limiter, now=later)
    assert exc.value.status == 401 and exc.value.code == "key_rotated"
    assert ig.authenticate(api.engine, new, limiter, now=later).name == "desk"
    # revocation: refused on the very next call
    ig.revoke(api.engine, "desk")
    r = api.client.get(f"/api/v1/account/{rid}", headers=_h(new))
    assert r.status_code == 401 and r.json()["detail"]["code"] == "key_revoked"
    assert api.client.get("/api/v1/account", headers=_h("fci_nope.nope")).status_code == 401
    assert api.client.get("/api/v1/account").status_code == 401


def test_idempotency_naive_times_and_external_ids(api: Api) -> None:
    api.user("li", "rep")
    key = _key(api, write=("account:*", "deal:*", "activity:*"),
               read=("activity:*", "account:*", "deal:*"))
    body = {"fields": {"title": "Pumps", "owner": "li", "amount": 1200}}
    first = api.client.post("/api/v1/deal", json=body, headers=_h(key, "k-1"))
    again = api.client.post("/api/v1/deal", json=body, headers=_h(key, "k-1"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = api.client.post("/api/v1/deal", json={"fields": {**body["fields"], "amount": 9}},
                            headers=_h(key, "k-1"))
    assert other.status_code == 422
    assert other.json()["detail"]["code"] == "idempotency_key_reused"
    assert len(api.client.get("/api/v1/deal", headers=_h(key)).json()["records"]) == 1
    # an instant without an offset is refused, with the field named
    r = api.client.post("/api/v1/activity", json={"fields": {
        "kind": "call", "subject": "x", "owner": "li", "due_at": "2026-12-06T10:00:00"}},
        headers=_h(key))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "due_at"
    assert "time zone" in r.json()["detail"]["message"]
    r = api.client.post("/api/v1/activity", json={"fields": {
        "kind": "call", "subject": "x", "owner": "li", "due_at": "2026-12-06T10:00:00-05:00"}},
        headers=_h(key))
    assert r.status_code == 201 and r.json()["fields"]["due_at"].startswith("2026-12-06T15:00")
    # create-or-update by external id; the id is unique per system
    put = api.client.put("/api/v1/account/by-external/erp/C-7", json={"fields": {
        "name": "Seven", "owner": "li"}}, headers=_h(key))
    assert put.status_code == 201, put.text
    upd = api.client.put("/api/v1/account/by-external/erp/C-7", json={"fields": {
        "industry": "IT"}}, headers=_h(key))
    assert upd.status_code == 200 and upd.json()["id"] == put.json()["id"]
    assert upd.json()["fields"]["name"] == "Seven"
    r = api.client.post("/api/v1/account", json={"fields": {"name": "Other", "owner": "li"},
                                                 "external_ids": {"erp": "C-7"}}, headers=_h(key))
    assert r.status_code == 409 and r.json()["detail"]["code"] == "external_id_taken"
    # huge integers are refused, not a server error
    r = api.client.post("/api/v1/deal", content=json.dumps(
        {"fields": {"title": "x", "owner": "li", "amount": 2**70}}),
        headers={**_h(key), "Content-Type": "application/json"})
    assert r.status_code == 422


def test_change_feed_sees_every_change_once(api: Api) -> None:
    api.user("li", "rep")
    key = _key(api)
    ids = [api.client.post("/api/v1/account", json={"fields": {"name": f"A{i}", "owner": "li"}},
                           headers=_h(key)).json()["id"] for i in range(25)]
    seen, cursor = _follow(api.client, key, "account", 0, 7)
    assert [c["id"] for c in seen] == ids
    # a device's change, an update and a delete: seen after the cursor, once each
    rep = api.login("li")
    rep.push(rep.entry("account", ids[3], {"industry": "IT"},
                       stamp=f"{int(datetime.now(UTC).timestamp() * 1000):013d}-0000-dev-li"))
    assert api.client.delete(f"/api/v1/account/{ids[5]}", headers=_h(key)).status_code == 200
    more, cursor2 = _follow(api.client, key, "account", cursor, 7)
    assert [(c["id"], c["deleted"]) for c in more] == [(ids[3], False), (ids[5], True)]
    assert _follow(api.client, key, "account", cursor2, 7)[0] == []
    assert api.client.get(f"/api/v1/account/{ids[5]}", headers=_h(key)).json()["deleted"]
    assert api.client.patch(f"/api/v1/account/{ids[5]}", json={"fields": {"industry": "x"}},
                            headers=_h(key)).status_code == 404
    listed = api.client.get("/api/v1/account", params={"filter": "name=A7"},
                            headers=_h(key)).json()["records"]
    assert [r["id"] for r in listed] == [ids[7]]


def test_cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--database-url", db_url, "--json"]
    assert cli_main(["integration", "add", "erp", "--read", "account:*",
                     "--write", "deal:collected_amount", *base]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["key"].startswith("fci_") and added["write"] == {"deal": ["collected_amount"]}
    assert cli_main(["integration", "rotate", "erp", *base]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["key"] != added["key"]
    assert cli_main(["integration", "list", *base]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "erp" and "key" not in rows[0] and rows[0]["old_valid_until"]
    assert added["key"].split(".")[1] not in json.dumps(rows)
    assert cli_main(["integration", "revoke", "erp", *base]) == 0
    assert json.loads(capsys.readouterr().out) == {"name": "erp", "revoked": True}
    assert cli_main(["integration", "add", "erp", "--read", "nothing:*", *base]) == 1


def test_rate_limit(api: Api) -> None:
    key = _key(api, "slow", per_minute=3)
    answers = [api.client.get("/api/v1/account", headers=_h(key)) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["detail"]["code"] == "rate_limited"
    assert answers[-1].headers["Retry-After"] == "60"


def test_payments_finance_fields_for_devices_and_systems(api: Api) -> None:
    """Payment fields are finance's (finance/admin devices); a system writes the payment
    fields its write scope names, as finance would, and its payments belong to the deal's
    rep, who reads them and may not change them."""
    api.user("li", "rep")
    api.user("fin", "finance")
    rep, fin = api.login("li"), api.login("fin")
    key = _key(api, read=("deal:*", "payment:*"), write=("deal:*", "payment:*"))
    deal = api.client.post("/api/v1/deal", json={"fields": {"title": "Pumps", "owner": "li"}},
                           headers=_h(key)).json()["id"]
    pay = {"kind": "planned", "amount": 5000, "date": "2026-12-20", "deal_id": deal}
    r = api.client.post("/api/v1/payment", json={"fields": pay}, headers=_h(key))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["fields"]["owner"] == "li"
    # a payment with neither an owner nor a deal would be seen by nobody: refused
    r = api.client.post("/api/v1/payment", json={"fields": {**pay, "deal_id": None}},
                        headers=_h(key))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "owner"
    # devices: the rep reads the payment and may not change it; finance may
    assert rep.pull_all()[("payment", pid)]["amount"]["value"] == 5000
    out = rep.push(rep.entry("payment", pid, {"amount": 1}))
    assert out["results"][0]["status"] == "rejected"
    assert "finance" in out["results"][0]["reason"]
    out = fin.push(fin.entry("payment", pid, {"kind": "received"},
                             stamp=f"{int(datetime.now(UTC).timestamp() * 1000) + 5:013d}"
                                   "-0000-dev-fin"))
    assert out["results"][0]["status"] == "applied", out
    # a system with a narrower write scope: only the fields named, and no new payments
    narrow = _key(api, "desk", read=("payment:*",), write=("payment:invoice_no",))
    r = api.client.patch(f"/api/v1/payment/{pid}", json={"fields": {"invoice_no": "INV-9"}},
                         headers=_h(narrow))
    assert r.status_code == 200 and r.json()["fields"]["kind"] == "received"
    r = api.client.patch(f"/api/v1/payment/{pid}", json={"fields": {"amount": 1}},
                         headers=_h(narrow))
    assert r.status_code == 403 and r.json()["detail"]["field"] == "amount"
    assert api.client.post("/api/v1/payment", json={"fields": pay},
                           headers=_h(narrow)).status_code == 403


def test_ids_kept_before_the_field_are_copied_once(api: Api, db_url: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`integration copy-ids`: ids a server of the release before set only in its table
    reach the devices' pull; run again, it writes nothing."""
    api.user("li", "rep")
    rep = api.login("li")
    rid = "0193a000-0000-7000-8000-0000000000c7"
    rep.push(rep.entry("account", rid, {"name": "华东精密", "owner": "li"}))
    gone = "0193a000-0000-7000-8000-0000000000c8"  # an id whose record is not on the server
    with api.engine.begin() as conn:
        conn.execute(sa.insert(t.external_ids), [
            {"system": "erp", "entity": "account", "external_id": "C-7", "record_id": rid},
            {"system": "crm2", "entity": "account", "external_id": "A 1", "record_id": rid},
            {"system": "erp", "entity": "account", "external_id": "C-8", "record_id": gone}])
    base = ["--database-url", db_url, "--json"]
    assert cli_main(["integration", "copy-ids", *base]) == 0
    assert json.loads(capsys.readouterr().out) == {"records": 1}
    pulled = rep.pull_all()
    assert pulled[("account", rid)]["external_ids"]["value"] == ["crm2:A 1", "erp:C-7"]
    assert ("account", gone) not in pulled
    assert cli_main(["integration", "copy-ids", *base]) == 0
    assert json.loads(capsys.readouterr().out) == {"records": 0}


def test_two_systems_setting_ids_at_once_leave_both_in_the_field(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second system's write reads the record's ids before the first one's are in
    the table (as when both write at once): the field still ends with both."""
    api.user("li", "rep")
    rep = api.login("li")
    erp, desk = _key(api, "erp"), _key(api, "desk")
    rid = api.client.post("/api/v1/account", json={"fields": {"name": "华东精密", "owner": "li"}},
                          headers=_h(erp)).json()["id"]
    assert api.client.patch(f"/api/v1/account/{rid}", json={"external_ids": {"erp": "C-1"}},
                            headers=_h(erp)).status_code == 200
    real = ig._external_of
    missed = []

    def stale(conn: sa.Connection, entity: str, ids: list[str]) -> dict[str, dict[str, str]]:
        if not missed:  # _perform's read: the erp id not committed yet
            missed.append(True)
            return {}
        return real(conn, entity, ids)

    monkeypatch.setattr(ig, "_external_of", stale)
    r = api.client.patch(f"/api/v1/account/{rid}", json={"external_ids": {"desk": "D-9"}},
                         headers=_h(desk))
    assert r.status_code == 200 and missed
    assert r.json()["external_ids"] == {"desk": "D-9", "erp": "C-1"}
    assert rep.pull_all()[("account", rid)]["external_ids"]["value"] == ["desk:D-9", "erp:C-1"]


def test_a_rep_merging_duplicates_keeps_their_ids_in_other_systems(api: Api) -> None:
    """A rep merges an account the ERP knows (C-1, service desk D-1) into one the ERP
    knows as C-2: the survivor takes D-1 and keeps C-2; the ERP's reads and writes by C-1
    reach the survivor and never bring the merged-away record back."""
    api.user("li", "rep")
    rep = api.login("li")
    erp, desk = _key(api, "erp"), _key(api, "desk")
    new = {"fields": {"name": "华东精密", "owner": "li"}}
    drop = api.client.post("/api/v1/account", json={**new, "external_ids": {"erp": "C-1"}},
                           headers=_h(erp)).json()["id"]
    assert api.client.patch(f"/api/v1/account/{drop}", json={"external_ids": {"desk": "D-1"}},
                            headers=_h(desk)).status_code == 200
    keep = api.client.post("/api/v1/account", json={**new, "external_ids": {"erp": "C-2"}},
                           headers=_h(erp)).json()["id"]
    rep.push(rep.entry("account", drop, {"merged_into": keep, "deleted": True},
                       stamp=f"{int(datetime.now(UTC).timestamp() * 1000):013d}-0000-dev-li"))

    pulled = rep.pull_all()
    assert pulled[("account", keep)]["external_ids"]["value"] == ["desk:D-1", "erp:C-2"]
    r = api.client.get("/api/v1/account/by-external/desk/D-1", headers=_h(desk))
    assert r.status_code == 200 and r.json()["id"] == keep
    r = api.client.get("/api/v1/account/by-external/erp/C-1", headers=_h(erp))
    assert r.status_code == 200 and r.json()["id"] == keep

    r = api.client.put("/api/v1/account/by-external/erp/C-1",
                       json={"fields": {"industry": "机械"}}, headers=_h(erp))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == keep and r.json()["external_ids"] == {"desk": "D-1", "erp": "C-2"}
    pulled = rep.pull_all()
    assert pulled[("account", keep)]["industry"]["value"] == "机械"
    assert pulled[("account", drop)]["deleted"]["value"] is True
    assert "industry" not in pulled[("account", drop)]
