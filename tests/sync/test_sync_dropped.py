"""Dropped and stalled connections (issue 27): requests cut part-way, responses cut
part-way, stalled bodies and stalled replies, on push, pull, the event stream, blobs and
login, on SQLite and PostgreSQL. The server's log is captured: a dropped client is one
info line, never a traceback or an error; no answer is a 5xx; the devices converge; a
cut blob upload resumes from the bytes that arrived."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from desktop.sync import client as client_mod
from desktop.sync import session
from desktop.sync.auth import load_account
from desktop.sync.client import SyncClient
from desktop.sync.engine import SyncEngine
from desktop.sync.errors import OfflineError, ServerNotAnsweringError
from desktop.sync.status import State
from server.admin import add_user
from server.app import create_app
from server.config import Settings
from server.db import open_database
from tests.servers import serve_app_in_thread
from tests.sync.conftest import PASSWORD, Device, reset_pg, snapshot
from tests.sync.faults import FaultProxy
from tests.sync.test_sync_faults import server_state

BODY_IDLE_S = 0.5  # the server ends a body that stalls this long (production: 30 s)
CLIENT_TIMEOUT = httpx.Timeout(2.0, connect=2.0)


class LogCapture(logging.Handler):
    """Every record of the server process's loggers (uvicorn's do not propagate)."""

    LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._levels: dict[str, int] = {}

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        self.records.append(record)
        return True

    def __enter__(self) -> LogCapture:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)
        server_log = logging.getLogger("server")
        self._levels["server"] = server_log.level
        server_log.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)
        logging.getLogger("server").setLevel(self._levels["server"])

    def dropped_lines(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.name == "server.connections"]

    def problems(self) -> list[str]:
        """Errors, warnings from the server, and anything carrying a traceback."""
        out = []
        for r in self.records:
            text = r.getMessage()
            if (r.exc_info or r.levelno >= logging.ERROR or "Traceback" in text
                    or "Exception in ASGI" in text
                    or (r.levelno >= logging.WARNING and r.name.startswith(("server", "uvicorn")))):
                out.append(f"{r.name} {r.levelname}: {text[:300]}")
        return out


class StatusRecorder:
    """ASGI wrapper outside the whole app: every status the server answered."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.statuses: list[tuple[str, int]] = []
        self.state = app.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append((scope.get("path", ""), message["status"]))
            await send(message)

        await self.app(scope, receive, recording_send)

    def server_errors(self) -> list[tuple[str, int]]:
        return [s for s in self.statuses if s[1] >= 500]


@dataclass
class Flaky:
    url: str
    engine: sa.Engine
    recorder: StatusRecorder
    log: LogCapture
    data_dir: Path
    proxies: list[FaultProxy] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)

    def proxy(self) -> FaultProxy:
        host, port = self.url.removeprefix("http://").split(":")
        p = FaultProxy((host, int(port)))
        self.proxies.append(p)
        return p

    def device(self, name: str, url: str | None = None) -> Device:
        d = Device(self.data_dir.parent / f"dev-{name}", url or self.url)
        self.devices.append(d)
        d.login("alice")
        return d

    def assert_clean(self) -> None:
        assert self.log.problems() == []
        assert self.recorder.server_errors() == []


@pytest.fixture
def flaky(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flaky]:
    if backend == "postgresql":
        engine: sa.Engine = request.getfixturevalue("pg_engine")
        reset_pg(engine)
        url: str | None = str(request.getfixturevalue("pg_url"))
    else:
        url = None
        engine = open_database(f"sqlite:///{tmp_path / 'srv' / 'server.db'}")
    data = tmp_path / "srv"
    app = create_app(Settings(data, url, body_idle_s=BODY_IDLE_S), engine=engine)
    add_user(engine, "alice", "rep", PASSWORD)
    recorder = StatusRecorder(app)
    with serve_app_in_thread(recorder) as ts, LogCapture() as log:
        f = Flaky(ts.url, engine, recorder, log, data)
        try:
            yield f
        finally:
            for d in f.devices:
                d.close()
            for p in f.proxies:
                p.close()
    if backend == "sqlite":
        engine.dispose()


def wait_for(cond: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def sync_engine(d: Device) -> SyncEngine:
    return SyncEngine(d.profile, live=False, timeout=CLIENT_TIMEOUT)


# ---------------------------------------------------------------------------- push
@pytest.mark.parametrize("fate", ["cut_request", "cut_response", "stall_request", "stall_response"])
def test_push_survives_every_fate_without_applying_twice(flaky: Flaky, fate: str) -> None:
    proxy = flaky.proxy()
    a = flaky.device("a", proxy.url)
    b = flaky.device("b")
    eng = sync_engine(a)
    try:
        ids = [a.repo("account").create({"name": f"断线客户{i}", "region": "杭州"})["id"]
               for i in range(5)]
        proxy.fate(fate, r"^/v1/push$", method="POST", cut_bytes=120)
        expected = ServerNotAnsweringError if fate == "stall_response" else OfflineError
        with pytest.raises(expected):
            eng.sync_once()
        assert proxy.fated == ["POST /v1/push"]
        assert a.store.journal.counts()["pending"] == 5  # nothing acknowledged locally
        applied = server_state(flaky.engine)[:2]
        # A cut or stalled request applies nothing; a cut reply comes after the commit.
        assert applied == ((0, 0) if fate.endswith("_request") else (5, 5))
        if fate == "stall_request":
            assert proxy.stall_answers[0].startswith(b"HTTP/1.1 408"), proxy.stall_answers
            assert b'"request_timeout"' in proxy.stall_answers[0]
        if fate.endswith("_request"):
            wait_for(lambda: any("POST /v1/push" in m for m in flaky.log.dropped_lines()))
            line = next(m for m in flaky.log.dropped_lines() if "POST /v1/push" in m)
            assert "alice/" in line and "120 of" in line
        eng.sync_once()
        assert a.store.journal.counts()["pending"] == 0
        assert server_state(flaky.engine)[:2] == (5, 5)  # nothing applied twice
        b.sync()
        assert snapshot(a.store) == snapshot(b.store)
        assert b.repo("account").get(ids[0])["name"] == "断线客户0"
    finally:
        eng.close()
    flaky.assert_clean()


# ---------------------------------------------------------------------------- pull
@pytest.mark.parametrize("fate", ["cut_response", "stall_response"])
def test_pull_cut_or_stalled_then_converges(flaky: Flaky, fate: str) -> None:
    proxy = flaky.proxy()
    b = flaky.device("b")
    for i in range(300):  # a reply big enough to be cut in its middle
        b.repo("contact").create({"name": f"联系人{i}", "title": "采购经理" * 5})
    b.sync()
    a = flaky.device("a", proxy.url)
    eng = sync_engine(a)
    try:
        proxy.fate(fate, r"^/v1/pull$", cut_bytes=5000)
        with pytest.raises(ServerNotAnsweringError if fate == "stall_response" else OfflineError):
            eng.sync_once()
        assert proxy.fated == ["GET /v1/pull"]
        eng.sync_once()
        assert snapshot(a.store, ("contact",)) == snapshot(b.store, ("contact",))
    finally:
        eng.close()
    flaky.assert_clean()


def test_long_poll_left_by_its_client_ends_at_once_with_one_line(flaky: Flaky) -> None:
    a = flaky.device("a")
    eng = sync_engine(a)
    eng.sync_once()
    account = load_account(a.store)
    assert account is not None
    client = SyncClient(flaky.url, a.store.device_id, refresh_token=account.load_token(),
                        on_refresh_token=account.save_token, timeout=httpx.Timeout(0.3))
    try:
        started = time.monotonic()
        with pytest.raises(ServerNotAnsweringError):
            client.request("GET", "/v1/pull", params={"cursor": 10**9, "wait": 30})
        wait_for(lambda: any("GET /v1/pull" in m for m in flaky.log.dropped_lines()), 5)
        assert time.monotonic() - started < 5  # not after the 30 s wait
    finally:
        client.close()
        eng.close()
    flaky.assert_clean()


# ---------------------------------------------------------------------------- events
@pytest.mark.parametrize("fate", ["cut_response", "stall_response"])
def test_event_stream_cut_or_stalled(
    flaky: Flaky, fate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_mod, "EVENTS_READ_TIMEOUT_S", 1.0)
    proxy = flaky.proxy()
    a = flaky.device("a", proxy.url)
    account = load_account(a.store)
    assert account is not None
    client = SyncClient(proxy.url, a.store.device_id, refresh_token=account.load_token(),
                        on_refresh_token=account.save_token, timeout=CLIENT_TIMEOUT)
    stop = threading.Event()
    try:
        proxy.fate(fate, r"^/v1/events$", cut_bytes=0)
        client.me()  # passes (each request on its own connection from now on)
        with pytest.raises(ServerNotAnsweringError if fate == "stall_response" else OfflineError):
            for _ in client.events(0, stop):
                pass
        assert proxy.fated == ["GET /v1/events"]
        wait_for(lambda: any("GET /v1/events" in m for m in flaky.log.dropped_lines()))
        # The stream works again once the link does, and tells of a new change. The 1 s
        # read timeout was for the stalled stream: here it would also cut a healthy one
        # while b's sync is slower than a second (seen in CI: a loaded machine, PostgreSQL),
        # since the server pings only every 15 s.
        monkeypatch.setattr(client_mod, "EVENTS_READ_TIMEOUT_S", 10.0)
        b = flaky.device("b")
        got: list[int | None] = []

        def listen() -> None:
            for version in client.events(0, stop):
                got.append(version)
                if version:
                    stop.set()

        th = threading.Thread(target=listen, daemon=True)
        th.start()
        wait_for(lambda: got)
        b.repo("account").create({"name": "实时"})
        b.sync()
        th.join(10)
        assert any(v for v in got)
    finally:
        stop.set()
        client.close()
    flaky.assert_clean()


# ---------------------------------------------------------------------------- blobs
@pytest.mark.parametrize("fate", ["cut_request", "stall_request"])
def test_cut_blob_upload_resumes_from_what_arrived(flaky: Flaky, fate: str) -> None:
    proxy = flaky.proxy()
    a = flaky.device("a", proxy.url)
    photo = os.urandom(300_000)
    sha = a.store.blobs.put_bytes(photo)
    a.repo("attachment").create({"sha256": sha, "file_name": "合同第1页.jpg", "size": len(photo)})
    eng = sync_engine(a)
    try:
        proxy.fate(fate, r"^/v1/blobs/", method="PUT", cut_bytes=100_000)
        with pytest.raises(OfflineError):
            eng.sync_once()
        parts = list((flaky.data_dir / "blobs" / "parts").glob(f"{sha}.*"))
        assert len(parts) == 1
        kept = parts[0].stat().st_size
        assert 0 < kept <= 100_000
        wait_for(lambda: any("PUT /v1/blobs/" in m for m in flaky.log.dropped_lines()))
        proxy.heads.clear()
        eng.sync_once()
        puts = [h for h in proxy.heads if h.startswith(b"PUT ")]
        assert len(puts) == 1
        assert (f"content-range: bytes {kept}-{len(photo) - 1}/{len(photo)}".encode()
                in puts[0].lower())
        assert a.store.journal.counts()["pending"] == 0
        # Another device downloads it through a link that cuts the first download.
        proxy_b = flaky.proxy()
        b = flaky.device("b", proxy_b.url)
        eng_b = sync_engine(b)
        try:
            proxy_b.fate("cut_response", r"^/v1/blobs/", method="GET", cut_bytes=50_000)
            with pytest.raises(OfflineError):
                eng_b.sync_once()
            assert proxy_b.fated == [f"GET /v1/blobs/{sha}"]
            eng_b.sync_once()
        finally:
            eng_b.close()
        assert b.store.blobs.read(sha) == photo
        assert snapshot(a.store, ("attachment",)) == snapshot(b.store, ("attachment",))
    finally:
        eng.close()
    flaky.assert_clean()


def test_oversized_blob_is_refused_before_it_is_read(flaky: Flaky) -> None:
    a = flaky.device("a")
    eng = sync_engine(a)
    eng.sync_once()
    account = load_account(a.store)
    assert account is not None
    client = SyncClient(flaky.url, a.store.device_id, refresh_token=account.load_token(),
                        on_refresh_token=account.save_token, timeout=CLIENT_TIMEOUT)
    try:
        token = client._access_token()
        # Announce 600 MB, send 10 bytes of it: the answer comes without waiting for more.
        host, port = flaky.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(f"PUT /v1/blobs/{'ab' * 32} HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: Bearer {token}\r\n"
                         f"Content-Length: {600 * 1024 * 1024}\r\n\r\n".encode() + b"x" * 10)
            answer = b""
            while b"}}" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        assert json.loads(body)["detail"]["code"] == "too_large"
        assert not list((flaky.data_dir / "blobs" / "parts").glob("abab*"))
    finally:
        client.close()
        eng.close()
    flaky.assert_clean()


# ---------------------------------------------------------------------------- login
def test_login_cut_part_way_then_succeeds(flaky: Flaky) -> None:
    proxy = flaky.proxy()
    profile = flaky.data_dir.parent / "dev-login"
    proxy.fate("cut_request", r"^/v1/auth/login$", cut_bytes=20)
    with pytest.raises(OfflineError):
        session.login(profile, proxy.url, "alice", PASSWORD)
    wait_for(lambda: any("POST /v1/auth/login" in m for m in flaky.log.dropped_lines()))
    session.login(profile, proxy.url, "alice", PASSWORD)
    flaky.assert_clean()


def test_stalled_server_shows_not_answering_and_never_blocks(flaky: Flaky) -> None:
    """The sync loop runs on its own thread: a server that goes silent mid-reply ends in
    the "not answering" state within the request timeout, and the loop can be stopped."""
    proxy = flaky.proxy()
    a = flaky.device("a", proxy.url)
    a.repo("account").create({"name": "沉默的服务器"})
    proxy.fate("stall_response", r"^/v1/push$", times=100)
    eng = SyncEngine(a.profile, live=False, timeout=httpx.Timeout(0.5, connect=0.5))
    th = threading.Thread(target=eng.run, daemon=True)
    th.start()
    try:
        wait_for(lambda: eng.status().state is State.NOT_ANSWERING, 10)
        assert "not answering" in eng.status().message
    finally:
        eng.stop()
        th.join(10)
    assert not th.is_alive()
    eng.close()
    flaky.assert_clean()


def test_a_request_timeout_from_the_server_is_a_slow_link_not_a_failure() -> None:
    """408 request_timeout (the server gave up reading a slow body, server.connections)
    says "send it again": the engine keeps the journal and retries, like a silent server."""
    import httpx

    from desktop.sync.client import SyncClient
    from desktop.sync.errors import ServerNotAnsweringError as NotAnswering

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(408, json={"detail": {"code": "request_timeout", "message":
                                                    "The request body arrived too slowly."}})

    client = SyncClient("http://127.0.0.1:9", "dev-a", refresh_token="r",
                        transport=httpx.MockTransport(answer))
    with pytest.raises(NotAnswering):
        client.request("POST", "/v1/push", json_body={"entries": []})
    with pytest.raises(NotAnswering):
        client.put_blob("0" * 64, b"x")
