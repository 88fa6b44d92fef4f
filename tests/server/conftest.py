"""Fixtures for the server tests. Every storage test runs on SQLite and on PostgreSQL
(a throwaway database on 127.0.0.1:5432 for the session; PostgreSQL down is a failure)."""

from __future__ import annotations

import os

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from server.admin import add_user
from server.app import create_app
from server.config import Settings
from server.db import open_database
from tests.pg import pg_database, reset_db
from tests.servers import serve_app_in_thread

PASSWORD = "correct horse"
_ids = itertools.count(1)


def hlc(ms: int, counter: int = 0, device: str = "dev") -> str:
    return f"{ms:013d}-{counter:04x}-{device}"


def rid(n: int | None = None) -> str:
    n = next(_ids) if n is None else n
    return f"0190b2a4-0000-7000-8000-{n:012d}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    yield from pg_database("fieldcrm_test")


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = open_database(pg_url)
    yield engine
    engine.dispose()


reset_pg = reset_db


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Served:
    """One app and loopback server per backend for the whole session, reset per test."""

    url: str
    db_url: str
    app: FastAPI
    engine: sa.Engine


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    made: dict[str, Any] = {}
    stack = ExitStack()

    def get(backend: str) -> Served:
        if backend not in made:
            data = tmp_path_factory.mktemp(f"served-{backend}")
            if backend == "postgresql":
                url: str = request.getfixturevalue("pg_url")
                engine: sa.Engine = request.getfixturevalue("pg_engine")
            else:
                url = f"sqlite:///{data / 'server.db'}"
                engine = open_database(url)
                stack.callback(engine.dispose)
            # the lead SLA pass and the webhook worker run only when a test asks
            # (server.leads.tick, server.webhooks.Worker, each with its own clock)
            app = create_app(Settings(data, url, leads_interval_s=0, webhook_interval_s=0),
                             engine=engine)
            ts = stack.enter_context(serve_app_in_thread(app))
            made[backend] = Served(ts.url, url, app, engine)
        return made[backend]

    with stack:
        yield {"get": get}


@pytest.fixture
def server(backend: str, served: dict[str, Any]) -> Served:
    srv: Served = served["get"](backend)
    reset_db(srv.engine)
    srv.app.state.notifier.reset(0)
    blob_dir = srv.app.state.settings.blob_dir
    for f in blob_dir.rglob("*"):
        if f.is_file():
            f.unlink()
    return srv


@pytest.fixture
def db_url(server: Served) -> str:
    return server.db_url


@pytest.fixture
def engine(server: Served) -> sa.Engine:
    return server.engine


@pytest.fixture
def app(server: Served) -> FastAPI:
    return server.app


@dataclass
class Session:
    client: httpx.Client
    username: str
    device_id: str
    tokens: dict[str, Any]
    seq: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def entry(self, entity: str, record_id: str, fields: dict[str, Any], stamp: str | None = None,
              seq: int | None = None) -> dict[str, Any]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        stamp = stamp or hlc(1_732_250_000_000 + seq, 0, self.device_id)
        return {"device_id": self.device_id, "seq": seq, "entity": entity, "record_id": record_id,
                "fields": {k: {"value": v, "hlc": stamp} for k, v in fields.items()}}

    def push(self, *entries: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        r = self.client.post("/v1/push", json={"entries": list(entries)}, headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json()

    def pull(self, cursor: int = 0, limit: int = 2000, expect: int = 200) -> dict[str, Any]:
        r = self.client.get("/v1/pull", params={"cursor": cursor, "limit": limit},
                            headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json()

    def pull_all(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every visible record's fields after paging through from cursor 0."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        cursor = 0
        while True:
            page = self.pull(cursor, limit=3)
            for ch in page["changes"]:
                out[(ch["entity"], ch["record_id"])] = ch["fields"]
            cursor = page["cursor"]
            if not page["has_more"]:
                return out


class Api:
    """A real loopback server (uvicorn thread) on the test's database, and a client."""

    def __init__(self, url: str, app: FastAPI, engine: sa.Engine) -> None:
        self.url = url
        self.app = app
        self.client = httpx.Client(base_url=url, timeout=30)
        self.engine = engine

    def user(self, name: str, role: str = "rep", teams: tuple[str, ...] = ()) -> None:
        add_user(self.engine, name, role, PASSWORD, teams)

    def login(self, name: str, device_id: str | None = None) -> Session:
        device_id = device_id or f"dev-{name}"
        r = self.client.post("/v1/auth/login", json={"username": name, "password": PASSWORD,
                                                      "device_id": device_id})
        assert r.status_code == 200, r.text
        return Session(self.client, name, device_id, r.json())


@contextmanager
def serve(app: FastAPI, engine: sa.Engine) -> Iterator[Api]:
    """A separate server for an app built by the test itself."""
    with serve_app_in_thread(app) as ts:
        api = Api(ts.url, app, engine)
        try:
            yield api
        finally:
            api.client.close()


@pytest.fixture
def api(server: Served) -> Iterator[Api]:
    a = Api(server.url, server.app, server.engine)
    yield a
    a.client.close()
