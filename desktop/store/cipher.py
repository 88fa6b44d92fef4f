"""Encryption at rest of the store: SQLCipher 4 (AES-256, every page of `store.db` and
of its WAL), keyed by a random 256-bit key kept in the OS keyring.

- The profile folder holds `store.key-id`, a random name (not a secret); the key itself
  is the keyring entry service "FieldCRM", user name "store-key|<key id>". A store is
  encrypted when its first 16 bytes are not SQLite's plain header.
- `encrypt_store(profile)` turns a plain store into an encrypted one, crash-safe: the
  plain file stays the store until a verified encrypted copy replaces it with one
  rename (kill -9 at any point leaves either the plain store, whole, or the encrypted one).
- `forget_key(profile)` removes the keyring entry and the key-id file (a wipe).

The page format (`FORMAT`): SQLCipher 4's AES-256-CBC with a random IV per page write,
key used raw (no KDF), and no per-page HMAC. The HMAC is what made an encrypted store
slow (a cold read of the 30k+30k benchmark store: plain 21 ms, HMAC-SHA512 59 ms,
HMAC-SHA256 43 ms, none 26 ms): issue 19 asks for every store metric within 1.3x of the
plain store, and the threat it answers, a lost or stolen laptop, is about what can be
read, which the cipher alone keeps, as BitLocker, FileVault and LUKS do (they encrypt
without integrity too). Tampering with a store needs the unlocked laptop, whose user
account holds the key in its keyring anyway. Stores encrypted before (`LEGACY`, SQLCipher
4's defaults with HMAC-SHA512) still open, and `ensure_encrypted` (the app's start) or
`encrypt_store` re-encrypt them to the format, crash-safe like the first encryption.

Within one process the key is read from the keyring once per profile (`cached_key`);
the search-index builder process gets it from its parent over its command pipe.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import keyring.errors

from desktop.errors import StoreBusyError, StoreError, StoreOpenError
from desktop.store.sqlite_lib import without_memory_stats, without_memory_stats_before_import

# Before this process opens its first store (desktop.store.sqlite_lib says why); SQLCipher's
# library before its module is imported (it starts itself then).
without_memory_stats("_sqlite3")
without_memory_stats_before_import("sqlcipher3")
import sqlcipher3.dbapi2 as sqlcipher  # noqa: E402 (after the line above)

KEYRING_SERVICE = "FieldCRM"
KEY_ID_FILE = "store.key-id"
TMP_SUFFIX = ".encrypting"
BLOBS_MARKER = "blobs.encrypting"
SQLITE_MAGIC = b"SQLite format 3\x00"
KEY_BYTES = 32
# Set on every keyed connection (and on the attached copy an export writes) before its
# first read: the page format above. LEGACY is how stores were encrypted until 2026-12.
FORMAT: tuple[str, ...] = ("cipher_use_hmac = OFF",)
LEGACY: tuple[str, ...] = ()
PROGRESS_STEPS = 2000  # SQLite VM steps between two progress calls while copying

# Either driver's errors (stdlib sqlite3 for a plain store, sqlcipher3 for an encrypted one).
ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher.Error)

Progress = Callable[[str, float], None]  # (phase, fraction done of that phase)


class StoreKeyMissingError(StoreOpenError):
    """The key of this encrypted store is not in this computer's keyring, so it cannot
    be opened; the file was not changed. Sign in again to get the data from the server."""


class StoreKeyWrongError(StoreOpenError):
    """The key in this computer's keyring does not open this encrypted store; the file
    was not changed. Sign in again to get the data from the server."""


class KeyringUnavailableError(StoreError):
    """The system keyring cannot be reached, so the store's key cannot be kept; nothing
    was changed. Unlock or set up the keyring (Keychain, Credential Manager, Secret
    Service) and try again."""


_cache: dict[Path, bytes] = {}
_cache_lock = threading.Lock()


def _profile_key(profile: Path) -> Path:
    return Path(profile).resolve()


def is_encrypted(path: Path) -> bool:
    """Whether the store file at `path` exists, is not empty and is not plain SQLite."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return False
    return bool(head) and head != SQLITE_MAGIC


def encrypted_connection(conn: Any) -> bool:
    """Whether `conn` is an SQLCipher connection (the store it opened is encrypted)."""
    return not isinstance(conn, sqlite3.Connection)


def key_id(profile: Path) -> str | None:
    try:
        text = (Path(profile) / KEY_ID_FILE).read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return text or None


def _entry(kid: str) -> str:
    return f"store-key|{kid}"


def _keyring_get(kid: str) -> bytes | None:
    try:
        text = keyring.get_password(KEYRING_SERVICE, _entry(kid))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError() from exc
    if not text:
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None


def remember_key(profile: Path, key: bytes) -> None:
    """Use `key` for this profile in this process (the builder process gets it so)."""
    with _cache_lock:
        _cache[_profile_key(profile)] = key


def cached_key(profile: Path) -> bytes | None:
    """The store key of `profile` if this process already has it."""
    with _cache_lock:
        return _cache.get(_profile_key(profile))


def load_key(profile: Path) -> bytes:
    """The key of the encrypted store of `profile`. Raises StoreKeyMissingError."""
    key = cached_key(profile)
    if key is not None:
        return key
    kid = key_id(profile)
    key = _keyring_get(kid) if kid else None
    if key is None:
        raise StoreKeyMissingError()
    remember_key(profile, key)
    return key


def forget_key(profile: Path) -> None:
    """Remove the keyring entry and the key-id file (after this the store, if still on
    disk, cannot be read by anyone)."""
    kid = key_id(profile)
    with _cache_lock:
        _cache.pop(_profile_key(profile), None)
    if kid:
        try:
            keyring.delete_password(KEYRING_SERVICE, _entry(kid))
        except keyring.errors.PasswordDeleteError:
            pass  # already gone
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError() from exc
    (Path(profile) / KEY_ID_FILE).unlink(missing_ok=True)


def _pragma_key(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def _keyed(path: Path, key: bytes, settings: tuple[str, ...]) -> Any | None:
    """A connection to `path` keyed with `key` in the page format `settings`, or None if
    the file does not open so (another key, or another format)."""
    conn = sqlcipher.connect(str(path), isolation_level=None, check_same_thread=True)
    conn.execute(_pragma_key(key))
    for pragma in settings:
        conn.execute(f"PRAGMA {pragma}")
    # Zeroing every freed allocation (SQLCipher's default) doubled search times; the
    # page cache holds decrypted pages either way.
    conn.execute("PRAGMA cipher_memory_security = OFF")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc).lower():
            return None
        raise
    return conn


def connect_encrypted(path: Path, key: bytes) -> Any:
    """An sqlcipher3 connection to the encrypted store at `path` (autocommit, like the
    plain one), in the current page format or, for a store not yet re-encrypted, the
    legacy one. Raises StoreKeyWrongError when `key` does not open it."""
    conn = _keyed(path, key, FORMAT)
    if conn is None:
        conn = _keyed(path, key, LEGACY)
    if conn is None:
        raise StoreKeyWrongError()
    return conn


def store_format(profile: Path) -> str:
    """"plain", "current" or "legacy" (encrypted before the page format changed; the key
    must be at hand: StoreKeyMissingError, StoreKeyWrongError otherwise)."""
    path = Path(profile) / "store.db"
    if not is_encrypted(path):
        return "plain"
    key = load_key(profile)
    for name, settings in (("current", FORMAT), ("legacy", LEGACY)):
        conn = _keyed(path, key, settings)
        if conn is not None:
            conn.close()
            return name
    raise StoreKeyWrongError()


def row_factory(conn: Any) -> Any:
    """The Row class of the driver that made `conn`."""
    return sqlite3.Row if isinstance(conn, sqlite3.Connection) else sqlcipher.Row


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="ascii") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _key_for_encryption(profile: Path) -> bytes:
    """The key a new encryption uses: the one already named by store.key-id if the
    keyring still has it (an encryption that was interrupted), else a new one, saved in
    the keyring before any file is written."""
    kid = key_id(profile)
    if kid:
        key = _keyring_get(kid)
        if key is not None:
            return key
    kid, key = secrets.token_hex(16), secrets.token_bytes(KEY_BYTES)
    try:
        keyring.set_password(KEYRING_SERVICE, _entry(kid), key.hex())
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError() from exc
    if _keyring_get(kid) != key:
        raise KeyringUnavailableError()
    _write_atomic(Path(profile) / KEY_ID_FILE, kid + "\n")
    return key


def _counts(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'")]
    return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0]
            for n in names}


def _exclusive_source(path: Path, key: bytes | None) -> Any:
    """The store at `path` (plain when `key` is None, else in the legacy format) opened
    alone, out of WAL mode, with an exclusive lock held until the connection closes.
    Leaving WAL needs every other connection closed: this is the busy check
    (StoreBusyError, nothing changed). It also folds the WAL into store.db, so no log is
    left beside the new file."""
    if key is None:
        # The busy check runs on the stdlib driver, as every connection to a plain store
        # does: POSIX locks of two SQLite libraries in one process do not see each other.
        probe = sqlite3.connect(path, isolation_level=None)
        try:
            probe.execute("PRAGMA busy_timeout = 2000")
            if probe.execute("PRAGMA journal_mode = DELETE").fetchone()[0] != "delete":
                raise StoreBusyError()
        except sqlite3.OperationalError as exc:
            raise StoreBusyError() from exc
        finally:
            probe.close()
        src: Any = sqlcipher.connect(str(path), isolation_level=None, check_same_thread=True)
    else:
        src = _keyed(path, key, LEGACY)
        if src is None:
            raise StoreKeyWrongError()
    try:
        src.execute("PRAGMA busy_timeout = 2000")
        mode = src.execute("PRAGMA journal_mode = DELETE" if key is not None
                           else "PRAGMA journal_mode").fetchone()[0]
        if mode != "delete":
            raise StoreBusyError()  # another process has it open (in WAL)
        src.execute("PRAGMA locking_mode = EXCLUSIVE")
        src.execute("BEGIN EXCLUSIVE")
        src.execute("COMMIT")  # the exclusive lock is kept until the connection closes
    except sqlcipher.OperationalError as exc:
        src.close()
        raise StoreBusyError() from exc
    except BaseException:
        src.close()
        raise
    return src


def encrypt_store(profile: Path, progress: Progress | None = None, *,
                  progress_steps: int = PROGRESS_STEPS) -> dict[str, Any]:
    """Encrypt the store of `profile` in place in the current page format: a plain store,
    or one encrypted in the legacy format (nothing to do if it is current).

    Phases reported to `progress`: "key", "copy", "verify", "swap". The store must not be open
    elsewhere (StoreBusyError otherwise, nothing changed). Returns a summary: encrypted
    (bool, whether this call did it), reencrypted (from the legacy format), tables, rows,
    files (blob files encrypted), seconds.
    """
    profile = Path(profile)
    path = profile / "store.db"
    tmp = profile / ("store.db" + TMP_SUFFIX)
    report = progress or (lambda phase, done: None)
    started = time.monotonic()
    from desktop.store.blobs import BlobStore, blob_key

    legacy = False
    if is_encrypted(path):
        key = load_key(profile)  # a store we cannot open is not "already encrypted"
        legacy = store_format(profile) == "legacy"
        if not legacy:
            files = BlobStore(profile / "blobs", blob_key(key)).encrypt_all()  # after a kill
            (profile / BLOBS_MARKER).unlink(missing_ok=True)
            return {"encrypted": False, "already": True, "reencrypted": False, "tables": 0,
                    "rows": 0, "files": files, "seconds": 0.0}
    elif not path.exists():
        # A new store: created plain by the normal open (schema, device id), then encrypted.
        from desktop.store.store import Store

        Store.open(profile).close()
    report("key", 0.0)
    key = load_key(profile) if legacy else _key_for_encryption(profile)
    report("key", 1.0)
    for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
        leftover.unlink(missing_ok=True)
    src = _exclusive_source(path, key if legacy else None)
    try:
        before = _counts(src)
        steps = [0]
        total_pages = max(1, src.execute("PRAGMA page_count").fetchone()[0])

        def tick() -> int:
            steps[0] += 1
            report("copy", min(0.99, steps[0] * progress_steps / (total_pages * 200)))
            return 0

        report("copy", 0.0)
        src.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{key.hex()}'\"", (str(tmp),))
        for pragma in FORMAT:
            src.execute(f"PRAGMA enc.{pragma}")
        src.set_progress_handler(tick, progress_steps)
        try:
            src.execute("SELECT sqlcipher_export('enc')")
        finally:
            src.set_progress_handler(None, progress_steps)
        version = src.execute("PRAGMA main.user_version").fetchone()[0]
        src.execute(f"PRAGMA enc.user_version = {int(version)}")
        src.execute("DETACH DATABASE enc")
        report("copy", 1.0)
        report("verify", 0.0)
        check = _keyed(tmp, key, FORMAT)
        ok, after = False, {}
        if check is not None:
            try:
                ok = check.execute("PRAGMA quick_check").fetchall() == [("ok",)]
                after = _counts(check)
            finally:
                check.close()
        if not ok or after != before:
            tmp.unlink(missing_ok=True)
            raise StoreError("The encrypted copy of the store did not match the original; "
                             "the store was kept unchanged.")
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        report("verify", 1.0)
        report("swap", 0.0)
        # Set until every blob file is encrypted too: a kill in between is resumed by the
        # next `ensure_encrypted` (the app's start) or `encrypt_store`.
        _write_atomic(profile / BLOBS_MARKER, "encrypting blobs\n")
        os.replace(tmp, path)
        _fsync_dir(profile)
        report("swap", 1.0)
    finally:
        src.close()
    remember_key(profile, key)
    # The files: each replaced by its encrypted form with one rename (a kill leaves the
    # rest plain, still readable, and the next encryption or open goes on).
    files = BlobStore(profile / "blobs", blob_key(key)).encrypt_all()
    (profile / BLOBS_MARKER).unlink(missing_ok=True)
    return {"encrypted": True, "already": False, "reencrypted": legacy, "tables": len(before),
            "files": files, "rows": sum(before.values()),
            "seconds": round(time.monotonic() - started, 3)}


def ensure_encrypted(profile: Path, progress: Progress | None = None) -> bool:
    """Encrypt the store of `profile` if it is plain (or new) and the system keyring can
    keep its key, or re-encrypt it if it is in the legacy format. Returns whether the
    store is encrypted; a store left plain or legacy (no keyring on this machine, the
    store open in another program) is logged and used as it is."""
    import logging

    profile = Path(profile)
    try:
        if is_encrypted(profile / "store.db"):
            try:
                legacy = store_format(profile) == "legacy"
            except StoreOpenError:
                return True  # the key is missing or wrong: the store's open says so
            if legacy or (profile / BLOBS_MARKER).exists():
                encrypt_store(profile, progress)  # or blob files left plain by a kill
            return True
        encrypt_store(profile, progress)
    except (KeyringUnavailableError, StoreBusyError) as exc:
        logging.getLogger(__name__).warning("store of %s left as it is: %s", profile, exc)
        return is_encrypted(profile / "store.db")
    return True


def status(profile: Path) -> dict[str, Any]:
    """Whether the store of `profile` is encrypted and its key is at hand."""
    path = Path(profile) / "store.db"
    enc = is_encrypted(path)
    key_ok: bool | None = None
    if enc:
        try:
            load_key(profile)
            key_ok = True
        except StoreKeyMissingError:
            key_ok = False
    fmt: str | None = "plain"
    if enc:
        try:
            fmt = store_format(profile) if key_ok else None
        except StoreKeyWrongError:
            fmt = None
    return {"store": str(path), "exists": path.exists(), "encrypted": enc,
            "key_in_keyring": key_ok, "key_id": key_id(profile), "format": fmt}
