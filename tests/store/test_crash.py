"""kill -9 a writer at many random moments: the store must always reopen, pass
PRAGMA integrity_check, and every committed row change must have exactly its journal
entry (the row's per-field clocks are exactly the newest stamps in the journal)."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import defaultdict
from pathlib import Path

from desktop.store import Store
from desktop.store.rows import clocks_of
from desktop.store.textindex import build_doc

KILLS = 120


def write_until_killed(profile: Path, seed: int, ready_fd: int) -> None:
    rng = random.Random(seed)
    store = Store.open(profile)
    repo = store.repo("account")
    ids = [r["id"] for r in repo.iter_all()]
    os.write(ready_fd, b"r")
    while True:
        op = rng.random()
        if op < 0.4 or not ids:
            ids.append(repo.create({"name": f"客户{rng.randrange(10**6)}", "region": "华南"})["id"])
        elif op < 0.8:
            repo.update(rng.choice(ids), {"industry": f"行业{rng.randrange(100)}"})
        elif op < 0.9:
            repo.import_many(
                {"name": f"批量{rng.randrange(10**6)}"} for _ in range(rng.randrange(1, 30)))
        else:
            rid = rng.choice(ids)
            repo.delete(rid)
            if rng.random() < 0.5:
                repo.restore(rid)
            else:
                ids.remove(rid)


def check_invariant(profile: Path) -> int:
    with Store.open(profile) as store:
        assert store.check_integrity() == []
        newest: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for e in store.journal.pending(limit=10**9):
            slot = newest[(e.entity, e.record_id)]
            for name, fw in e.fields.items():
                assert fw["hlc"] > slot.get(name, ""), "journal stamps go back in time"
                slot[name] = fw["hlc"]
        ent = store.repo("account").entity
        rows = store.conn.execute("SELECT * FROM account").fetchall()
        assert {("account", r["id"]): clocks_of(ent, r) for r in rows} == dict(newest)
        # Every live record is searchable or waiting in the index backlog; no tombstone is.
        n = store.repo("account").number << 40
        missing, stale = store.conn.execute(
            "SELECT sum(deleted = 0 AND d.rowid IS NULL AND b.rowid IS NULL), "
            "sum(deleted = 1 AND d.rowid IS NOT NULL) "
            "FROM account a LEFT JOIN search_doc d ON d.rowid = ? + a.rid "
            "LEFT JOIN search_backlog b ON b.rowid = ? + a.rid", (n, n)).fetchone()
        assert (missing or 0, stale or 0) == (0, 0)
        return len(rows)


def test_kill_9_at_random_points_leaves_a_consistent_store(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    rng = random.Random(1234)
    build_doc("account", {"name": "预热"})  # load the pinyin tables once, before forking
    records = []
    for i in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer: never returns into pytest
            try:
                os.close(read_fd)
                write_until_killed(profile, i, write_fd)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(1)
        os.close(write_fd)
        assert os.read(read_fd, 1) == b"r"
        os.close(read_fd)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "writer died early"
        records.append(check_invariant(profile))
    assert records[-1] > KILLS and records == sorted(records)  # the writers really wrote
