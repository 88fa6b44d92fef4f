"""The server's duplicate check (issue 15): the team's book as a whole, on SQLite and
PostgreSQL, through the real loopback server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Api, Session, rid, serve

from server import duplicates
from server.app import create_app
from server.config import Settings


def _pairs(s: Session, entity: str = "account", **params: Any) -> dict[str, Any]:
    r = s.client.get("/v1/duplicates", params={"entity": entity, **params}, headers=s.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _team(api: Api) -> tuple[Session, Session, Session, Session]:
    api.user("anna", "rep", ("north",))
    api.user("bo", "rep", ("south",))
    api.user("chen", "manager", ("north", "south"))
    api.user("dora", "rep", ("west",))
    return api.login("anna"), api.login("bo"), api.login("chen"), api.login("dora")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_two_reps_same_customer_manager_sees_the_pair(api: Api) -> None:
    anna, bo, chen, dora = _team(api)
    a, b, other = rid(), rid(), rid()
    anna.push(anna.entry("account", a, {"name": "深圳市腾讯计算机系统有限公司"}))
    bo.push(bo.entry("account", b, {"name": "腾讯计算机系统（深圳）有限公司"}))
    dora.push(dora.entry("account", other, {"name": "腾达建材（深圳）有限公司"}))

    seen = _pairs(chen)
    assert seen["pending"] == 0
    assert [(p["a"], p["b"]) for p in seen["pairs"]] == [tuple(sorted((a, b)))]
    pair = seen["pairs"][0]
    assert pair["reasons"] == ["name"] and pair["score"] >= 92
    assert {pair["a_name"], pair["b_name"]} == {"深圳市腾讯计算机系统有限公司",
                                                "腾讯计算机系统（深圳）有限公司"}
    # Each rep sees only one of the two records: the pair is not theirs to see.
    assert _pairs(anna)["pairs"] == [] and _pairs(bo)["pairs"] == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_changed_phone_or_a_deletion_ends_the_pair_and_dismissal_sticks(api: Api) -> None:
    anna, _bo, chen, _dora = _team(api)
    x, y, z = rid(), rid(), rid()
    anna.push(anna.entry("account", x, {"name": "Acme Robotics", "phone": "+86 138 0013 8000"}),
              anna.entry("account", y, {"name": "Blue Harbour Foods", "phone": "13800138000"}),
              anna.entry("account", z, {"name": "Northwind Traders Co., Ltd."}))
    assert [p["reasons"] for p in _pairs(chen)["pairs"]] == [["phone"]]

    anna.push(anna.entry("account", y, {"phone": "13900139000"}))
    assert _pairs(chen)["pairs"] == []

    w = rid()
    anna.push(anna.entry("account", w, {"name": "Northwind Traders Limited"}))
    (pair,) = _pairs(chen)["pairs"]
    r = chen.client.post("/v1/duplicates/dismiss", json={"entity": "account", "a": pair["b"],
                                                          "b": pair["a"]}, headers=chen.headers)
    assert r.status_code == 200, r.text
    anna.push(anna.entry("account", w, {"phone": "+49 30 1234567"}))  # checked again
    assert _pairs(chen)["pairs"] == []
    assert len(_pairs(chen, include_dismissed="true")["pairs"]) == 1

    anna.push(anna.entry("account", x, {"phone": "13900139000"}))
    assert len(_pairs(chen)["pairs"]) == 1
    anna.push(anna.entry("account", x, {"deleted": True}))
    assert _pairs(chen)["pairs"] == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_contacts_by_mobile_and_by_name_within_one_account(api: Api) -> None:
    anna, _bo, chen, _dora = _team(api)
    acc1, acc2 = rid(), rid()
    c1, c2, c3, c4 = rid(), rid(), rid(), rid()
    anna.push(anna.entry("account", acc1, {"name": "星辰科技"}),
              anna.entry("account", acc2, {"name": "华信贸易"}),
              anna.entry("contact", c1, {"name": "张伟", "account_id": acc1}),
              anna.entry("contact", c2, {"name": "张 伟", "account_id": acc1}),
              anna.entry("contact", c3, {"name": "张伟", "account_id": acc2}),
              anna.entry("contact", c4, {"name": "Li Na", "phones": ["13912345678"],
                                         "account_id": acc2}))
    got = {(p["a"], p["b"]): p["reasons"] for p in _pairs(chen, "contact")["pairs"]}
    assert got == {tuple(sorted((c1, c2))): ["name"]}  # 张伟 at another account is another man
    c5 = rid()
    anna.push(anna.entry("contact", c5, {"name": "Lina Wang", "phones": ["+86 139 1234 5678"]}))
    got = {(p["a"], p["b"]): p["reasons"] for p in _pairs(chen, "contact")["pairs"]}
    assert got[tuple(sorted((c4, c5)))] == ["phone"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_dismissing_a_pair_one_cannot_see_is_refused(api: Api) -> None:
    anna, bo, chen, _dora = _team(api)
    a, b = rid(), rid()
    anna.push(anna.entry("account", a, {"name": "Contoso Ltd"}))
    bo.push(bo.entry("account", b, {"name": "Contoso Limited"}))
    assert len(_pairs(chen)["pairs"]) == 1
    r = anna.client.post("/v1/duplicates/dismiss", json={"entity": "account", "a": a, "b": b},
                         headers=anna.headers)
    assert r.status_code == 404 and r.json()["detail"]["code"] == "not_found"
    assert len(_pairs(chen)["pairs"]) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_admins_threshold_rule_is_used(api: Api) -> None:
    api.user("root", "admin")
    root = api.login("root")
    a, b = rid(), rid()
    root.push(root.entry("account", a, {"name": "Globex Industrial Supplies"}),
              root.entry("account", b, {"name": "Globex Industrial Supply Co"}))
    assert len(_pairs(root)["pairs"]) == 1
    root.push(root.entry("dedupe_rule", rid(), {"entity": "account", "threshold": 99.5,
                                                "action": "warn", "active": True}))
    root.push(root.entry("account", b, {"phone": None}))  # the record is checked again
    assert _pairs(root)["pairs"] == []


def test_checked_in_the_background_without_anyone_asking(tmp_path: Path) -> None:
    app = create_app(Settings(tmp_path / "srv", dedupe_interval_s=0.2))
    engine: sa.Engine = app.state.engine
    with serve(app, engine) as api:
        api.user("anna", "rep")
        anna = api.login("anna")
        anna.push(anna.entry("account", rid(), {"name": "Initech LLC", "phone": "+1 212 555 0100"}),
                  anna.entry("account", rid(), {"name": "Initrode", "phone": "+1 (212) 555-0100"}))
        deadline = time.monotonic() + 20
        while duplicates.pending(engine) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert duplicates.pending(engine) == 0
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM dedupe_pairs")).scalar_one()
        assert n == 1
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_server_cli_lists_every_pair(api: Api, db_url: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import main

    anna, bo, _chen, _dora = _team(api)
    a, b = rid(), rid()
    anna.push(anna.entry("account", a, {"name": "Umbrella Pharma GmbH"}))
    bo.push(bo.entry("account", b, {"name": "UMBRELLA PHARMA"}))
    capsys.readouterr()
    rc = main(["duplicates", "list", "--json", "--data", str(tmp_path / "d"),
               "--database-url", db_url])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["pending"] == 0
    assert [(p["a"], p["b"]) for p in out["pairs"]] == [tuple(sorted((a, b)))]


def test_background_batches_shrink_when_slow_and_grow_back() -> None:
    # A batch holds the write lock a push waits for: one that ran 10x too long makes the
    # next ten times smaller at once; quick batches double back up to the full size.
    target = duplicates.Checker.BATCH_S
    assert duplicates.next_batch_size(duplicates.BATCH, target * 10, target) \
        == duplicates.BATCH // 10
    assert duplicates.next_batch_size(3, target * 100, target) == 1
    size = 1
    for _ in range(12):
        size = duplicates.next_batch_size(size, target / 4, target)
    assert size == duplicates.BATCH
    assert duplicates.next_batch_size(50, target * 0.8, target) == 50


def test_the_background_check_outlives_a_database_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A deadlock with another writer (seen on PostgreSQL) comes from the driver's own
    cursor, unwrapped: the checker logs it and goes on at its next turn, never dies."""
    import sqlite3

    from server.db import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    calls: list[int] = []

    def flaky_batch(_engine: sa.Engine, _size: int) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("deadlock detected")
        return 0

    monkeypatch.setattr(duplicates, "_one_batch", flaky_batch)
    monkeypatch.setattr(duplicates.Checker, "QUIET_S", 0.0)
    checker = duplicates.Checker(engine, 0.01)
    checker.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(calls) >= 3 and checker._thread is not None and checker._thread.is_alive()
    finally:
        checker.stop()
        engine.dispose()
    assert any("duplicate check paused" in r.getMessage() for r in caplog.records)
