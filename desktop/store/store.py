"""The local store: one profile folder holding the database, blobs and settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from desktop.errors import StoreError
from desktop.schema import ENTITIES, schema_generation
from desktop.store import cipher
from desktop.store.blobs import BlobStore, blob_key
from desktop.store.database import (
    another_connection,
    integrity_problems,
    open_database,
    translate,
)
from desktop.store.hlc import HybridClock
from desktop.store.ids import new_id, utc_now_iso
from desktop.store.journal import Journal
from desktop.store.repository import Repository

DB_NAME = "store.db"


@dataclass
class Changes:
    """What a committed operation changed: entity name -> record ids (None: many/unknown)."""

    entities: dict[str, set[str | None]] = field(default_factory=dict)

    def add(self, entity: str, record_id: str | None) -> None:
        self.entities.setdefault(entity, set()).add(record_id)

    def __bool__(self) -> bool:
        return bool(self.entities)


Listener = Callable[[Changes], None]


class WriteTx:
    """One write transaction. Lazily takes one HLC stamp for all fields written in it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        self.now = utc_now_iso()
        self._stamp: str | None = None
        self.changes = Changes()

    @property
    def stamp(self) -> str:
        if self._stamp is None:
            self._stamp = self.store.clock.now()
        return self._stamp

    def next_stamp(self) -> str:
        self._stamp = self.store.clock.now()
        return self._stamp

    def changed(self, entity: str, record_id: str | None) -> None:
        self.changes.add(entity, record_id)


class Store:
    """Open with `Store.open(profile_dir)`. Not thread-safe: use it from one thread."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.path = profile / DB_NAME
        gen = schema_generation()
        self.db = open_database(self.path)
        self.conn = self.db.conn
        self.conn.row_factory = cipher.row_factory(self.conn)
        # Encrypted or not is read off the connection, never off the file: closing any
        # other descriptor of store.db drops this process's POSIX locks on it, SQLite's
        # among them, and another process may then delete the WAL under this connection
        # (the index builder saw an old snapshot for ever after a first sync).
        key = cipher.cached_key(profile) if cipher.encrypted_connection(self.conn) else None
        self.blobs = BlobStore(profile / "blobs", blob_key(key) if key else None)
        self._listeners: list[Listener] = []
        self._tx: WriteTx | None = None
        # The schema generation whose columns this file has (desktop.store.fielddefs):
        # custom fields installed later get their columns at the next write.
        self.schema_seen = gen  # open_database added the columns of this generation
        self.device_id = self.meta_get("device_id") or self._init_device()
        self.clock = HybridClock(self.device_id, self.meta_get("hlc_last"))
        self.user = self.meta_get("user") or ""
        self.journal = Journal(self)
        self._repos = {name: Repository(self, ent, i + 1)
                       for i, (name, ent) in enumerate(ENTITIES.items())}
        from desktop.store.fielddefs import install
        from desktop.store.visibility import held_policy

        install(self)
        held_policy(self)  # what its user may not read, for the UI (desktop.store.visibility)

    @classmethod
    def open(cls, profile: Path, *, refetchable: bool = False) -> Store:
        """`refetchable`: this connection writes only what the sync server can give back
        (pulled changes with their cursor, acknowledgements of pushed entries), so its
        commits skip the disk flush: after a power cut the lost ones are pulled or
        pushed again (at most once per entry, server side). Edits of the rep are always
        flushed before the save returns."""
        profile = Path(profile)
        try:
            profile.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the profile folder {profile}: {exc.strerror}.") from exc
        store = cls(profile)
        if refetchable:
            store.conn.execute("PRAGMA synchronous = NORMAL")  # WAL stays crash-consistent
        return store

    def close(self) -> None:
        self.conn.close()

    def connector(self) -> Callable[[], Any]:
        """How a helper thread opens a connection of its own to this store (called in
        that thread: a connection stays in the thread that made it)."""
        key = cipher.cached_key(self.profile) if cipher.encrypted_connection(self.conn) else None
        return partial(another_connection, self.path, key)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ access
    def repo(self, entity: str) -> Repository:
        try:
            return self._repos[entity]
        except KeyError:
            raise StoreError(f"unknown entity '{entity}'") from None

    @property
    def repos(self) -> dict[str, Repository]:
        return self._repos

    def search(self, text: str, limit: int = 20,
               entities: tuple[str, ...] = ("account", "contact")) -> list[Any]:
        from desktop.store.search import search

        return search(self, text, limit=limit, entities=entities)

    def search_outcome(self, text: str, limit: int = 20,
                       entities: tuple[str, ...] = ("account", "contact")) -> Any:
        """The hits and whether the search index was complete
        (desktop.store.search.SearchOutcome)."""
        from desktop.store.search import search_outcome

        return search_outcome(self, text, limit=limit, entities=entities)

    # ------------------------------------------------------------ sync side (see remote.py)
    def apply_remote(self, changes: Any, cursor: int | None = None,
                     visibility: Any = None) -> Any:
        from desktop.store.remote import apply_remote

        return apply_remote(self, changes, cursor, visibility)

    def open_conflicts(self) -> list[Any]:
        from desktop.store.remote import open_conflicts

        return open_conflicts(self)

    def resolve_conflict(self, conflict_id: int, keep: str) -> None:
        from desktop.store.remote import resolve_conflict

        resolve_conflict(self, conflict_id, keep)

    def search_backlog(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM search_backlog").fetchone()[0])

    def index_backlog(self, *, max_rows: int | None = None, chunk: int = 2000,
                      progress: Callable[[int, int], None] | None = None,
                      cancelled: Callable[[], bool] | None = None) -> int:
        """Make records that arrived in bulk searchable by pinyin and phone, here and now,
        `chunk` rows per short transaction so edits are never held up behind it
        (desktop.store.indexer; the app and the sync engine use its worker process
        instead). Returns how many rows were indexed."""
        from desktop.store.indexer import drain

        return drain(self, max_rows=max_rows, slice_rows=chunk, progress=progress,
                     cancelled=cancelled)

    def index_state(self) -> Any:
        """How far the search index is (desktop.store.indexer.IndexState)."""
        from desktop.store.indexer import index_state

        return index_state(self)

    def wipe(self) -> None:
        """Delete every row of every table in one transaction (the schema and its
        migration record stay): another connection to this store (the app's) sees an
        empty store at once. Listeners hear the change as entity "*" (everything).
        Raises StoreError (e.g. StoreBusyError) if it cannot; then nothing is deleted."""
        with self.write() as w:
            tables = [r[0] for r in w.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'search_fts%' AND name NOT LIKE '\\_sqlite%' ESCAPE '\\'")]
            # The search index is emptied as a whole; the per-row delete trigger would
            # ask it to forget rows it no longer has, so it is set aside meanwhile.
            trigger = w.conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name = 'search_doc_ad'").fetchone()
            w.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
            w.conn.execute("DROP TRIGGER IF EXISTS search_doc_ad")
            for name in tables:
                w.conn.execute(f'DELETE FROM "{name}"')
            if trigger is not None:
                w.conn.execute(trigger[0])
            w.changed("*", None)

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def check_integrity(self) -> list[str]:
        return integrity_problems(self.db)

    # ------------------------------------------------------------ meta
    def meta_get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        if conn is None:
            with self.write() as w:
                w.conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        else:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def set_user(self, username: str) -> None:
        self.meta_set("user", username)
        self.user = username

    def _init_device(self) -> str:
        """Claims the store's device id. Not through `write`, which reads the clock this id
        seeds: another process opening the new store at the same moment may have written
        its id and a first record in between, and then its id is the one kept."""
        device = new_id()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                    [("device_id", device), ("created_at", utc_now_iso())])
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except cipher.ERRORS as exc:
            raise translate(exc, self.path) from exc
        return self.meta_get("device_id") or device

    # ------------------------------------------------------------ transactions
    @property
    def in_write(self) -> bool:
        """Is a write transaction of this store open (on this thread's connection)?"""
        return self._tx is not None

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """A write transaction; nested calls join the outer one. On success, listeners
        hear what changed after the commit; on any error nothing is kept."""
        if self._tx is not None:
            yield self._tx
            return
        tx = WriteTx(self)
        self._tx = tx
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                # Another connection (the sync engine's) may have advanced the clock.
                on_disk = self.conn.execute(
                    "SELECT value FROM meta WHERE key = 'hlc_last'").fetchone()
                if on_disk and on_disk[0]:
                    self.clock.observe(on_disk[0])
                if self.schema_seen != schema_generation():
                    from desktop.store.fielddefs import add_columns

                    add_columns(self)
                yield tx
                if tx._stamp is not None:
                    self.conn.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?)",
                        (self.clock.last,))
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if tx._stamp is not None:
                    # The stamp was never committed; restart from what is on disk.
                    self.clock = HybridClock(self.device_id, self.meta_get("hlc_last"))
                raise
        except cipher.ERRORS as exc:
            raise translate(exc, self.path) from exc
        finally:
            self._tx = None
        if tx.changes:
            for listener in list(self._listeners):
                listener(tx.changes)

