"""kill -9 of a first sync that left its heavy activity indexes for after the pull
(desktop.store.bulkindex): after every kill each such index exists or is noted, never
neither, and the store's queries run; the next sync brings every index back, and the
store answers like one synced without a kill."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.store import Store, bulkindex
from desktop.store.remote import DEFER_INDEX_MIN
from desktop.sync.client import SyncClient
from tests.store.test_bulkindex import answers, book, indexes
from tests.sync.conftest import PASSWORD, Device, Server, snapshot

REPO = Path(__file__).resolve().parents[2]


def _load(server: Server, changes: list[dict[str, Any]]) -> None:
    """Push the book from a loader device (no local store)."""
    client = SyncClient(server.url, "loader")
    client.login("kim", PASSWORD)
    for k in range(0, len(changes), 1000):
        batch = [{"device_id": "loader", "seq": k + j + 1, **ch}
                 for j, ch in enumerate(changes[k:k + 1000])]
        res = client.push(batch)
        assert [r for r in res["results"] if r["status"] != "applied"] == []
    client.close()


def _wait_for_deferral(db: Path, pid: int) -> None:
    """Until the sync has noted deferred indexes (or restored them, or ended)."""
    limit = time.monotonic() + 30
    while time.monotonic() < limit:
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
            try:
                if conn.execute("SELECT 1 FROM meta WHERE key = ?",
                                (bulkindex.META_KEY,)).fetchone():
                    return
            finally:
                conn.close()
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)


def _after_kill(profile: Path) -> bool:
    """The store a kill left: consistent, each heavy index built or noted, its queries
    answering. Returns whether indexes were waiting."""
    store = Store.open(profile)
    try:
        held, have = bulkindex.held(store.conn), indexes(store.conn)
        for name in bulkindex.HEAVY["activity"]:
            assert (name in held) != (name in have), name
        assert store.check_integrity() == []
        answers(store)  # no "no such index" while they wait
        return bool(held)
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite"])  # the client's side: one backend is enough
def test_kill_9_during_a_first_sync_with_deferred_indexes_then_restart(
        server: Server, tmp_path: Path) -> None:
    server.user("kim")
    changes = book(300, 3000, owner="kim")
    _load(server, changes)
    fresh = Store.open(tmp_path / "fresh")
    want = indexes(fresh.conn)
    fresh.close()
    ref = Device(tmp_path / "ref", server.url)
    ref.login("kim")
    ref.sync()  # uninterrupted
    assert bulkindex.held(ref.store.conn) == {} and indexes(ref.store.conn) == want

    killed_path = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.kill_client", server.url, "kim", PASSWORD,
         str(killed_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        env={"FIELDCRM_ARGON2_PROFILE": "test", "PATH": "/usr/bin:/bin"})
    assert proc.stdin is not None and proc.stdout is not None
    rng = random.Random(26)
    kills = waiting = 0
    deadline = time.monotonic() + 120
    try:
        assert proc.stdout.readline().strip() == "ready", "kill_client did not start"
        while waiting < 3 and time.monotonic() < deadline:
            proc.stdin.write("sync 0 1000\n")  # pages of 1,000: the first has 700 activities
            proc.stdin.flush()
            pid = int(proc.stdout.readline().split()[1])
            _wait_for_deferral(killed_path / "store.db", pid)
            time.sleep(rng.uniform(0.0, 0.3))  # at once, or a page or two later
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            status = int(proc.stdout.readline().split()[2])
            if status == signal.SIGKILL:
                kills += 1
                waiting += _after_kill(killed_path)
            else:
                assert status == 0, f"child failed (status {status}); see stderr"
                # done before the kill: start the first sync again from nothing
                for p in list(killed_path.iterdir()):
                    if p.name.startswith("store.db"):
                        p.unlink()
        assert waiting >= 1, f"no kill fell while indexes waited ({kills} kills)"
        print(f"{kills} kills, {waiting} while indexes waited")
        proc.stdin.write("sync 0 1000\n")  # the restart, uninterrupted
        proc.stdin.flush()
        proc.stdout.readline()
        assert proc.stdout.readline().split()[2] == "0"
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdin.close()
        proc.stdout.close()
    killed = Store.open(killed_path)
    try:
        assert bulkindex.held(killed.conn) == {}
        assert indexes(killed.conn) == want  # every index, as a new store makes it
        assert killed.check_integrity() == []
        entities = ("account", "activity")
        assert snapshot(killed, entities) == snapshot(ref.store, entities)
        assert answers(killed) == answers(ref.store)
        killed.conn.execute(  # a query that names a deferred index (raises without it)
            "SELECT kind FROM activity INDEXED BY followup_evidence_account WHERE deleted = 0 "
            "AND account_id = ? AND (done_at IS NOT NULL OR kind IN ('call', 'visit'))",
            ("x",)).fetchall()
    finally:
        killed.close()
        ref.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_first_sync_cut_off_then_offline_builds_its_indexes_without_the_server(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The network goes with the first sync half done and stays gone (a customer's site):
    the live engine, offline a few attempts in a row, builds the indexes the pull left
    out, so the rep's lists and account pages are fast on what landed."""
    from desktop.sync import engine as engine_mod
    from desktop.sync.engine import State, SyncEngine

    server.user("kim")
    changes = book(300, 3000, owner="kim")
    fresh = Store.open(tmp_path / "fresh")
    want = indexes(fresh.conn)
    fresh.close()
    dev = Device(tmp_path / "dev", server.url)
    dev.login("kim")
    half = 300 + DEFER_INDEX_MIN + 200
    dev.store.apply_remote(changes[:300], cursor=300)  # pages of a pull, cut off after two
    dev.store.apply_remote(changes[300:half], cursor=half)
    assert set(bulkindex.held(dev.store.conn)) == set(bulkindex.HEAVY["activity"])
    dev.close()

    def no_network(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Network is unreachable", request=request)

    monkeypatch.setattr(engine_mod, "backoff_delay", lambda attempt, rng: 0.01)
    eng = SyncEngine(tmp_path / "dev", live=False, transport=httpx.MockTransport(no_network))
    stop = threading.Event()
    runner = threading.Thread(target=eng.run, args=(stop,))
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Store.open(tmp_path / "dev") as st:
                if not bulkindex.held(st.conn):
                    break
            time.sleep(0.05)
        assert eng.status().state is State.OFFLINE
    finally:
        stop.set()
        runner.join(15)
        eng.close()
    with Store.open(tmp_path / "dev") as st:
        assert bulkindex.held(st.conn) == {}
        assert indexes(st.conn) == want
        assert st.repo("activity").count() == half - 300


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_big_first_sync_pulls_with_the_bulk_write_settings(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.store import database
    from desktop.sync import engine as engine_mod

    server.user("kim")
    changes = book(100, 900, owner="kim")
    _load(server, changes)
    seen: list[tuple[int, int]] = []
    real = database.bulk_writing

    @contextlib.contextmanager
    def watched(conn: Any) -> Any:
        with real(conn):
            seen.append((conn.execute("PRAGMA cache_size").fetchone()[0],
                         conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]))
            yield

    monkeypatch.setattr(engine_mod, "BULK_WRITING_FROM", 500)  # 1,000 rows to pull
    monkeypatch.setattr(engine_mod, "bulk_writing", watched)
    dev = Device(tmp_path / "dev", server.url)
    dev.login("kim")
    dev.sync()
    assert seen == [(-database.BULK_CACHE_KIB, database.BULK_CHECKPOINT_PAGES)]
    assert dev.store.repo("activity").count() == 900
    dev.close()
