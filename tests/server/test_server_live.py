"""Live updates (SSE, long poll), several server processes on one PostgreSQL, and a
server killed between commit and reply. Real uvicorn servers on loopback ports."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from conftest import PASSWORD, Api, hlc, reset_pg, rid, serve

from server import tables as t
from server.admin import add_user, revoke_device
from server.app import create_app
from server.config import Settings
from server.push import CRASH_AFTER_COMMIT_ENV
from tests.servers import LiveServer, login, start_server


def _first_event(url: str, headers: dict[str, str], cursor: int, out: list[Any],
                 ready: threading.Event) -> None:
    with httpx.Client(timeout=10) as c, c.stream("GET", f"{url}/v1/events",
                                                  params={"cursor": cursor},
                                                  headers=headers) as r:
        out.append(r.status_code)
        ready.set()
        for line in r.iter_lines():
            if line.startswith("data:"):
                out.append((time.monotonic(), json.loads(line[5:])))
                return


def _push(url: str, tokens: dict[str, Any], device: str, seq: int, record: str) -> httpx.Response:
    entry = {"device_id": device, "seq": seq, "entity": "account", "record_id": record,
             "fields": {"name": {"value": f"N{seq}",
                                 "hlc": hlc(1_732_250_000_000 + seq, 0, device)}}}
    return httpx.post(f"{url}/v1/push", json={"entries": [entry]}, timeout=10,
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})


def test_sse_tells_listeners_about_new_versions(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    out: list[Any] = []
    ready = threading.Event()
    th = threading.Thread(target=_first_event, args=(api.url, s.headers, 0, out, ready))
    th.start()
    assert ready.wait(5) and out[0] == 200
    time.sleep(0.1)
    sent = time.monotonic()
    s.push(s.entry("account", rid(), {"name": "live"}))
    th.join(5)
    assert len(out) == 2, out
    at, msg = out[1]
    assert msg == {"version": 1}
    assert at - sent < 1.0


def test_sse_sends_at_once_when_cursor_is_behind_and_refuses_bad_tokens(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    s.push(s.entry("account", rid(), {"name": "earlier"}))
    out: list[Any] = []
    ready = threading.Event()
    _first_event(api.url, s.headers, 0, out, ready)
    assert out[1][1] == {"version": 1}
    r = api.client.get("/v1/events", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_long_poll_returns_when_a_change_lands(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    got: list[Any] = []

    def poll() -> None:
        r = httpx.get(f"{api.url}/v1/pull", params={"cursor": 0, "wait": 20}, headers=s.headers,
                      timeout=30)
        got.append((time.monotonic(), r.json()))

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.3)
    sent = time.monotonic()
    s.push(s.entry("account", rid(), {"name": "polled"}))
    th.join(10)
    at, body = got[0]
    assert [c["fields"]["name"]["value"] for c in body["changes"]] == ["polled"]
    assert at - sent < 2.0


def test_two_server_processes_on_one_postgres_notify_each_other(
        pg_url: str, pg_engine: sa.Engine, tmp_path: Path) -> None:
    reset_pg(pg_engine)
    add_user(pg_engine, "alice", "rep", PASSWORD)
    servers: list[LiveServer] = [LiveServer(tmp_path / n, pg_url, {}) for n in ("a", "b")]
    starters = [threading.Thread(target=srv.start) for srv in servers]
    for th in starters:
        th.start()
    for th in starters:
        th.join()
    a, b = servers
    try:
        on_a = login(a.url, "alice", PASSWORD, "laptop")
        on_b = login(b.url, "alice", PASSWORD, "phone")  # tokens work on either process
        out: list[Any] = []
        ready = threading.Event()
        th = threading.Thread(target=_first_event, args=(
            b.url, {"Authorization": f"Bearer {on_b['access_token']}"}, 0, out, ready))
        th.start()
        assert ready.wait(5) and out[0] == 200
        time.sleep(0.2)
        sent = time.monotonic()
        assert _push(a.url, on_a, "laptop", 1, rid()).status_code == 200
        th.join(5)
        assert len(out) == 2 and out[1][1] == {"version": 1}
        assert out[1][0] - sent < 1.0
        pulled = httpx.get(f"{b.url}/v1/pull",
                           headers={"Authorization": f"Bearer {on_b['access_token']}"}).json()
        assert len(pulled["changes"]) == 1
    finally:
        for srv in servers:
            srv.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_server_killed_between_commit_and_reply(backend: str, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    url = None
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        reset_pg(request.getfixturevalue("pg_engine"))
    trigger = tmp_path / "crash-next-push"
    srv = start_server(tmp_path / "srv", url, env={CRASH_AFTER_COMMIT_ENV: str(trigger)})
    try:
        add_user(srv.engine, "alice", "rep", PASSWORD)
        tokens = login(srv.url, "alice", PASSWORD, "laptop")
        record = rid()
        trigger.touch()
        with pytest.raises(httpx.TransportError):
            _push(srv.url, tokens, "laptop", 1, record)
        assert srv.process is not None and srv.process.wait(10) == 70
        assert not trigger.exists()
        srv.restart()
        retry = _push(srv.url, tokens, "laptop", 1, record)
        assert retry.status_code == 200
        res = retry.json()["results"][0]
        assert res["status"] == "duplicate" and res["original_status"] == "applied"
        assert retry.json()["version"] == 1
        with srv.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar_one() == 1
            assert conn.execute(sa.select(t.counter.c.version)).scalar_one() == 1
    finally:
        srv.close()


def test_sse_stream_ends_when_the_device_is_revoked(engine: sa.Engine, db_url: str,
                                                    tmp_path: Path) -> None:
    # The default keep-alive period (15 s): the revoke is noticed apart from it.
    app = create_app(Settings(tmp_path / "sse", db_url), engine=engine)
    with serve(app, engine) as api:
        api.user("alice")
        s = api.login("alice")
        ended: list[float] = []

        def listen() -> None:
            with httpx.Client(timeout=10) as c, c.stream("GET", f"{api.url}/v1/events",
                                                          headers=s.headers) as r:
                for _line in r.iter_lines():
                    pass
            ended.append(time.monotonic())

        th = threading.Thread(target=listen)
        th.start()
        time.sleep(0.5)
        assert not ended
        revoked_at = time.monotonic()
        revoke_device(engine, s.device_id)
        th.join(5)
        assert ended and ended[0] - revoked_at <= 1.0, ended[0] - revoked_at if ended else None
