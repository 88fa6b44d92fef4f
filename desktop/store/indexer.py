"""The one search-index builder: records that arrive many at once (a first sync, the pull
after a long offline spell, an import, demo data) become searchable by pinyin, initials
and phone digits here, beside the work that brought them instead of after it.

Every bulk path commits its rows and their search rowids (`search_backlog`) in one
transaction (Repository.import_many, desktop.store.remote). Until their documents exist
the rows are listed and found by any part of the name (desktop.store.search scans the
backlog). `drain_slice` turns a slice of the backlog into search documents:

1. read the slice's rows in one read snapshot and build their documents: no write lock
   is held, so the pull or an edit is never kept waiting for the Python work;
2. in one short write transaction, remove exactly those entries from the backlog
   (`DELETE ... RETURNING`) and insert the documents of the entries it removed.

So a crash or a kill -9 anywhere loses nothing and builds nothing twice: an entry
leaves the backlog in the transaction that writes its document. An edit that rebuilt a
record's document in the meantime took the entry out of the backlog
(Repository._reindex), so the builder's older document is dropped, never written.

`IndexWorker` runs the drain in a separate process (`python -m desktop.store.indexer
PROFILE`), the machine's second core (building a document is Python work and would
share the GIL with the pull), woken by `poke()`.
`index_state` tells the UI and the search how far it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from desktop.store.textindex import DOC_FIELDS, insert_docs, load_readings, row_doc

if TYPE_CHECKING:
    from desktop.store.store import Store

log = logging.getLogger(__name__)

SLICE = 2000  # documents per write transaction: about 0.1 s of the write lock
# In the worker while something else writes (the pull): each of its commits makes the
# pull's connection read its pages again, and 2,000 a slice (~30 ms of the lock) cost the
# pull less than 1,000 did (an import beside the builder, CPU per row 19.5/18.7 ->
# 18.4/18.0 µs, and faster; benchmarks.sync 300k rows, two runs: initial sync 31.3k and
# 33.3k rows/s, the builder 21.8/21.4 µs per row).
WORKER_SLICE = 2000
# ... while something else writes; once nothing else has written since its last slice (the
# pull is over) it takes bigger ones: fewer FTS5 segments and commits per document.
QUIET_SLICE = 4000
# The builder runs below the app and the pull: on a 2-core laptop the pull (and the UI)
# take the cores they need and the builder the rest (benchmarks.sync at 300k rows:
# initial sync 23.8k -> 26.7-29.2k rows/s; the builder catches up after the last page).
WORKER_NICE = 10
# The read-ahead thread (`_ReadAhead`) only after this many quiet slices in a row: a pull
# commits a page every few tenths of a second, so one quiet slice is often just the gap
# between two of its pages, and a second thread of the builder then slowed its landing.
QUIET_BEFORE_READ_AHEAD = 3
INLINE_MAX = 2000  # a backlog this small is built at once in the caller, no process
DONE_KEY = "index_built"  # meta: documents built since the backlog was last empty
IDLE_POLL_S = 1.0  # a worker with nothing to do looks again this often (or when poked)
_RID_MASK = (1 << 40) - 1


@dataclass(frozen=True)
class IndexState:
    """How far the builder is: `remaining` records wait for their search documents,
    `built` were built since the backlog was last empty."""

    remaining: int
    built: int

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    @property
    def percent(self) -> int:
        if self.complete:
            return 100
        return min(99, self.built * 100 // (self.built + self.remaining))


def index_state(store: Store) -> IndexState:
    remaining = store.search_backlog()
    built = int(store.meta_get(DONE_KEY) or 0) if remaining else 0
    return IndexState(remaining, built)


def drain_slice(store: Store, limit: int = SLICE) -> tuple[int, int]:
    """Build the documents of up to `limit` backlog entries (oldest first). Returns
    (entries taken from the backlog, documents built); (0, 0) when it is empty."""
    rowids, docs = read_slice(store.conn, store.repos.values(), limit)
    if not rowids:
        _mark_empty(store)
        return 0, 0
    return write_slice(store, rowids, docs)


def read_slice(conn: Any, repos: Iterable[Any], limit: int, after: int = -1
               ) -> tuple[list[int], list[tuple[Any, ...]]]:
    """Step 1: up to `limit` backlog entries above `after` and the documents of their
    live rows, in one read snapshot (no write lock held)."""
    by_number = {r.number: r for r in repos}
    docs: list[tuple[Any, ...]] = []
    conn.execute("BEGIN")  # a read snapshot: the entries and their rows agree
    try:
        # each statement's rows come as one JSON text (one step, the GIL free in it; row
        # by row, a thread beside this one held it between every two rows)
        rowids = orjson.loads(conn.execute(
            "SELECT json_group_array(rowid) FROM (SELECT rowid FROM search_backlog "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?)", (after, limit)).fetchone()[0])
        groups: dict[int, list[int]] = {}
        for rowid in rowids:
            groups.setdefault(rowid >> 40, []).append(rowid & _RID_MASK)
        for number, rids in groups.items():
            repo = by_number.get(number)
            if repo is None or not repo.searchable:
                continue
            docs.extend(_build(conn, repo, rids))
    finally:
        conn.execute("COMMIT")
    return rowids, docs


def write_slice(store: Store, rowids: list[int], docs: list[tuple[Any, ...]]
                ) -> tuple[int, int]:
    """Step 2: in one short write transaction, take these entries from the backlog and
    insert the documents of those it took. Returns (entries taken, documents built)."""
    with store.write() as w:
        wanted = orjson.dumps(rowids).decode()
        taken = set(orjson.loads(w.conn.execute(
            "SELECT json_group_array(rowid) FROM search_backlog WHERE rowid IN "
            "(SELECT value FROM json_each(?))", (wanted,)).fetchone()[0]))
        w.conn.execute("DELETE FROM search_backlog WHERE rowid IN "
                       "(SELECT value FROM json_each(?))", (wanted,))
        # Only the entries this transaction took, and never over a document that exists
        # (an edit's, written since the read): the FTS5 index must get each rowid once.
        have = set(orjson.loads(w.conn.execute(
            "SELECT json_group_array(rowid) FROM search_doc WHERE rowid IN "
            "(SELECT value FROM json_each(?))",
            (orjson.dumps([d[0] for d in docs]).decode(),)).fetchone()[0])) if docs else set()
        mine = [d for d in docs if d[0] in taken and d[0] not in have]
        insert_docs(w.conn, mine, whole=True)
        w.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
            (DONE_KEY, len(taken)))
    return len(taken), len(mine)


def _mark_empty(store: Store) -> None:
    if store.meta_get(DONE_KEY) not in (None, "0"):
        store.meta_set(DONE_KEY, "0")


class _ReadAhead:
    """`read_slice` of the next slice on a connection of its own in a thread, while the
    builder writes the current one: the documents are Python work (the GIL) and the
    FTS5 insert is SQLite's (without it), so the two overlap on two cores. Used once
    nothing else writes (the pull is over and its backlog is left: a core idles)."""

    def __init__(self, store: Store) -> None:
        self._connect = store.connector()
        self._repos = list(store.repos.values())
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-read")
        self._next: Future[tuple[list[int], list[tuple[Any, ...]]]] | None = None

    def _read(self, limit: int, after: int) -> tuple[list[int], list[tuple[Any, ...]]]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return read_slice(conn, self._repos, limit, after)

    def take(self, limit: int) -> tuple[list[int], list[tuple[Any, ...]]]:
        """The next slice (read ahead when it could be), the one after it started."""
        pending, self._next = self._next, None  # a read that failed is not handed out again
        if pending is None:
            pending = self._pool.submit(self._read, limit, -1)
        rowids, docs = pending.result()
        # the next one above this one (not yet taken: its write is to come); at the end
        # of the backlog from the start again (entries that came in below)
        self._next = self._pool.submit(self._read, limit, rowids[-1] if rowids else -1)
        return rowids, docs

    def drop(self) -> None:
        """Forget the slice read ahead (the builder goes back to plain slices)."""
        if self._next is not None:
            with contextlib.suppress(Exception):
                self._next.result()
            self._next = None

    def close(self) -> None:
        self.drop()

        def close_conn() -> None:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()

        with contextlib.suppress(Exception):
            self._pool.submit(close_conn).result()
        self._pool.shutdown(wait=True)


def _build(conn: Any, repo: Any, rids: list[int]) -> list[tuple[Any, ...]]:
    """(search rowid, name, terms, bi) of the live rows among `rids`."""
    name = repo.entity.name
    make = row_doc(name)
    if make is None:
        return []
    cols = ", ".join(f'"{f}"' for f in DOC_FIELDS[name])
    base = repo.number << 40
    rows = orjson.loads(conn.execute(
        f'SELECT json_group_array(json_array(rid, {cols})) FROM "{name}" '
        "WHERE rid IN (SELECT value FROM json_each(?)) AND deleted = 0",
        (orjson.dumps(rids).decode(),)).fetchone()[0])
    return [(base | row[0], *make(row[1:])) for row in rows]


def drain(store: Store, *, max_rows: int | None = None, slice_rows: int = SLICE,
          progress: Callable[[int, int], None] | None = None,
          cancelled: Callable[[], bool] | None = None) -> int:
    """Drain the backlog in this thread (all of it, or about `max_rows`). Returns how
    many entries it took."""
    done = 0
    total = store.search_backlog()
    while max_rows is None or done < max_rows:
        if cancelled is not None and cancelled():
            break
        taken, _built = drain_slice(
            store, slice_rows if max_rows is None else min(slice_rows, max_rows - done))
        if not taken:
            break
        done += taken
        if progress is not None:
            progress(done, total)
    return done


# ------------------------------------------------------------ the worker process
def writes_by_others(store: Store) -> int:
    """A number that changes when another connection commits (PRAGMA data_version)."""
    return int(store.conn.execute("PRAGMA data_version").fetchone()[0])


def next_slice(store: Store, seen: int) -> tuple[int, int]:
    """(documents to build next, the mark to pass next time): WORKER_SLICE while
    something else has written since the last slice (a pull, an edit, an import), else
    QUIET_SLICE (300k rows pulled on 2 cores: the book searchable 6.9-7.1 s after the
    last row with 1,000 a slice throughout, 4.5-4.9 s with this; initial sync -2.5%,
    within the runs' spread)."""
    now = writes_by_others(store)
    return (QUIET_SLICE if now == seen else WORKER_SLICE), now


def worker_main(profile: str) -> int:
    """The builder process: drain, then sleep until poked ("go" on stdin); exits on
    "stop" or when stdin closes (the app quit or was killed)."""
    from desktop.errors import StoreBusyError
    from desktop.store.store import Store

    poked = threading.Event()
    ended = threading.Event()

    def listen() -> None:  # a thread: reading a pipe with a timeout is not portable
        for line in sys.stdin:
            if line.strip() == "stop":
                break
            poked.set()
        ended.set()
        poked.set()

    if hasattr(os, "nice"):  # Windows: BELOW_NORMAL_PRIORITY_CLASS, set by IndexWorker
        os.nice(WORKER_NICE)
    # the pinyin tables before the first command: ready when the first slice is (from the
    # file the last builder of this profile left: ~20 ms of CPU instead of ~0.4 s)
    load_readings(Path(profile))
    first = sys.stdin.readline().strip()  # the parent's first line: the store key, or a poke
    if first.startswith("key "):
        from desktop.store.cipher import remember_key

        remember_key(Path(profile), bytes.fromhex(first[4:]))
    elif first in ("", "stop"):
        return 0
    threading.Thread(target=listen, name="index-commands", daemon=True).start()
    store = Store.open(Path(profile), refetchable=True)  # lost on power cut = rebuilt
    ahead = _ReadAhead(store)
    seen = -1  # the first slice takes others to be writing (the pull that poked us)
    quiet = 0  # slices in a row that nothing else wrote before
    try:
        while not ended.is_set():
            size, seen = next_slice(store, seen)
            quiet = quiet + 1 if size == QUIET_SLICE else 0
            try:
                if quiet > QUIET_BEFORE_READ_AHEAD:  # the pull is over: its core is free
                    rowids, docs = ahead.take(size)
                    taken = write_slice(store, rowids, docs)[0] if rowids else 0
                    if not rowids and not _has_backlog(store):
                        _mark_empty(store)
                else:
                    ahead.drop()  # taken by now, or built again from a fresh read
                    taken, _ = drain_slice(store, size)
                    if not taken:
                        quiet = 0
            except StoreBusyError:  # a long write elsewhere (an import chunk): try again
                continue
            if not taken and not _has_backlog(store):
                poked.wait(IDLE_POLL_S)
                poked.clear()
    finally:
        ahead.close()
        store.close()
    return 0


def worker_command(profile: Path) -> list[str]:
    """How to start the builder: this interpreter on this module, or in a frozen build
    the app itself (desktop.cli hands `--index-builder` to `worker_main`)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--index-builder", str(profile)]
    return [sys.executable, "-m", "desktop.store.indexer", str(profile)]


class IndexWorker:
    """One builder process per profile, started on first `poke()`.

        worker = IndexWorker(profile); worker.poke()    # new entries in the backlog
        worker.wait_idle(store)                         # until the backlog is empty
        worker.close()

    A plain child process with a command pipe on its stdin (not multiprocessing: its
    spawn machinery, a resource tracker process and inherited state, is more than a
    builder that only needs the profile's path)."""

    def __init__(self, profile: Path) -> None:
        self.profile = Path(profile)
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else int(self._proc.pid)

    def poke(self) -> None:
        """Entries were added to the backlog: build them (starting the process if needed)."""
        with self._lock:
            if not self.running:
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
            try:
                self._proc.stdin.write("go\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._start()

    def _start(self) -> None:
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            worker_command(self.profile), stdin=subprocess.PIPE, text=True, env=env,
            cwd=str(root) if not getattr(sys, "frozen", False) else None,
            creationflags=getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0))
        from desktop.store.cipher import cached_key

        key = cached_key(self.profile)  # an encrypted store: its key, never on a command line
        if key is not None and self._proc.stdin is not None:
            self._proc.stdin.write(f"key {key.hex()}\n")
            self._proc.stdin.flush()

    def wait_idle(self, store: Store, timeout: float | None = None, poll_s: float = 0.02,
                  cancelled: Callable[[], bool] | None = None) -> bool:
        """Wait until the backlog is empty (built by the worker, or in this thread if
        the worker died). Returns False on timeout or when `cancelled()`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while _has_backlog(store):
            if cancelled is not None and cancelled():
                return False
            if not self.running:
                drain(store)
                break
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll_s)
        return True

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.stdin is not None:
                with contextlib.suppress(BrokenPipeError, OSError):
                    proc.stdin.write("stop\n")
                    proc.stdin.close()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:  # a niced builder on a loaded machine
                    proc.kill()  # safe: a killed build resumes where it stopped
                    proc.wait()


_workers: dict[Path, IndexWorker] = {}
_workers_lock = threading.Lock()


def worker_for(profile: Path) -> IndexWorker:
    """The process's one builder for this profile."""
    key = Path(profile).resolve()
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None:
            worker = _workers[key] = IndexWorker(key)
        return worker


def build_in_background(store: Store) -> IndexWorker | None:
    """Hand the backlog to the profile's builder process, or build a small one at once
    here (starting a process costs more than a few thousand documents). Returns the
    worker that is building, or None when nothing is left."""
    remaining = store.search_backlog()
    if not remaining:
        return None
    worker = worker_for(store.profile)
    if remaining <= INLINE_MAX and not worker.running:
        drain(store)
        return None
    worker.poke()
    return worker


def close_worker(profile: Path) -> None:
    with _workers_lock:
        worker = _workers.pop(Path(profile).resolve(), None)
    if worker is not None:
        worker.close()


def close_workers() -> None:
    with _workers_lock:
        workers = list(_workers.values())
        _workers.clear()
    for w in workers:
        w.close()


def _has_backlog(store: Store) -> bool:
    return store.conn.execute("SELECT 1 FROM search_backlog LIMIT 1").fetchone() is not None


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
