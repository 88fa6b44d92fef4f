"""Liveness and readiness (server.health) on a real loopback server, both backends."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Api, serve

from server.app import create_app
from server.config import Settings
from server.db import open_database
from server.health import head_revision
from tests.servers import create_pg_database, drop_pg_database


def test_health_and_ready_answer(api: Api) -> None:
    r = api.client.get("/v1/health")
    assert r.status_code == 200 and r.json()["ok"] is True
    r = api.client.get("/v1/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "revision": head_revision()}


def test_ready_is_503_when_schema_is_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = open_database(url)
    app = create_app(Settings(tmp_path, url, leads_interval_s=0), engine=engine)
    with serve(app, engine) as api:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0007'"))
        r = api.client.get("/v1/ready")
        assert r.status_code == 503
        assert r.json()["detail"]["code"] == "not_ready"
        assert "0007" in r.json()["detail"]["message"]
        assert api.client.get("/v1/health").status_code == 200  # liveness asks no database
    engine.dispose()


# A connection the drop cut while a server thread held it is closed by nobody; it is
# collected inside this test (gc.collect below), where its ResourceWarning is expected.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ready_is_503_when_database_is_gone(tmp_path: Path) -> None:
    url = create_pg_database("fieldcrm_ready")
    engine = open_database(url)
    # no background workers: a worker's connection cut by the drop would be left to the
    # garbage collector, and its ResourceWarning would fail whichever test ran then
    app = create_app(Settings(tmp_path, url, leads_interval_s=0, dedupe_interval_s=0,
                              webhook_interval_s=0), engine=engine)
    try:
        with serve(app, engine) as api:
            assert api.client.get("/v1/ready").status_code == 200
            engine.dispose()
            drop_pg_database(url)  # WITH (FORCE): the server's connections are cut
            r = api.client.get("/v1/ready")
            assert r.status_code == 503
            assert r.json()["detail"]["code"] == "not_ready"
            assert api.client.get("/v1/health").status_code == 200
    finally:
        engine.dispose()
        drop_pg_database(url)
        gc.collect()  # what the drop left open is collected here, not in a later test
