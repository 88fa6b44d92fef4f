"""Engine creation and migrations.

SQLite (the embedded default): WAL, a busy timeout, and explicit `BEGIN IMMEDIATE` for
write transactions (`write_tx`) so two writers never deadlock on a lock upgrade; one
server process only. PostgreSQL: a normal pool; writers serialise on the single-row
version counter (see `server.push`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event

from desktop.errors import FieldCRMError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
MIGRATION_LOCK_KEY = 727060101


class ServerDatabaseError(FieldCRMError):
    """The server database could not be opened."""


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> sa.Engine:
    """Create the engine for `url` (sqlite:///... or postgresql+psycopg://...).

    Raises ServerDatabaseError when the URL is not one the server supports.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ServerDatabaseError(f"'{url}' is not a database URL") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            pool_size=8, max_overflow=32)
        _sqlite_hooks(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_size=10, max_overflow=30, pool_pre_ping=True)
    raise ServerDatabaseError(
        f"unsupported database '{parsed.get_backend_name()}': use sqlite:/// or postgresql+psycopg://")


SQLITE_CACHE_KIB = 64 * 1024
SQLITE_CHECKPOINT_PAGES = 16_384  # of 4 KiB


def _sqlite_hooks(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        # FULL: a push the server acknowledged survives a power cut (the client drops
        # acknowledged journal entries, so the server's copy is then the only one).
        cur.execute("PRAGMA synchronous=FULL")
        # Pushes update rows scattered over the whole table; keep its hot pages cached.
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.execute("PRAGMA foreign_keys=ON")
        # An erased person's old values are overwritten, not left in free pages.
        cur.execute("PRAGMA secure_delete=ON")
        # Checkpoint every 64 MiB of WAL, not SQLite's 4 MiB: a 2,000-entry push dirties more
        # than 1,000 pages, so each commit copied its pages back into the database (and
        # fsynced it) once more; batched, pages hot across pushes are copied once. ~15%.
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


_SQLITE_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _process_write_lock(engine: sa.Engine) -> threading.Lock | None:
    """SQLite allows one writer: queue writers of this process on a lock instead of
    letting them spin in SQLite's busy handler (which sleeps up to 100 ms per try)."""
    if not is_sqlite(engine):
        return None
    key = str(engine.url)
    with _LOCKS_GUARD:
        return _SQLITE_WRITE_LOCKS.setdefault(key, threading.Lock())


@contextmanager
def write_tx(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction: BEGIN IMMEDIATE on SQLite (serialised in-process), a plain
    READ COMMITTED transaction on PostgreSQL. Commits on success, rolls back on error."""
    lock = _process_write_lock(engine)
    if lock is not None:
        lock.acquire()
    try:
        with engine.connect() as conn:
            if lock is not None:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn
    finally:
        if lock is not None:
            lock.release()


@contextmanager
def read_tx(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read transaction with one consistent snapshot (REPEATABLE READ on PostgreSQL;
    a WAL read transaction on SQLite)."""
    with engine.connect() as conn:
        if not is_sqlite(engine):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def migrate(engine: sa.Engine) -> None:
    """Bring the database to the newest schema (Alembic, run in-process). Several
    processes starting at once on PostgreSQL take turns on an advisory lock."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with write_tx(engine) as conn:
            if not is_sqlite(engine):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        raise ServerDatabaseError(
            f"cannot open the server database ({exc.orig}); check --database-url and that "
            "the database server is running") from exc


def open_database(url: str) -> sa.Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine
