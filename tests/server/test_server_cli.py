"""`fieldcrm-server` administration commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Api

from server.cli import main


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str],
         stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_admin_commands(api: Api, backend: str, db_url: str, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    common = ["--data", str(tmp_path / "data"), "--database-url", db_url]
    assert _run(capsys, monkeypatch, ["team", "add", "north", *common])[0] == 0
    rc, _, err = _run(capsys, monkeypatch, ["team", "add", "north", *common])
    assert rc == 1 and "already exists" in err
    rc, out, _ = _run(capsys, monkeypatch, ["user", "add", "alice", "--role", "rep", "--team",
                                            "north", "--password-stdin", *common],
                      stdin="s3cret\n")
    assert rc == 0 and "alice" in out
    rc, _, err = _run(capsys, monkeypatch, ["user", "add", "eve", "--role", "rep",
                                            "--password-stdin", *common])
    assert rc == 1 and "empty" in err
    r = api.client.post("/v1/auth/login",
                        json={"username": "alice", "password": "s3cret", "device_id": "lap-1"})
    assert r.status_code == 200
    rc, out, _ = _run(capsys, monkeypatch, ["device", "list", "--user", "alice", "--json", *common])
    devices = json.loads(out)
    assert rc == 0 and [d["id"] for d in devices] == ["lap-1"] and devices[0]["revoked"] is False
    rc, out, _ = _run(capsys, monkeypatch, ["user", "list", "--json", *common])
    assert [(u["username"], u["teams"]) for u in json.loads(out)] == [("alice", ["north"])]
    assert _run(capsys, monkeypatch, ["device", "revoke", "lap-1", *common])[0] == 0
    me = api.client.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 401 and me.json()["detail"]["code"] == "device_revoked"
    assert _run(capsys, monkeypatch, ["user", "disable", "alice", *common])[0] == 0
    rc, _, err = _run(capsys, monkeypatch, ["device", "revoke", "nope", *common])
    assert rc == 1 and "No device" in err
    with api.engine.connect() as conn:
        assert conn.execute(
            sa.text("SELECT disabled FROM users WHERE username = 'alice'")).scalar_one()
