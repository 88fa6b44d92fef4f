"""Access and sign-out: a rep sees and writes only what is theirs or their team's; a
revoked device, a disabled user and a logout wipe the profile and the keyring entry;
the refresh token is never in a file or a log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keyring
import pytest

from desktop.errors import AuthError
from desktop.sync import session
from desktop.sync.auth import KEYRING_SERVICE, load_account
from desktop.sync.errors import WipeRequired
from server.admin import disable_user, list_devices, revoke_device
from tests.sync.conftest import Server


def test_a_rep_cannot_read_or_write_outside_their_reach(server: Server, devices: Any) -> None:
    server.user("alice", teams=("north",))
    server.user("ann", teams=("north",))
    server.user("bob", teams=("south",))
    a, n, b = devices("alice"), devices("ann"), devices("bob")
    for d, u in ((a, "alice"), (n, "ann"), (b, "bob")):
        d.login(u)
    mine = a.repo("account").create({"name": "alice的客户"})
    theirs = b.repo("account").create({"name": "bob的客户"})
    a.sync()
    b.sync()
    n.sync()
    assert n.repo("account").get(mine["id"])["name"] == "alice的客户"  # shared with the team
    assert [r["id"] for r in b.repo("account").iter_all()] == [theirs["id"]]
    # Guessing the id and writing to it: rejected, parked, nothing reaches alice.
    b.store.apply_remote([{"entity": "account", "record_id": mine["id"],
                           "fields": {"name": {"value": "x", "hlc": "0000000000001-0000-z"}}}])
    b.repo("account").update(mine["id"], {"name": "bob改的"})
    rep = b.sync()
    assert rep.parked == 1
    [problem] = b.store.journal.parked()
    assert problem.record_id == mine["id"] and problem.reason
    # Re-owning his own record to alice's team is refused too (owner out of his reach).
    b.repo("account").update(theirs["id"], {"owner": "alice"})
    assert b.sync().parked == 1
    a.sync()
    assert a.repo("account").get(mine["id"])["name"] == "alice的客户"
    assert [r["id"] for r in a.repo("account").iter_all()] == [mine["id"]]


@pytest.mark.parametrize("how", ["revoke", "disable", "logout"])
def test_a_device_that_loses_access_is_wiped(server: Server, devices: Any, how: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.user("alice")
    a = devices("a")
    a.login("alice")
    a.repo("account").create({"name": "机密客户"})
    a.store.blobs.put_bytes(b"contract photo")
    a.sync()
    account = load_account(a.store)
    assert account is not None
    token = keyring.get_password(KEYRING_SERVICE, account.key)
    assert token
    # The refresh token is in no file of the profile and in no log line.
    for path in a.profile.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert token not in caplog.text
    if how == "revoke":
        [dev] = list_devices(server.engine, "alice")
        revoke_device(server.engine, dev["id"])
    elif how == "disable":
        disable_user(server.engine, "alice")
    if how == "logout":
        session.logout(a.profile)
    else:
        with pytest.raises(WipeRequired):
            a.sync()
    assert keyring.get_password(KEYRING_SERVICE, account.key) is None
    assert not (a.profile / "store.db").exists()
    assert not (a.profile / "blobs").exists()
    assert a.repo("account").count() == 0  # the app's open connection sees an empty store
    a.close()
    assert a.repo("account").count() == 0  # and so does a new one
    a.close()
    if how == "disable":
        with pytest.raises(AuthError):
            a.login("alice")


@pytest.mark.parametrize("how", ["revoke", "disable"])
def test_a_cold_started_device_that_lost_access_is_wiped(
    server: Server, devices: Any, how: str
) -> None:
    """The laptop was off when the device was revoked: its first contact, a token
    refresh, must already tell it to wipe."""
    server.user("alice")
    a = devices("a")
    a.login("alice")
    a.repo("account").create({"name": "机密客户"})
    a.sync()
    a.close()  # the process ends: the access token (memory only) is gone
    if how == "revoke":
        [dev] = list_devices(server.engine, "alice")
        revoke_device(server.engine, dev["id"])
    else:
        disable_user(server.engine, "alice")
    with pytest.raises(WipeRequired):
        a.sync()
    assert not (a.profile / "store.db").exists()


def test_logout_refuses_to_drop_unsent_changes(
    server: Server, devices: Any, tmp_path: Path
) -> None:
    from desktop.errors import SyncError

    server.user("alice")
    a = devices("a")
    a.login("alice")
    a.repo("account").create({"name": "未发送"})
    a.close()
    with a.store as st:
        st.meta_set("sync_server", "http://127.0.0.1:9")  # unreachable now
    a._store = None
    with pytest.raises(SyncError, match="--force"):
        session.logout(a.profile)
    assert a.repo("account").count() == 1
    a.close()
    assert session.logout(a.profile, force=True) == 1
    assert not (a.profile / "store.db").exists()


def test_wrong_password_is_an_auth_error(server: Server, devices: Any) -> None:
    server.user("alice")
    with pytest.raises(AuthError, match="Wrong user name or password"):
        devices("a").login("alice", "nope")


def test_a_lost_refresh_reply_does_not_sign_the_device_out(server: Server, devices: Any) -> None:
    """The server rotates the refresh token on every use and ends the session when an
    old one comes back. If the reply carrying the new token is lost (flaky network at
    start-up), the client can only retry with the old one: that must not sign the rep
    out (a short reuse grace window on the server, as OAuth servers keep)."""
    import httpx

    from tests.sync.faults import LoseReplies

    server.user("alice")
    once = [True]

    def lose_first_refresh(req: httpx.Request) -> bool:
        if req.url.path == "/v1/auth/refresh" and once[0]:
            once[0] = False
            return True
        return False

    a = devices("a", LoseReplies(lose_first_refresh))
    a.login("alice")
    a.repo("account").create({"name": "不应掉线"})
    from desktop.sync.errors import OfflineError

    with pytest.raises(OfflineError):
        a.sync()
    assert a.sync().pushed == 1
