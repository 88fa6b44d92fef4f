"""Login, refresh rotation, reuse detection, disable, revoke, logout."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from conftest import PASSWORD, Api, serve

from desktop.sync.protocol import WIPE_CODES
from server.admin import disable_user, list_devices, revoke_device
from server.app import create_app
from server.config import Settings


def code(r: httpx.Response) -> str:
    c: str = r.json()["detail"]["code"]
    return c


def test_login_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    api.user("alice")
    bad = api.client.post("/v1/auth/login",
                          json={"username": "alice", "password": "nope", "device_id": "d1"})
    unknown = api.client.post("/v1/auth/login",
                              json={"username": "zed", "password": "nope", "device_id": "d1"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json()
    assert code(bad) == "invalid_credentials"


def test_refresh_rotates_and_reuse_ends_the_chain(api: Api) -> None:
    api.user("alice", teams=("north",))
    s = api.login("alice")
    me = api.client.get("/v1/me", headers=s.headers)
    assert me.json() == {"user_id": s.tokens["user_id"], "username": "alice", "role": "rep",
                         "teams": ["north"], "device_id": "dev-alice"}
    first = s.tokens["refresh_token"]
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": first, "device_id": s.device_id})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"],
                                                   "device_id": s.device_id})
    assert r.status_code == 200
    third = r.json()
    s.tokens = third
    assert api.client.get("/v1/me", headers=s.headers).status_code == 200
    # The old refresh token comes back after the chain moved on (stolen copy): it all ends.
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": first, "device_id": s.device_id})
    assert r.status_code == 401 and code(r) == "refresh_reused"
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": third["refresh_token"],
                                                   "device_id": s.device_id})
    assert r.status_code == 401 and code(r) == "refresh_invalid"
    r = api.client.get("/v1/me", headers=s.headers)
    assert r.status_code == 401 and code(r) == "session_ended"
    assert code(r) not in WIPE_CODES  # a re-login keeps the local data
    assert api.client.get("/v1/me", headers=api.login("alice").headers).status_code == 200


def test_a_retry_after_a_lost_refresh_reply_gets_a_fresh_pair(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    first = s.tokens["refresh_token"]
    lost = api.client.post("/v1/auth/refresh",
                           json={"refresh_token": first, "device_id": s.device_id})
    assert lost.status_code == 200  # ...but the reply never reached the device
    retry = api.client.post("/v1/auth/refresh",
                            json={"refresh_token": first, "device_id": s.device_id})
    assert retry.status_code == 200
    s.tokens = retry.json()
    assert api.client.get("/v1/me", headers=s.headers).status_code == 200
    # The successor the device never saw is dead; the one it holds now rotates on.
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": lost.json()["refresh_token"],
                                                   "device_id": s.device_id})
    assert r.status_code == 401 and code(r) == "refresh_invalid"
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": s.tokens["refresh_token"],
                                                   "device_id": s.device_id})
    assert r.status_code == 200


def test_refresh_token_is_bound_to_its_device(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": s.tokens["refresh_token"],
                                                   "device_id": "other-device"})
    assert r.status_code == 401 and code(r) == "refresh_invalid"


def test_disable_user_ends_sessions_at_once(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    disable_user(api.engine, "alice")
    r = api.client.get("/v1/pull", headers=s.headers)
    assert r.status_code == 401 and code(r) == "user_disabled" and code(r) in WIPE_CODES
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": s.tokens["refresh_token"],
                                                   "device_id": s.device_id})
    assert r.status_code == 401
    r = api.client.post("/v1/auth/login",
                        json={"username": "alice", "password": PASSWORD, "device_id": "d9"})
    assert r.status_code == 401 and code(r) == "user_disabled"


def test_revoke_device_ends_only_that_device(api: Api) -> None:
    api.user("alice")
    laptop, phone = api.login("alice", "laptop"), api.login("alice", "phone")
    assert [d["id"] for d in list_devices(api.engine, "alice")] == ["laptop", "phone"]
    revoke_device(api.engine, "laptop")
    r = api.client.post("/v1/push", json={"entries": []}, headers=laptop.headers)
    assert r.status_code == 401 and code(r) == "device_revoked" and code(r) in WIPE_CODES
    r = api.client.post("/v1/auth/login", json={"username": "alice", "password": PASSWORD,
                                                 "device_id": "laptop"})
    assert r.status_code == 401 and code(r) == "device_revoked"
    assert api.client.get("/v1/me", headers=phone.headers).status_code == 200
    assert [d["revoked"] for d in list_devices(api.engine, "alice")] == [True, False]


def test_logout_tells_the_device_to_wipe(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    assert api.client.post("/v1/auth/logout", headers=s.headers).status_code == 200
    r = api.client.get("/v1/me", headers=s.headers)
    assert r.status_code == 401 and code(r) == "logged_out"


def test_a_device_id_belongs_to_one_user(api: Api) -> None:
    api.user("alice")
    api.user("bob")
    api.login("alice", "shared")
    r = api.client.post("/v1/auth/login",
                        json={"username": "bob", "password": PASSWORD, "device_id": "shared"})
    assert r.status_code == 409 and code(r) == "device_in_use"


def test_expired_and_forged_access_tokens(engine: sa.Engine, tmp_path: Path) -> None:
    app = create_app(Settings(tmp_path / "x", engine.url.render_as_string(hide_password=False),
                              access_ttl_s=-10), engine=engine)
    with serve(app, engine) as api:
        _expired(api)


def _expired(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    r = api.client.get("/v1/me", headers=s.headers)
    assert r.status_code == 401 and code(r) == "token_expired"
    r = api.client.get("/v1/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status_code == 401 and code(r) == "token_invalid"
    r = api.client.get("/v1/me")
    assert r.status_code == 401 and code(r) == "token_missing"
    # A refresh still works and yields a token (expired again at once with this TTL).
    r = api.client.post("/v1/auth/refresh", json={"refresh_token": s.tokens["refresh_token"],
                                                   "device_id": s.device_id})
    assert r.status_code == 200


def test_password_guessing_is_slowed_down_then_the_right_password_works_again(api: Api) -> None:
    from server import throttle

    # A user of its own: the server (and its throttle) outlives this test.
    api.user("throttled-carol")
    body = {"username": "throttled-carol", "password": "wrong", "device_id": "d1"}
    for _ in range(throttle.MAX_FAILURES):
        assert code(api.client.post("/v1/auth/login", json=body)) == "invalid_credentials"
    r = api.client.post("/v1/auth/login", json={**body, "password": PASSWORD})
    assert r.status_code == 429 and code(r) == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= throttle.WINDOW_S + 1
    assert "try again in" in r.json()["detail"]["message"]
    # Another user is not locked out by carol's attacker.
    api.user("bob")
    assert api.client.get("/v1/me", headers=api.login("bob").headers).status_code == 200


def test_throttle_is_shared_by_server_processes_and_forgets_old_failures(tmp_path: Path) -> None:
    import pytest
    from fastapi import HTTPException

    from server.db import migrate, open_database
    from server.throttle import LoginThrottle

    engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    migrate(engine)
    now = [1_000_000.0]
    # two server processes on one database: each sees the other's failures
    one, two = (LoginThrottle(engine, max_failures=3, window_s=60, clock=lambda: now[0])
                for _ in range(2))
    one.failed("Alice", "10.0.0.1")
    two.failed("alice", "10.0.0.1")
    one.check("alice", "10.0.0.1")
    two.failed("ALICE", "10.0.0.1")
    for throttle in (one, two):
        with pytest.raises(HTTPException) as refused:
            throttle.check("alice", "10.0.0.1")
        assert refused.value.status_code == 429
    one.check("alice", "10.0.0.2")  # another address is not blocked
    now[0] += 61.0
    two.check("alice", "10.0.0.1")
    one.failed("alice", "10.0.0.1")  # also prunes what left the window
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM login_failures")).scalar_one() == 1
    two.succeeded("alice", "10.0.0.1")
    one.check("alice", "10.0.0.1")
