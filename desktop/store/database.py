"""Opening the SQLite file: refusing a damaged or too-new store before touching it, and
translating SQLite's errors into messages a rep can act on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from desktop.errors import (
    DiskFullError,
    StoreBusyError,
    StoreDamagedError,
    StoreError,
    StoreTooNewError,
)
from desktop.store import cipher
from desktop.store import migrations as mig
from desktop.store.sqlite_utils_lite import Database

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
CHECKPOINT_PAGES = 16384


def translate(exc: Exception, path: Path) -> StoreError:
    text = str(exc).lower()
    if "disk is full" in text or ("disk i/o" in text and "full" in text):
        return DiskFullError()
    if "locked" in text or "busy" in text:
        return StoreBusyError(
            f"The store {path} is in use by another program; close it and try again.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreDamagedError(f"The store {path} is damaged ({exc}). It was not changed; "
                                 "restore it from a backup or sync it again from the server.")
    return StoreError(f"The store {path} could not be updated: {exc}")


@contextmanager
def translated(path: Path) -> Iterator[None]:
    try:
        yield
    except cipher.ERRORS as exc:
        raise translate(exc, path) from exc


PLAIN_CACHE_KIB = 32_000
ENCRYPTED_CACHE_KIB = 128_000
BULK_CACHE_KIB = 96_000  # a first sync's connection, while the pull has many pages to go
BULK_CHECKPOINT_PAGES = 65536  # ... and a checkpoint every 256 MiB of log, not 64


@contextmanager
def bulk_writing(conn: Any) -> Iterator[None]:
    """A larger page cache and rarer checkpoints for a bulk write (the pages of a first
    sync). Its transactions touch more pages than the default cache holds, which then
    spills dirty pages mid-transaction and reads them back; and a page written by several
    transactions between two checkpoints is copied into the database once. Issue 26's
    full book (4.3M rows): 71 -> 62 us of the pull's CPU a row with the cache (402 ->
    351 s, peak memory 303 -> 370 MB), 62 -> 59 with the checkpoints (351 -> 321 s). The
    log is cut back to 64 MiB at its next reset (journal_size_limit)."""
    size = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    if size >= 0 or -size < BULK_CACHE_KIB:
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {size}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")


def open_database(path: Path) -> Database:
    """Open (creating if needed) and migrate the store at `path`.

    Raises StoreDamagedError for a file that is not a healthy SQLite store and
    StoreTooNewError for one written by a newer FieldCRM; neither is modified.
    """
    key: bytes | None = None
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                if cipher.key_id(path.parent) is None:
                    raise StoreDamagedError(f"{path} is not a FieldCRM store (or it is "
                                            "damaged); it was not opened.")
                key = cipher.load_key(path.parent)  # an encrypted store (desktop.store.cipher)
    try:
        if key is None:
            conn: Any = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
        else:
            conn = cipher.connect_encrypted(path, key)
        # Deleted records (an erased person) are overwritten, not left in free pages.
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = Database(conn)
        applied, known = mig.applied_names(db), set(mig.known_names())
        unknown = applied - known
        if unknown:
            conn.close()
            raise StoreTooNewError(
                f"{path} was written by a newer version of FieldCRM "
                f"(it has {', '.join(sorted(unknown))}). "
                "Update FieldCRM to open it; the file was not changed.")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # FULL: an edit is on disk when save returns, even if the laptop loses power.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = OFF")
        _cache_settings(conn, key)
        # A checkpoint every 64 MiB of log instead of 4 MiB: a bulk write (an import, a
        # first sync) then copies each page into the database once, not once per chunk.
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {CHECKPOINT_PAGES * 4096}")
        if applied != known:
            # Two processes opening a new store at once: the write lock makes one migrate
            # while the other waits, then finds nothing pending.
            conn.execute("BEGIN IMMEDIATE")
            try:
                mig.upgrade(db)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        elif mig.missing_columns(db):
            # BEGIN IMMEDIATE waits for another connection's write (busy_timeout); a
            # deferred transaction that read first would fail at once with "locked".
            conn.execute("BEGIN IMMEDIATE")
            try:
                mig.add_missing_columns(db)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return db
    except cipher.ERRORS as exc:
        raise translate(exc, path) from exc


def another_connection(path: Path, key: bytes | None) -> Any:
    """One more connection to a store this process has open already (migrated), for a
    helper thread: made by SQLite alone, never by opening the file in Python, since
    closing any other descriptor of store.db drops this process's POSIX locks on it
    (Store.__init__ says what that did). `key`: the store's key when it is encrypted."""
    if key is None:
        conn: Any = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    else:
        conn = cipher.connect_encrypted(path, key)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _cache_settings(conn, key)
    return conn


def _cache_settings(conn: Any, key: bytes | None) -> None:
    # The OS file cache holds an encrypted store's pages as ciphertext, so SQLite's own
    # cache is its only plaintext one: 128 MB (filled only as pages are read) keeps
    # warm searches as fast as on a plain store (1M+1M benchmark store: Chinese search
    # p95 1.39x the plain store's with 32 MB, 0.74x with 128 MB).
    cache_kib = ENCRYPTED_CACHE_KIB if key is not None else PLAIN_CACHE_KIB
    conn.execute(f"PRAGMA cache_size = -{cache_kib}")
    conn.execute("PRAGMA temp_store = MEMORY")


def integrity_problems(db: Database) -> list[str]:
    """Full integrity check (slow on a big store: run it in the background or on demand)."""
    rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows
