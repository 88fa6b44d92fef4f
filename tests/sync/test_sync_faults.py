"""Replies lost after the server committed, a server that dies between commit and reply,
and a flaky network (delay, reset, black hole): no edit lost, none applied twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from desktop.sync.engine import SyncEngine
from desktop.sync.errors import OfflineError
from server import tables as t
from server.admin import add_user
from server.push import CRASH_AFTER_COMMIT_ENV
from tests.servers import start_server
from tests.sync.conftest import PASSWORD, Device, Server, reset_pg, snapshot
from tests.sync.faults import FaultProxy, LoseReplies


def server_state(engine: sa.Engine) -> tuple[int, int, int]:
    """(records, processed entries, version counter) on the server."""
    with engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(t.processed)).scalar_one(),
                conn.execute(sa.select(t.counter.c.version)).scalar_one())


def test_push_and_pull_replies_lost_after_commit(server: Server, devices: Any) -> None:
    server.user("alice")
    lose = {"push": 1, "pull": 0}

    def pick(req: httpx.Request) -> bool:
        for kind in lose:
            if req.url.path == f"/v1/{kind}" and lose[kind] > 0:
                lose[kind] -= 1
                return True
        return False

    transport = LoseReplies(pick)
    a = devices("a", transport)
    a.login("alice")
    ids = [a.repo("account").create({"name": f"客户{i}"})["id"] for i in range(3)]
    a.repo("account").update(ids[0], {"industry": "一"})
    with pytest.raises(OfflineError):
        a.sync()
    assert transport.lost == ["/v1/push"]
    assert a.store.journal.counts()["pending"] == 4  # nothing acknowledged locally
    after_commit = server_state(server.engine)
    assert after_commit[:2] == (3, 4)
    lose["pull"] = 1
    with pytest.raises(OfflineError):
        a.sync()  # the retry is answered "duplicate"; then the pull reply is lost
    assert a.store.journal.counts()["pending"] == 0
    assert server_state(server.engine) == after_commit  # nothing applied twice
    a.sync()
    assert server_state(server.engine) == after_commit
    b = devices("b")
    b.login("alice")
    b.sync()
    assert snapshot(a.store) == snapshot(b.store)
    assert b.repo("account").get(ids[0])["industry"] == "一"


def test_through_a_flaky_network(server: Server, tmp_path: Path) -> None:
    server.user("alice")
    host, port = server.url.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)))
    a = Device(tmp_path / "a", proxy.url)
    try:
        a.login("alice")
        eng = SyncEngine(a.profile, live=False)  # the app's timeouts
        made = [a.repo("account").create({"name": f"网{i}"})["id"] for i in range(3)]
        proxy.delay_s = 0.02
        proxy.set_mode("delay")
        assert eng.sync_once().pushed == 3
        for mode in ("reset", "blackhole"):
            a.repo("account").update(made[0], {"industry": mode})
            proxy.set_mode(mode)
            # a short wait for the silent network; the recovery below keeps the app's
            # own (a loaded machine's push can take longer than one second)
            faulty = SyncEngine(a.profile, live=False,
                                timeout=httpx.Timeout(1.0, connect=1.0))
            with pytest.raises(OfflineError):
                faulty.sync_once()
            faulty.close()
            assert a.store.journal.counts()["pending"] == 1
            proxy.set_mode("pass")
            eng.sync_once()
            assert a.store.journal.counts()["pending"] == 0
        records, processed, _ = server_state(server.engine)
        assert (records, processed) == (3, 5)
        eng.close()
    finally:
        a.close()
        proxy.close()


def test_server_dies_between_commit_and_reply(backend: str, tmp_path: Path,
                                              request: pytest.FixtureRequest) -> None:
    url = None
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        reset_pg(request.getfixturevalue("pg_engine"))
    flag = tmp_path / "crash-once"
    srv = start_server(tmp_path / "srv", url, env={CRASH_AFTER_COMMIT_ENV: str(flag)})
    try:
        add_user(srv.engine, "alice", "rep", PASSWORD)
        a = Device(tmp_path / "a", srv.url)
        a.login("alice")
        for i in range(5):
            a.repo("account").create({"name": f"崩溃{i}"})
        flag.touch()
        with pytest.raises(OfflineError):
            a.sync()
        assert not flag.exists()  # the server did die right after its commit
        assert srv.process is not None and srv.process.wait(10) == 70
        committed = server_state(srv.engine)
        assert committed[:2] == (5, 5)
        assert a.store.journal.counts()["pending"] == 5
        srv.restart()
        a.sync()
        assert a.store.journal.counts()["pending"] == 0
        assert server_state(srv.engine) == committed
        a.close()
    finally:
        srv.close()
