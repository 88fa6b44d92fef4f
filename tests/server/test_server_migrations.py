"""Server migrations from each earlier revision to head, with data in place, on SQLite and
PostgreSQL: a database left at revision N (users, a team, a device, records, the
at-most-once ledger, the counter) is upgraded the way a new server does at start, then
a real server on it lets the user sign in, pull every record unchanged, and answers a
replayed journal entry as a duplicate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from conftest import PASSWORD, hlc, serve

from server.app import create_app
from server.auth import hash_password
from server.config import Settings
from server.db import MIGRATIONS_DIR, make_engine, migrate, write_tx
from server.health import head_revision
from tests.servers import create_pg_database, drop_pg_database

NOW = "2026-11-22T04:15:08Z"
EARLIER = [r.revision for r in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()
           if r.revision != head_revision()]


def _upgrade_to(engine: sa.Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with write_tx(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _fields(values: dict[str, str], ms: int) -> str:
    return json.dumps({k: {"value": v, "hlc": hlc(ms, 0, "laptop")} for k, v in values.items()})


RECORDS = [("account", "0190b2a4-0000-7000-8000-000000000001", {"name": "华为技术"}),
           ("account", "0190b2a4-0000-7000-8000-000000000002", {"name": "Acme GmbH"}),
           ("contact", "0190b2a4-0000-7000-8000-000000000003", {"name": "王芳",
                                                                 "phone": "13800138000"})]


def _fill(engine: sa.Engine) -> None:
    """Data written with the tables and columns of revision 0001 (every later one keeps them)."""
    with write_tx(engine) as conn:
        x = conn.execute
        x(sa.text("INSERT INTO teams (name, created_at) VALUES ('north', :t)"), {"t": NOW})
        x(sa.text("INSERT INTO users (id, username, password_hash, role, disabled, created_at) "
                  "VALUES ('u1', 'alice', :h, 'rep', false, :t)"),
          {"h": hash_password(PASSWORD), "t": NOW})
        x(sa.text("INSERT INTO team_members (team, user_id) VALUES ('north', 'u1')"))
        x(sa.text("INSERT INTO devices (id, user_id, name, gen, logged_out, created_at) "
                  "VALUES ('laptop', 'u1', 'laptop', 0, false, :t)"), {"t": NOW})
        for i, (entity, rid, values) in enumerate(RECORDS, start=1):
            x(sa.text("INSERT INTO records (entity, record_id, owner, created_by, fields, "
                      "version, origin_device, updated_at) VALUES (:e, :r, 'alice', 'alice', "
                      ":f, :v, 'laptop', :t)"),
              {"e": entity, "r": rid, "f": _fields(values, 1_732_250_000_000 + i), "v": i,
               "t": NOW})
            x(sa.text("INSERT INTO processed (device_id, seq, status, reason, superseded, "
                      "version, created_at) VALUES ('laptop', :s, 'applied', NULL, '[]', :v, "
                      ":t)"), {"s": i, "v": i, "t": NOW})
        x(sa.text("UPDATE counter SET version = 3"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    url = create_pg_database("fieldcrm_migrate")
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.mark.parametrize("start", EARLIER)
def test_upgrade_from_each_earlier_revision_keeps_the_data(empty_db: str, start: str,
                                                           tmp_path: Path) -> None:
    engine = make_engine(empty_db)
    try:
        _upgrade_to(engine, start)
        _fill(engine)
        migrate(engine)  # what the server does at start
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")
                                ).scalar_one() == head_revision()
        app = create_app(Settings(tmp_path / "srv", empty_db, leads_interval_s=0,
                                  dedupe_interval_s=0), engine=engine)
        with serve(app, engine) as api:
            assert api.client.get("/v1/ready").status_code == 200
            s = api.login("alice", "laptop")
            page = s.pull()
            got = {(c["entity"], c["record_id"]): {k: v["value"] for k, v in c["fields"].items()
                                                   if k in ("name", "phone")}
                   for c in page["changes"]}
            assert got == {(e, r): v for e, r, v in RECORDS}
            replay = s.entry("account", RECORDS[0][1], {"name": "华为技术"}, seq=1,
                             stamp=hlc(1_732_250_000_001, 0, "laptop"))
            assert s.push(replay)["results"][0]["status"] == "duplicate"
            s.seq = 3
            fresh = s.push(s.entry("account", RECORDS[1][1], {"name": "Acme AG"}))
            assert fresh["results"][0]["status"] == "applied"
    finally:
        engine.dispose()


def test_the_earlier_revisions_reach_back_to_the_first() -> None:
    assert EARLIER[-1] == "0001" and len(EARLIER) >= 7 and head_revision() not in EARLIER


def test_0011_gives_the_leads_the_webhook_worker_follows_their_marks(empty_db: str) -> None:
    """A lead the worker saw before 0011 is not announced as assigned again after it."""
    engine = make_engine(empty_db)
    lead = "0190b2a4-0000-7000-8000-000000000009"
    try:
        _upgrade_to(engine, "0010")
        with write_tx(engine) as conn:
            conn.execute(sa.text(
                "INSERT INTO records (entity, record_id, owner, created_by, fields, version, "
                "origin_device, updated_at) VALUES ('lead', :r, 'ann', 'admin', :f, 1, "
                "'server', :t)"), {"r": lead, "t": NOW, "f": _fields(
                    {"name": "赵六", "owner": "ann", "escalation": "reminded"}, 1)})
            conn.execute(sa.text("INSERT INTO webhook_state (entity, record_id, deleted, stage) "
                                 "VALUES ('lead', :r, false, NULL)"), {"r": lead})
        migrate(engine)
        with engine.connect() as conn:
            marks = conn.execute(sa.text("SELECT marks FROM webhook_state")).scalar_one()
        assert json.loads(marks) == {"escalation": "reminded", "owner": "ann"}
    finally:
        engine.dispose()
