"""Client versions against a real `fieldcrm-server run` on loopback: the server names the
newest client and its download URL; a client below the minimum is answered 426 on every
sync endpoint, keeps every journal entry (no edit lost) and sends them once updated;
`fieldcrm status --json` says which version runs and whether an update is needed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from desktop.store import Store
from desktop.sync import client as sync_client
from desktop.sync import versions
from desktop.sync.protocol import CLIENT_VERSION_HEADER, parse_version
from desktop.sync.versions import CLIENT_VERSION, ServerVersions
from server.admin import add_user
from tests.servers import REPO_ROOT, start_server
from tests.sync.conftest import PASSWORD
from tests.sync.test_sync_cli import run

URL = "https://crm.example.com/downloads/fieldcrm"


def test_versions_compare_and_match_the_package() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == CLIENT_VERSION
    assert parse_version("1.10.2") == (1, 10, 2) and parse_version("1.x") is None
    assert parse_version("") is None and parse_version("１.2") is None
    assert ServerVersions("0.3.0", "0.2.0", URL).update("0.1.9") == "required"
    assert ServerVersions("0.3.0", "0.2.0", URL).update("0.2.0") == "available"
    assert ServerVersions("0.3.0", "0.2.0", URL).update("0.3.0") == "none"
    assert ServerVersions(None, None, None).update("0.0.1") == "none"


def _records(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one())


def test_outdated_client_is_told_to_update_and_keeps_its_journal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    srv = start_server(tmp_path / "srv", args=("--client-latest", "0.2.0",
                                               "--client-download-url", URL))
    try:
        add_user(srv.engine, "alice", "rep", PASSWORD)
        p = tmp_path / "profile"
        code, _ = run(p, ["login", "--server", srv.url, "--user", "alice", "--json"], capsys,
                      monkeypatch, stdin=PASSWORD + "\n")
        assert code == 0
        with Store.open(p) as st:
            first = st.repo("account").create({"name": "First"})["id"]
        code, out = run(p, ["sync", "--once", "--json"], capsys, monkeypatch)
        assert code == 0 and out["pushed"] == 1
        assert out["status"]["update"] == "available"
        assert out["status"]["latest_version"] == "0.2.0" and out["status"]["download_url"] == URL
        code, out = run(p, ["status", "--json"], capsys, monkeypatch)
        assert (out["client_version"], out["latest"], out["update"]) == ("0.1.0", "0.2.0",
                                                                         "available")
        assert out["download_url"] == URL and out["minimum"] is None

        # The organisation now serves 0.2.0 and newer only.
        srv.args = ("--client-latest", "0.3.0", "--client-minimum", "0.2.0",
                    "--client-download-url", URL)
        srv.restart()
        with Store.open(p) as st:
            st.repo("account").update(first, {"name": "First, edited while outdated"})
            st.repo("account").create({"name": "Second"})
            st.repo("contact").create({"name": "王芳"})
        code, out = run(p, ["sync", "--once", "--json"], capsys, monkeypatch)
        assert code == 1 and out["ok"] is False
        assert "too old" in out["error"] and URL in out["error"]
        code, out = run(p, ["status", "--json"], capsys, monkeypatch)
        assert out["pending"] == 3 and out["parked"] == 0  # every edit kept
        assert (out["update"], out["minimum"], out["latest"]) == ("required", "0.2.0", "0.3.0")
        assert _records(srv.engine) == 1

        # the 426 body says what to do, on every sync endpoint; health stays open
        old = {CLIENT_VERSION_HEADER: "0.1.0"}
        for method, path in (("GET", "/v1/pull"), ("POST", "/v1/push"), ("GET", "/v1/events"),
                             ("POST", "/v1/auth/login"), ("GET", "/v1/me")):
            r = httpx.request(method, f"{srv.url}{path}", headers=old, timeout=10)
            assert r.status_code == 426, (path, r.text)
            detail = r.json()["detail"]
            assert detail["code"] == "update_required" and detail["download_url"] == URL
            assert detail["minimum"] == "0.2.0" and detail["latest"] == "0.3.0"
        r = httpx.get(f"{srv.url}/v1/health", headers=old, timeout=10)
        assert r.status_code == 200 and r.headers["x-fieldcrm-latest"] == "0.3.0"
        # a desktop build from before versions were sent counts as outdated
        r = httpx.get(f"{srv.url}/v1/pull", headers={"User-Agent": "FieldCRM-desktop/1"},
                      timeout=10)
        assert r.status_code == 426

        # updated: the kept journal goes out, nothing lost
        monkeypatch.setattr(versions, "CLIENT_VERSION", "0.3.0")
        monkeypatch.setattr(sync_client, "CLIENT_VERSION", "0.3.0")
        code, out = run(p, ["sync", "--once", "--json"], capsys, monkeypatch)
        assert code == 0 and out["pushed"] == 3 and out["status"]["update"] == "none"
        code, out = run(p, ["status", "--json"], capsys, monkeypatch)
        assert out["pending"] == 0 and out["update"] == "none"
        assert out["client_version"] == "0.3.0"
        assert _records(srv.engine) == 3
        with srv.engine.connect() as conn:
            names = {str(v) for (v,) in conn.execute(sa.text("SELECT fields FROM records"))}
        assert any("First, edited while outdated" in n for n in names)
    finally:
        srv.close()


def test_server_refuses_a_bad_version_setting(tmp_path: Path) -> None:
    from server.cli import main

    assert main(["run", "--data", str(tmp_path), "--port", "0",
                 "--client-minimum", "soon"]) == 1
