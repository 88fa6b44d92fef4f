"""Sign-in state: which server and user a profile syncs with (in the store's meta table)
and the refresh token (in the OS keyring only: never a file, never a log line).

Keyring entry: service "FieldCRM", user name "<server url>|<user name>|<device id>". The
device id is part of the key so two profiles of one user on one computer (a test set-up,
or a second profile) never overwrite each other's token: the server rotates refresh
tokens and treats a reused one as stolen.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors

from desktop.profile import CAPTURES_DIR, RECORDINGS_DIR
from desktop.store import Store, cipher
from desktop.store.cipher import KeyringUnavailableError
from desktop.store.textindex import READINGS_CACHE
from desktop.sync.errors import KeyringError

KEYRING_SERVICE = "FieldCRM"
META_SERVER = "sync_server"
META_USER = "sync_user"
META_ROLE = "sync_role"
META_LAST_FRESH = "sync_last_fresh"  # epoch seconds the server last confirmed we were current
# Everything the profile folder holds that a wipe removes.
STORE_FILES = ("store.db", "store.db-wal", "store.db-shm", "store.db-journal",
               "store.db.encrypting", "store.db.encrypting-journal", "store.key-id.tmp",
               "blobs.encrypting", READINGS_CACHE, READINGS_CACHE + ".tmp")

log = logging.getLogger(__name__)


def keyring_key(server_url: str, username: str, device_id: str) -> str:
    return f"{server_url.rstrip('/')}|{username}|{device_id}"


@dataclass(frozen=True)
class Account:
    """The server and user a profile is signed in to."""

    server_url: str
    username: str
    device_id: str
    role: str = ""

    @property
    def key(self) -> str:
        return keyring_key(self.server_url, self.username, self.device_id)

    # ------------------------------------------------------------ keyring
    def load_token(self) -> str | None:
        try:
            return keyring.get_password(KEYRING_SERVICE, self.key)
        except keyring.errors.KeyringError as exc:
            raise KeyringError() from exc

    def save_token(self, token: str) -> None:
        try:
            keyring.set_password(KEYRING_SERVICE, self.key, token)
        except keyring.errors.KeyringError as exc:
            raise KeyringError() from exc

    def delete_token(self) -> None:
        try:
            keyring.delete_password(KEYRING_SERVICE, self.key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise KeyringError() from exc


def load_account(store: Store) -> Account | None:
    server, user = store.meta_get(META_SERVER), store.meta_get(META_USER)
    if not server or not user:
        return None
    return Account(server, user, store.device_id, store.meta_get(META_ROLE) or "")


def save_account(store: Store, account: Account) -> None:
    with store.write() as w:
        for key, value in ((META_SERVER, account.server_url), (META_USER, account.username),
                           (META_ROLE, account.role)):
            store.meta_set(key, value, conn=w.conn)
    store.set_user(account.username)


def wipe_profile(profile: Path, account: Account | None, store: Store | None = None) -> None:
    """Remove everything this profile holds: records, journal, conflicts, blobs, the
    keyring entry. Another connection to the same store (the app's) sees an empty store
    at once; the files are then deleted."""
    if account is not None:
        try:
            account.delete_token()
        except KeyringError:
            log.warning("could not remove the keyring entry of %s", account.username)
    if store is not None:
        try:
            store.wipe()
        finally:
            store.close()
    try:
        # The store key first: whatever a failed delete below leaves is unreadable.
        cipher.forget_key(profile)
    except KeyringUnavailableError:
        log.warning("could not remove the store key of %s from the keyring", profile)
    for name in STORE_FILES:
        (profile / name).unlink(missing_ok=True)
    shutil.rmtree(profile / "blobs", ignore_errors=True)
    shutil.rmtree(profile / RECORDINGS_DIR, ignore_errors=True)  # voice notes not yet saved
    shutil.rmtree(profile / CAPTURES_DIR, ignore_errors=True)  # contract photos not yet saved
    log.info("profile %s wiped", profile)
