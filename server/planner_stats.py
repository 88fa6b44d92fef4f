"""Keeps PostgreSQL's planner statistics of the sync tables current.

PostgreSQL plans from statistics that autovacuum gathers. Where autovacuum is off (the
CI machines' PostgreSQL, some managed set-ups) or has not run yet after a big load, the
planner guesses: it took a manager's first-sync page for a few hundred rows and sorted
all 210,000 visible records on disk for every 8,000-row page (0.3-0.5 s a page instead of
0.04 s). So the server itself runs ANALYZE on the tables it writes, by autovacuum's own
rule: when the rows written since the last analysis exceed 50 + 10% of the records.

ANALYZE samples at most 30,000 rows per table and takes a lock that blocks neither reads
nor writes; it runs on a background thread, one at a time, at most every 10 s (writes
that come due sooner wait for that, so the last rows of a load are analyzed too).
SQLite needs none of this: its queries name their index (see server.pull).
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa

from server.db import is_sqlite

log = logging.getLogger(__name__)

TABLES = ("records", "processed")
BASE_THRESHOLD = 50  # autovacuum_analyze_threshold
SCALE_FACTOR = 0.1  # autovacuum_analyze_scale_factor
MIN_INTERVAL_S = 10.0  # during a big load, analyze every 10 s, not at every 10% of growth


class PlannerStats:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.enabled = not is_sqlite(engine)
        self._lock = threading.Lock()
        self._written = 0
        self._rows = 0  # table rows at the last analysis
        self._running = False
        self._last = float("-inf")  # time.monotonic() of the last analysis
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def start(self) -> None:
        """Analyze now if the tables hold rows but were never analyzed (a database loaded
        while autovacuum was off, or restored from a dump)."""
        if not self.enabled:
            return
        with self.engine.connect() as conn:
            never = conn.execute(sa.text(
                "SELECT bool_and(last_analyze IS NULL AND last_autoanalyze IS NULL) "
                "FROM pg_stat_user_tables WHERE relname IN :tables").bindparams(
                    sa.bindparam("tables", expanding=True)), {"tables": list(TABLES)}).scalar_one()
            # Not n_live_tup: the activity statistics lag behind recent writes.
            loaded = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM records)")).scalar_one()
            self._rows = self._table_rows(conn)
        if never and loaded:
            self._launch()

    def wrote(self, count: int) -> None:
        """`count` rows were inserted or updated; analyze when they pass the threshold."""
        if not self.enabled or count <= 0:
            return
        with self._lock:
            self._written += count
            due = self._written > BASE_THRESHOLD + SCALE_FACTOR * self._rows and not self._running
        if due:
            self._launch()

    def stop(self, timeout: float = 5.0) -> None:
        """The server is shutting down: an analysis still waiting for its turn is
        dropped (its database may be gone next: a test's, a restore's), one running is
        waited for."""
        self._stopped.set()
        self.join(timeout)

    def join(self, timeout: float = 30.0) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _launch(self) -> None:
        with self._lock:
            if self._running or self._stopped.is_set():
                return
            self._running = True
            self._written = 0
        self._thread = threading.Thread(target=self._analyze, name="planner-stats", daemon=True)
        self._thread.start()

    @staticmethod
    def _table_rows(conn: sa.Connection) -> int:
        """Rows of the records table as of its last analysis (0 if never analyzed)."""
        rows = conn.execute(
            sa.text("SELECT reltuples FROM pg_class WHERE relname = 'records'")).scalar_one()
        return max(int(rows or 0), 0)

    def _analyze(self) -> None:
        try:
            if self._stopped.wait(max(0.0, self._last + MIN_INTERVAL_S - time.monotonic())):
                return
            self._last = time.monotonic()
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(f"ANALYZE {', '.join(TABLES)}")
                rows = self._table_rows(conn)
            with self._lock:
                self._rows = rows
        except sa.exc.SQLAlchemyError as exc:  # the next writes try again
            log.warning("ANALYZE of the sync tables failed: %s", exc)
        finally:
            with self._lock:
                self._running = False
