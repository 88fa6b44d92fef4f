"""The server's audit log: logins, failed logins, logouts, revokes and erasures are
recorded with who, when and from where, never a customer's personal data, and entries
cannot be changed afterwards. `fieldcrm-server audit list --json` lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from desktop.errors import AuthError
from desktop.store.erasure import erase_person
from desktop.sync import session
from desktop.sync.auth import load_account
from server import audit
from server.admin import revoke_device
from server.cli import main as server_cli
from tests.sync.conftest import Server


def test_sensitive_actions_are_audited(server: Server, devices: Any, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    server.user("li")
    server.user("boss", role="admin")
    li, boss = devices("li"), devices("boss")
    with pytest.raises(AuthError):
        session.login(li.profile, server.url, "li", "wrong password")
    li.login("li")
    boss.login("boss")
    person = li.repo("contact").create({"name": "欧阳娜娜", "phones": ["13987654321"]})
    li.sync()
    boss.sync()
    erase_person(boss.store, person["id"], by="boss")
    boss.repo("pipeline_rule").create({"name": "合同审核", "stage": "won", "requires": ["amount"]})
    boss.sync()
    account = load_account(li.store)
    assert account is not None
    revoke_device(server.engine, account.device_id)

    got = [(e["action"], e["actor"]) for e in audit.entries(server.engine)]
    assert got == [("login_failed", "li"), ("login", "li"), ("login", "boss"),
                   ("person_erased", "boss"), ("rule_changed", "boss"),
                   ("device_revoked", audit.CLI_ACTOR)]
    erased = audit.entries(server.engine, action="person_erased")[0]
    assert erased["target"] == f"contact:{person['id']}"
    assert audit.entries(server.engine, user="li")[0]["address"] == "127.0.0.1"
    text = json.dumps(audit.entries(server.engine), ensure_ascii=False)
    assert "欧阳娜娜" not in text and "13987654321" not in text

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), server.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET actor = 'someone else'"))

    if server.backend == "sqlite":
        capsys.readouterr()
        assert server_cli(["audit", "list", "--data", str(tmp_path / "srv"), "--user", "boss",
                           "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [r["action"] for r in rows] == ["login", "person_erased", "rule_changed"]


def test_every_response_carries_the_security_headers(server: Server) -> None:
    import httpx

    for path in ("/v1/health", "/v1/me"):
        r = httpx.get(server.url + path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in r.headers["content-security-policy"]
