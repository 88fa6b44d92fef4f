"""`fieldcrm login | sync | status | conflicts | logout --json` through the subcommand
hooks (the lead wires them into desktop/cli.py), against the real server."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.dedupe.cli_commands import add_subcommands as add_dedupe_subcommands
from desktop.store import Store
from desktop.sync.cli_commands import EXIT_OFFLINE, add_subcommands
from tests.sync.conftest import PASSWORD, Server


def run(profile: Path, argv: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> tuple[int, dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="fieldcrm")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    add_dedupe_subcommands(sub)
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


def test_manager_lists_the_pairs_the_server_found_across_reps(
        server: Server, devices: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two reps in different teams create the same customer offline; neither laptop holds
    the other's record, so only the server can see the pair: their manager lists it."""
    server.user("anna", teams=("north",))
    server.user("bo", teams=("south",))
    server.user("chen", "manager", ("north", "south"))
    a, b = devices("a"), devices("b")
    a.login("anna")
    b.login("bo")
    rec_a = a.repo("account").create({"name": "深圳市星河动力科技有限公司"})
    rec_b = b.repo("account").create({"name": "星河动力科技（深圳）有限公司"})
    a.sync()
    b.sync()
    p = tmp_path / "manager"
    run(p, ["login", "--server", server.url, "--user", "chen"], capsys, monkeypatch,
        stdin=PASSWORD + "\n")
    code, out = run(p, ["duplicates", "list", "--server", "--json"], capsys, monkeypatch)
    assert code == 0 and out["pending"] == 0
    assert [sorted((x["a"], x["b"])) for x in out["pairs"]] == [sorted((rec_a["id"],
                                                                        rec_b["id"]))]
    assert out["pairs"][0]["reasons"] == ["name"]
    code, out = run(tmp_path / "rep", ["login", "--server", server.url, "--user", "anna"],
                    capsys, monkeypatch, stdin=PASSWORD + "\n")
    code, out = run(tmp_path / "rep", ["duplicates", "list", "--server", "--json"], capsys,
                    monkeypatch)
    assert code == 0 and out["pairs"] == []  # anna may not see bo's record
