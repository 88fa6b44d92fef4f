"""A store open in one process keeps its SQLite locks while another process opens and
closes the same store (the index builder beside the app or the sync engine). Reading
store.db through a second descriptor after connecting drops a process's POSIX locks;
the other process then took itself for the last one, deleted the WAL, and the first
connection went on reading an old snapshot for ever (a first sync's records never got
their search documents)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desktop.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_an_open_store_keeps_its_wal_and_sees_another_process_write(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.repo("account").create({"name": "here"})
    code = ("import sys; from pathlib import Path; from desktop.store import Store; "
            "s = Store.open(Path(sys.argv[1])); s.repo('account').create({'name': 'there'}); "
            "s.close()")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, check=True)
    # the other process was not the last connection: the WAL stays, and this one sees
    # what it wrote
    assert (tmp_path / "store.db-wal").exists()
    names = {r[0] for r in store.conn.execute("SELECT name FROM account")}
    assert names == {"here", "there"}
    store.close()
