"""Signing a profile in and out (used by the CLI and the login dialog; no Qt).

Login stores the server and user name in the profile and the refresh token in the OS
keyring; the access token stays in memory. Logout first sends what is pending (unless
forced), ends the session on the server and wipes the profile.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import httpx

from desktop.errors import SyncError
from desktop.store import Store
from desktop.sync.auth import Account, load_account, save_account, wipe_profile
from desktop.sync.client import SyncClient
from desktop.sync.engine import SyncEngine
from desktop.sync.errors import OfflineError, ServerBusyError, SignedOutError, WipeRequired


def _check_url(server_url: str) -> str:
    url = server_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SyncError(f"'{server_url}' is not a server address; it should look like "
                        "https://crm.example.com or http://127.0.0.1:8765.")
    return url


def login(profile: Path, server_url: str, username: str, password: str, *,
          transport: httpx.BaseTransport | None = None, device_name: str | None = None) -> Account:
    """Sign the profile in. Raises AuthError (wrong password, disabled user),
    OfflineError, SyncError (profile belongs to someone else)."""
    url = _check_url(server_url)
    username = username.strip()
    if not username:
        raise SyncError("Enter a user name.")
    with Store.open(profile) as store:
        current = load_account(store)
        if current is not None and (current.server_url, current.username) != (url, username):
            raise SyncError(f"This profile is signed in as {current.username} on "
                            f"{current.server_url}. Sign out first (this removes its local data), "
                            "or use another profile.")
        account = Account(url, username, store.device_id)
        with SyncClient(url, store.device_id, on_refresh_token=account.save_token,
                        transport=transport) as client:
            pair = client.login(username, password, device_name or platform.node())
        account = Account(url, pair.username, store.device_id, pair.role)
        save_account(store, account)
        return account


def _signed_in_client(profile: Path, transport: httpx.BaseTransport | None,
                      why: str) -> SyncClient:
    """A client for one request outside sync, as this profile's signed-in user; raises
    SignedOutError ("`why` ... Sign in first") when the profile is not signed in."""
    with Store.open(profile) as store:
        account = load_account(store)
        device_id = store.device_id
    token = account.load_token() if account else None
    if account is None or not token:
        raise SignedOutError(f"{why} Sign in first (fieldcrm login).")
    return SyncClient(account.server_url, device_id, refresh_token=token,
                      on_refresh_token=account.save_token, transport=transport)


def server_duplicates(profile: Path, entity: str, *, limit: int = 200,
                      transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """The probable duplicate pairs the server found in the team's book, among the records
    this profile's user may see (a manager: the whole team's). Raises SignedOutError,
    OfflineError, ServerBusyError."""
    with _signed_in_client(profile, transport,
                           "This profile is not signed in to a sync server.") as client:
        return client.duplicates(entity, limit=limit)


def server_report(profile: Path, name: str, params: dict[str, Any], *,
                  transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """A report run by the server over the team's book (`team`, `owner`, period and
    currency in `params`): what a laptop cannot compute, holding only what its user may
    read. Raises SignedOutError, OfflineError, ServerBusyError, SyncError (404
    unknown_team, 422 invalid_period)."""
    with _signed_in_client(profile, transport, "A team's report comes from the sync "
                           "server, and this profile is not signed in.") as client:
        return client.report(name, params)


def logout(profile: Path, *, transport: httpx.BaseTransport | None = None,
           force: bool = False) -> int:
    """Send pending changes, end the server session and wipe the profile. Returns the
    number of unsent changes that were dropped (only with force). Raises SyncError
    when changes would be lost and `force` is not set."""
    with Store.open(profile) as store:
        account = load_account(store)
        pending = store.journal.counts().get("pending", 0)
    if account is None:
        wipe_profile(profile, None)
        return 0
    engine = SyncEngine(profile, transport=transport, live=False)
    try:
        if pending:
            try:
                engine.sync_once()
            except (OfflineError, ServerBusyError, SignedOutError) as exc:
                if not force:
                    raise SyncError(f"{pending} change(s) have not reached the server yet "
                                    f"({exc.message}) Sign out anyway with --force to drop "
                                    "them.") from exc
            except WipeRequired:
                return pending
        store = engine._store()
        left = store.journal.counts().get("pending", 0)
        if left and not force:
            raise SyncError(f"{left} change(s) have not reached the server yet. "
                            "Sign out anyway with --force to drop them.")
        try:
            client = engine._client_for(store)
            client.logout()
        except (OfflineError, ServerBusyError, SignedOutError, WipeRequired):
            pass  # the local wipe is what matters; the server ends the session on its side
        engine._local.store = None
        wipe_profile(profile, account, store)
        return left
    finally:
        engine.close()
