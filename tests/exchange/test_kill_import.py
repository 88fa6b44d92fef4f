"""kill -9 in the middle of an import, then the same import again: every row once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from desktop.exchange.importer import CHUNK, marker_key, run_import
from desktop.store import Store
from tests.exchange.files import write_csv

ROWS = 60_000


def _marker(db: Path, key: str) -> dict[str, Any]:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return {}
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:  # the store is being created
        return {}
    finally:
        conn.close()
    return json.loads(row[0]) if row else {}


@contextmanager
def import_running(profile: Path, path: Path, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    """`fieldcrm import account PATH OPTIONS` in a process of its own, handed over once its
    first chunk has committed (still running); killed on the way out if it still runs."""
    key = marker_key(path, "account")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--profile", str(profile), "import", "account",
         str(path), *options, "--json"], cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        seen: dict[str, Any] = {}
        while proc.poll() is None and not seen.get("rows"):
            seen = _marker(profile / "store.db", key)
            time.sleep(0.005)
        assert proc.poll() is None, "the import ended before it could be killed: " + (
            proc.stderr.read().decode() if proc.stderr else "")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_kill_9_mid_import_then_rerun_creates_nothing_twice(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    rows = [["名称", "电话", "行业"]] + [
        [f"测试公司{i:06d}", f"139{i:08d}", "互联网" if i % 2 else "制造"] for i in range(ROWS)]
    path = write_csv(tmp_path / "big.csv", rows, "gbk")
    key = marker_key(path, "account")
    # `create`: duplicates are created anyway, so only the progress marker keeps a
    # re-run from creating the committed rows twice
    with import_running(profile, path, "--on-duplicate", "create") as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    after_kill = _marker(profile / "store.db", key)
    assert after_kill["rows"] % CHUNK == 0 and 0 < after_kill["rows"] < ROWS
    with Store.open(profile) as store:
        assert store.repo("account").count() == after_kill["rows"]  # whole chunks only
        result = run_import(store, path, "account", on_duplicate="create")
        assert result.already_imported == after_kill["rows"]
        assert result.created == ROWS - after_kill["rows"]
        names = [r[0] for r in store.conn.execute(
            "SELECT name FROM account WHERE deleted = 0")]
        assert len(names) == ROWS and len(set(names)) == ROWS
        assert store.check_integrity() == []
        assert store.journal.counts()["pending"] == ROWS
