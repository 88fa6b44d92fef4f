"""Fixtures for the sync client tests: a REAL server over loopback (uvicorn in a thread of
this process, or a subprocess where a test kills it), on SQLite and on PostgreSQL.
PostgreSQL must run on 127.0.0.1:5432; when it is down the tests fail, they never skip."""

from __future__ import annotations

import os

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from desktop.store import Store
from desktop.sync import session
from desktop.sync.engine import SyncEngine
from desktop.sync.status import SyncReport
from server.admin import add_user
from server.app import create_app
from server.config import Settings
from server.db import open_database
from tests.pg import pg_database, reset_db
from tests.servers import serve_app_in_thread

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    yield from pg_database("fieldcrm_sync_test")


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
class Server:
    url: str
    engine: sa.Engine
    app: Any
    backend: str

    def user(self, name: str, role: str = "rep", teams: tuple[str, ...] = ()) -> None:
        add_user(self.engine, name, role, PASSWORD, teams)


@pytest.fixture
def server(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    """A live server on a free loopback port, on the backend under test."""
    if backend == "postgresql":
        engine: sa.Engine = request.getfixturevalue("pg_engine")
        reset_pg(engine)
        url: str | None = str(request.getfixturevalue("pg_url"))
    else:
        url = None
        engine = open_database(f"sqlite:///{tmp_path / 'srv' / 'server.db'}")
    # the lead SLA pass runs only when a test asks (server.leads.tick, its own clock)
    app = create_app(Settings(tmp_path / "srv", url, leads_interval_s=0), engine=engine)
    with serve_app_in_thread(app) as ts:
        yield Server(ts.url, engine, app, backend)
    if backend == "sqlite":
        engine.dispose()


@dataclass
class Device:
    """One laptop: a profile folder, its store (this thread) and a sync engine."""

    profile: Path
    server_url: str
    transport: httpx.BaseTransport | None = None
    _store: Store | None = None
    engine: SyncEngine | None = None
    reports: list[SyncReport] = field(default_factory=list)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.profile)
        return self._store

    def login(self, user: str, password: str = PASSWORD) -> None:
        session.login(self.profile, self.server_url, user, password, transport=self.transport)
        if self._store is not None:  # pick up the user name for new records' owner
            self._store.close()
            self._store = None

    def sync(self) -> SyncReport:
        if self.engine is None:
            self.engine = SyncEngine(self.profile, transport=self.transport, live=False)
        report = self.engine.sync_once()
        self.reports.append(report)
        return report

    def repo(self, entity: str) -> Any:
        return self.store.repo(entity)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self._store is not None:
            self._store.close()
            self._store = None


@pytest.fixture
def devices(tmp_path: Path, server: Server) -> Iterator[Any]:
    made: list[Device] = []

    def make(name: str, transport: httpx.BaseTransport | None = None) -> Device:
        d = Device(tmp_path / f"dev-{name}", server.url, transport)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def snapshot(
    store: Store, entities: tuple[str, ...] = ("account", "contact", "deal")
) -> dict[str, Any]:
    """Every record (tombstones included) without local-only columns."""
    out: dict[str, Any] = {}
    for ent in entities:
        for row in store.conn.execute(f'SELECT id FROM "{ent}"'):
            rec = store.repo(ent).get(row[0], include_deleted=True)
            out[f"{ent}/{rec['id']}"] = {k: v for k, v in rec.items()
                                         if k not in ("created_at", "updated_at")}
    return out
