"""`fieldcrm login | sync | status | conflicts | logout --json` through the subcommand
hooks (the lead wires them into desktop/cli.py), against the real server."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.store import Store
from desktop.sync.cli_commands import EXIT_OFFLINE, add_subcommands
from tests.sync.conftest import PASSWORD, Server


def run(profile: Path, argv: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> tuple[int, dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="fieldcrm")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.profile = profile
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = args.func(args)
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]) if out and "--json" in argv else {}


def test_cli_round_trip(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    server.user("alice")
    p = tmp_path / "profile"
    code, out = run(p, ["login", "--server", server.url, "--user", "alice", "--json"], capsys,
                    monkeypatch, stdin="wrong\n")
    assert code == 1 and out["ok"] is False and "Wrong user name or password" in out["error"]
    code, out = run(p, ["login", "--server", server.url, "--user", "alice", "--json"], capsys,
                    monkeypatch, stdin=PASSWORD + "\n")
    assert code == 0 and out == {"ok": True, "server": server.url, "user": "alice", "role": "rep"}
    with Store.open(p) as st:
        st.repo("account").create({"name": "命令行客户"})
    code, out = run(p, ["status", "--json"], capsys, monkeypatch)
    assert code == 0 and out["signed_in"] and out["pending"] == 1 and out["last_fresh"] is None
    code, out = run(p, ["sync", "--once", "--json"], capsys, monkeypatch)
    assert code == 0 and out["pushed"] == 1 and out["complete"]
    code, out = run(p, ["status", "--json"], capsys, monkeypatch)
    assert out["pending"] == 0 and out["last_fresh_age_s"] < 30
    code, out = run(p, ["conflicts", "--json"], capsys, monkeypatch)
    assert code == 0 and out["conflicts"] == []
    code, out = run(p, ["logout", "--json"], capsys, monkeypatch)
    assert code == 0 and out == {"ok": True, "dropped": 0}
    assert not (p / "store.db").exists()
    code, out = run(p, ["status", "--json"], capsys, monkeypatch)
    assert out["signed_in"] is False and out["user"] is None


def test_cli_sync_offline_exit_code(server: Server, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server.user("alice")
    p = tmp_path / "profile"
    run(p, ["login", "--server", server.url, "--user", "alice"], capsys, monkeypatch,
        stdin=PASSWORD + "\n")
    from desktop.sync.client import SyncClient

    def offline(self: Any, *a: Any, **k: Any) -> Any:
        from desktop.sync.errors import OfflineError

        raise OfflineError()

    monkeypatch.setattr(SyncClient, "_send", offline)
    code, out = run(p, ["sync", "--once", "--json"], capsys, monkeypatch)
    assert code == EXIT_OFFLINE and out["kind"] == "OfflineError"
