"""Custom fields end to end with a real server (SQLite and PostgreSQL): an admin adds a
field on the server, every device gets it at its next sync, values travel, retiring
hides and keeps, pushes of definitions are checked and accepted from admins only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop import cli as client_cli
from desktop.schema import ENTITIES, field_def_id
from server import cli as server_cli
from server import fields
from tests.sync.conftest import Server


def server_cmd(capsys: pytest.CaptureFixture[str], srv: Server, tmp_path: Path,
               *argv: str) -> tuple[int, Any]:
    code = server_cli.main([*argv, "--data", str(tmp_path / "srv"), "--database-url",
                            str(srv.engine.url.render_as_string(hide_password=False)),
                            "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_an_admin_adds_a_field_on_the_server_and_every_device_gets_it(
        server: Server, devices: Any, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    server.user("rita", teams=("east",))
    server.user("dora", "manager", teams=("east",))
    rep, boss = devices("rita"), devices("dora")
    rep.login("rita")
    boss.login("dora")
    acc = rep.repo("account").create({"name": "上海浦东发展银行"})
    rep.sync()
    code, made = server_cmd(capsys, server, tmp_path, "fields", "add", "account", "Contact rank",
                            "--type", "choice", "--choice", "总监", "--choice", "经理",
                            "--label-zh", "对接人职级", "--label-en", "Contact rank")
    assert code == 0 and made["name"] == "cf_contact_rank" and made["choices"] == ["总监", "经理"]
    code, err = server_cmd(capsys, server, tmp_path, "fields", "add", "account", "contact_rank",
                           "--type", "text")
    assert code == 1 and "already has a field named 'cf_contact_rank'" in err["error"]
    rep.sync()
    assert ENTITIES["account"].field("cf_contact_rank").label("zh") == "对接人职级"
    rep.repo("account").update(acc["id"], {"cf_contact_rank": "总监"})
    assert rep.sync().parked == 0
    boss.sync()
    assert boss.repo("account").get(acc["id"])["cf_contact_rank"] == "总监"
    # The client lists what it holds.
    assert client_cli.main(["--profile", str(boss.profile), "fields", "list", "--json"]) == 0
    [held] = json.loads(capsys.readouterr().out)
    assert (held["name"], held["label_zh"], held["retired"]) == ("cf_contact_rank", "对接人职级",
                                                                 False)
    # Retire: hidden, the value kept; restore: back with its value.
    assert server_cmd(capsys, server, tmp_path, "fields", "retire", "account",
                      "cf_contact_rank")[0] == 0
    boss.sync()
    assert ENTITIES["account"].field("cf_contact_rank").retired
    assert boss.repo("account").get(acc["id"])["cf_contact_rank"] == "总监"
    assert server_cmd(capsys, server, tmp_path, "fields", "retire", "account", "cf_contact_rank",
                      "--restore")[0] == 0
    boss.sync()
    assert not ENTITIES["account"].field("cf_contact_rank").retired
    code, listed = server_cmd(capsys, server, tmp_path, "fields", "list")
    assert [(r["name"], r["retired"]) for r in listed] == [("cf_contact_rank", False)]


def test_only_an_admin_device_may_push_a_definition_and_it_is_checked(
        server: Server, devices: Any) -> None:
    server.user("rita")
    server.user("ada", "admin")
    rep, admin = devices("rita"), devices("ada")
    rep.login("rita")
    admin.login("ada")
    rid = field_def_id("deal", "cf_lost_reason")
    values = {"entity": "deal", "name": "cf_lost_reason", "type": "text",
              "label_zh": "输单原因"}
    rep.repo("field_def").create(values, record_id=rid)
    rep_report = rep.sync()
    assert rep_report.parked == 1
    [problem] = rep.store.journal.parked()
    assert "Only an admin" in str(problem.reason)
    admin.repo("field_def").create(values, record_id=rid)
    assert admin.sync().parked == 0
    # A second definition with the same name under another id: refused, named.
    admin.repo("field_def").create({**values, "label_zh": "又一个"})
    assert admin.sync().parked == 1
    assert any("already has a field named 'cf_lost_reason'" in str(p.reason)
               for p in admin.store.journal.parked())
    # A deletion is refused: fields are retired, never deleted.
    admin.repo("field_def").delete(rid)
    admin.sync()
    assert any("retired, never deleted" in str(p.reason) for p in admin.store.journal.parked())
    with server.engine.connect() as conn:
        defs = fields.load(conn)
    assert [d["name"] for d in defs.values()] == ["cf_lost_reason"]
    assert not defs[rid].get("deleted")
    # The rep's device gets the admin's definition, and writes the new field.
    rep.sync()
    deal = rep.repo("deal").create({"title": "丢单复盘", "cf_lost_reason": "价格"})
    rep.sync()
    admin.sync()
    assert admin.repo("deal").get(deal["id"])["cf_lost_reason"] == "价格"
