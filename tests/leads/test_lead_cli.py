"""`fieldcrm lead ...` with --json, offline on one profile: add, list, contact, claim
refusals, convert (through the duplicate check), show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop import cli
from desktop.store import Store


def run(capsys: pytest.CaptureFixture[str], profile: Path, *argv: str) -> tuple[int, Any, str]:
    code = cli.main(["--profile", str(profile), *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() and "--json" in argv else out, err


def test_lead_commands_offline(capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    with Store.open(profile) as store:
        store.set_user("ann")
        acc = store.repo("account").create({"name": "北京星河科技有限公司"})
    code, lead, _ = run(capsys, profile, "lead", "add", "--name", "王芳", "--phone",
                        "13812345678", "--company", "星河科技（北京）有限公司", "--budget", "50000",
                        "--json")
    assert code == 0 and lead["status"] == "new" and lead.get("owner") is None
    code, err_out, err = run(capsys, profile, "lead", "add", "--name", "无联系方式", "--json")
    assert code == 2 and "phone or an email" in err
    code, listed, _ = run(capsys, profile, "lead", "list", "--json")
    assert [r["id"] for r in listed] == [lead["id"]]
    code, _, err = run(capsys, profile, "lead", "claim", lead["id"], "--json")
    assert code == 2 and "pool" in err  # not a pool lead
    code, _, err = run(capsys, profile, "lead", "release", lead["id"], "--json")
    assert code == 2 and "owner" in err
    code, done, _ = run(capsys, profile, "lead", "contact", lead["id"], "--outcome", "no_answer",
                        "--at", "2026-12-05T01:00:00Z", "--json")
    assert (done["attempts"], done["last_outcome"], done["first_contact_at"]) == (
        1, "no_answer", "2026-12-05T01:00:00Z")
    code, done, _ = run(capsys, profile, "lead", "contact", lead["id"], "--outcome", "reached",
                        "--json")
    assert (done["attempts"], done["status"]) == (2, "contacted")
    assert done["first_contact_at"] == "2026-12-05T01:00:00Z"
    code, conv, _ = run(capsys, profile, "lead", "convert", lead["id"], "--json")
    assert code == 0 and conv["account_id"] == acc["id"] and conv["account_linked"]
    code, shown, _ = run(capsys, profile, "lead", "show", lead["id"], "--json")
    assert (shown["status"], shown["deal_id"]) == ("converted", conv["deal_id"])
    code, _, err = run(capsys, profile, "lead", "convert", lead["id"], "--json")
    assert code == 2 and "already converted" in err
    with Store.open(profile) as store:
        calls = store.repo("activity").find(kind="call")
        assert [c["outcome"] for c in calls] == ["no_answer", "reached"]
        assert store.repo("deal").get(conv["deal_id"])["amount"] == 50000


def test_an_admin_edits_the_assignment_rules_on_the_device(store: Store) -> None:
    from desktop.errors import ValidationError
    from desktop.leads import service

    made = service.save_rules(store, [
        {"name": "north", "regions": ["north"], "team": "north"},
        {"name": "big", "min_budget": 1e6, "reps": ["cy"]}])
    assert [(r["name"], r["position"]) for r in made] == [("north", 0), ("big", 1)]
    big = made[1]
    again = service.save_rules(store, [{**big, "max_budget": 5e6}])  # reorder, drop north
    assert [(r["id"], r["position"], r["max_budget"]) for r in again] == [(big["id"], 0, 5e6)]
    assert store.repo("lead_rule").count() == 1
    for bad in ([{"name": ""}], [{"name": "x", "team": "t"}, {"name": "x", "team": "t"}],
                [{"name": "nobody"}]):
        with pytest.raises(ValidationError):
            service.save_rules(store, bad)
    pending = {e.entity for e in store.journal.pending(limit=100)}
    assert "lead_rule" in pending  # it travels to the server like any admin record
