"""Backup and restore as docs/server.md tells an administrator: pg_dump a live server's
PostgreSQL database, pg_restore it into a new database, run the server on that, and
clients sync against it (the device that synced before, and a new one)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from desktop.store import Store
from desktop.sync import session
from desktop.sync.engine import SyncEngine
from server.admin import add_user
from tests.servers import LiveServer, create_pg_database, drop_pg_database, start_server
from tests.sync.conftest import PASSWORD


def _libpq(url: str) -> str:
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: install the Debian package postgresql-client "
                    "(./dev test does, as root)")
    return path


def _sync(profile: Path) -> int:
    engine = SyncEngine(profile, live=False)
    try:
        return engine.sync_once().pushed
    finally:
        engine.close()


def _names(profile: Path) -> set[str]:
    with Store.open(profile) as st:
        return {str(r[0]) for r in st.conn.execute("SELECT name FROM account")}


def test_pg_dump_restore_and_clients_sync_against_the_restored_database(tmp_path: Path) -> None:
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    original = create_pg_database("fieldcrm_backup")
    restored = create_pg_database("fieldcrm_restored")
    srv = start_server(tmp_path / "srv", original)
    moved: LiveServer | None = None
    try:
        add_user(srv.engine, "alice", "rep", PASSWORD)
        laptop = tmp_path / "laptop"
        session.login(laptop, srv.url, "alice", PASSWORD)
        with Store.open(laptop) as st:
            ids = [st.repo("account").create({"name": f"客户 {i}"})["id"] for i in range(3)]
        assert _sync(laptop) == 3

        dump = tmp_path / "fieldcrm.dump"
        subprocess.run([pg_dump, "--format=custom", f"--file={dump}", _libpq(original)],
                       check=True, timeout=120)
        subprocess.run([pg_restore, "--no-owner", f"--dbname={_libpq(restored)}", str(dump)],
                       check=True, timeout=120)

        # the same address, now served from the restored database
        port = int(srv.url.rsplit(":", 1)[1])
        srv.close()
        moved = LiveServer(tmp_path / "srv-restored", restored, {}).start(port)
        assert moved.url == srv.url

        with Store.open(laptop) as st:
            st.repo("account").update(ids[0], {"name": "客户 0，恢复后修改"})
        assert _sync(laptop) == 1  # the signed-in device goes on, with its old tokens
        phone = tmp_path / "phone"
        session.login(phone, moved.url, "alice", PASSWORD)
        _sync(phone)
        assert _names(phone) == {"客户 0，恢复后修改", "客户 1", "客户 2"}
        _sync(laptop)
        assert _names(laptop) == _names(phone)
    finally:
        if moved is not None:
            moved.close()
        srv.close()
        drop_pg_database(original)
        drop_pg_database(restored)
