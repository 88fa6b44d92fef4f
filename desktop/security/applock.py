"""The app lock: after some idle minutes the app asks for a local PIN, offline.

    set_pin(store, "2468", idle_min=15)      a PIN of 4-12 digits, hashed with argon2id
    state(store) -> LockState                 has a PIN, idle minutes, failures, tries left
    unlock(profile, store, "2468") -> Unlock  ok / wrong (tries left) / wiped

The PIN's hash and the count of wrong PINs are in the store's `meta` table (so in the
encrypted store, never synced, gone with a wipe). MAX_FAILURES wrong PINs in a row wipe
the profile as a revoke would (desktop.sync.auth.wipe_profile): a stolen laptop cannot
be guessed into.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import argon2

from desktop.errors import ValidationError

META_PIN = "applock_pin"
META_FAILURES = "applock_failures"
META_IDLE = "applock_idle_min"
DEFAULT_IDLE_MIN = 15
MAX_FAILURES = 10
PIN_RE = re.compile(r"^[0-9]{4,12}$")


def _hasher() -> argon2.PasswordHasher:
    if os.environ.get("FIELDCRM_ARGON2_PROFILE") == "test":
        return argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    return argon2.PasswordHasher()


@dataclass(frozen=True)
class LockState:
    has_pin: bool
    idle_min: int
    failures: int

    @property
    def tries_left(self) -> int:
        return max(0, MAX_FAILURES - self.failures)


@dataclass(frozen=True)
class Unlock:
    ok: bool
    tries_left: int
    wiped: bool = False


def state(store: Any) -> LockState:
    idle = store.meta_get(META_IDLE)
    return LockState(bool(store.meta_get(META_PIN)),
                     int(idle) if idle and idle.isdigit() else DEFAULT_IDLE_MIN,
                     int(store.meta_get(META_FAILURES) or 0))


def set_pin(store: Any, pin: str, *, idle_min: int | None = None) -> LockState:
    """Set (or change) the PIN. Raises ValidationError for a PIN that is not 4-12 digits
    or idle minutes outside 1-480."""
    if not PIN_RE.match(pin):
        raise ValidationError("The PIN must be 4 to 12 digits.", field="pin")
    digest = _hasher().hash(pin)
    with store.write() as w:
        store.meta_set(META_PIN, digest, conn=w.conn)
        store.meta_set(META_FAILURES, "0", conn=w.conn)
        if idle_min is not None:
            _set_idle(store, w.conn, idle_min)
    return state(store)


def set_idle(store: Any, idle_min: int) -> LockState:
    with store.write() as w:
        _set_idle(store, w.conn, idle_min)
    return state(store)


def _set_idle(store: Any, conn: Any, idle_min: int) -> None:
    if not 1 <= idle_min <= 480:
        raise ValidationError("Lock after 1 to 480 idle minutes.", field="idle_min")
    store.meta_set(META_IDLE, str(idle_min), conn=conn)


def clear_pin(store: Any, pin: str) -> bool:
    """Remove the lock, given the current PIN. Returns whether it was removed."""
    digest = store.meta_get(META_PIN)
    if not digest or not _matches(digest, pin):
        return False
    with store.write() as w:
        w.conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (META_PIN, META_FAILURES))
    return True


def _matches(digest: str, pin: str) -> bool:
    try:
        return bool(_hasher().verify(digest, pin))
    except argon2.exceptions.VerificationError:
        return False
    except argon2.exceptions.InvalidHashError:
        return False


def unlock(profile: Path, store: Any, pin: str) -> Unlock:
    """Check a PIN. A right one resets the count of wrong ones; the MAX_FAILURES-th wrong
    one in a row wipes the profile (store, WAL, blobs, store key, token); `store` stays
    open on the emptied data until its owner closes it."""
    digest = store.meta_get(META_PIN)
    if not digest:
        return Unlock(True, MAX_FAILURES)
    if _matches(digest, pin):
        if store.meta_get(META_FAILURES) not in (None, "0"):
            store.meta_set(META_FAILURES, "0")
        return Unlock(True, MAX_FAILURES)
    failures = int(store.meta_get(META_FAILURES) or 0) + 1
    store.meta_set(META_FAILURES, str(failures))  # committed before the answer
    if failures < MAX_FAILURES:
        return Unlock(False, MAX_FAILURES - failures)
    from desktop.store import indexer
    from desktop.sync.auth import load_account, wipe_profile

    account = load_account(store)
    indexer.close_worker(Path(profile))  # its connection must not outlive the files
    store.wipe()  # this connection (the app's) sees an empty store at once
    wipe_profile(Path(profile), account)  # then the key, token and files go
    return Unlock(False, 0, wiped=True)
