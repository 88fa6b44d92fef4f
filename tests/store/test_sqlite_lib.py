"""SQLite's memory statistics are off in a process that opens stores (their global mutex
made two connections on two threads wait on each other), and never at the cost of a
connection that was already open."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_USED = """
import ctypes, _sqlite3
lib = ctypes.CDLL(_sqlite3.__file__)
lib.sqlite3_memory_used.restype = ctypes.c_int64
"""


def _run(code: str) -> str:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _USED + code], cwd=root, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_store_opened_in_a_fresh_process_runs_without_memory_statistics(
        tmp_path: Path) -> None:
    out = _run(f"""
from pathlib import Path
from desktop.store import Store
s = Store.open(Path({str(tmp_path)!r}))
s.repo("account").create({{"name": "上海浦东发展有限公司"}})
print(lib.sqlite3_memory_used(), s.repo("account").page(limit=5)[0]["name"])
""")
    assert out == "0 上海浦东发展有限公司"


def test_a_connection_open_before_the_store_module_is_left_working(tmp_path: Path) -> None:
    out = _run(f"""
import sqlite3
early = sqlite3.connect({str(tmp_path / "early.db")!r})
early.execute("CREATE TABLE t (x)")
from desktop.store import Store, sqlite_lib
early.execute("INSERT INTO t VALUES ('still here')")
early.commit()
print(lib.sqlite3_memory_used() > 0, early.execute("SELECT x FROM t").fetchone()[0],
      sqlite_lib.without_memory_stats("_sqlite3"))
""")
    assert out == "True still here False"


def test_an_encrypted_store_runs_without_sqlciphers_memory_statistics(tmp_path: Path) -> None:
    out = _run(f"""
from pathlib import Path
import keyring
from tests.file_keyring import FileKeyring
keyring.set_keyring(FileKeyring(Path({str(tmp_path / "keyring.json")!r})))
from desktop.store import Store, cipher
import sqlcipher3._sqlite3 as ext
enc = ctypes.CDLL(ext.__file__)
enc.sqlite3_memory_used.restype = ctypes.c_int64
profile = Path({str(tmp_path / "p")!r})
Store.open(profile).close()
cipher.encrypt_store(profile)
with Store.open(profile) as s:
    s.repo("account").create({{"name": "深圳华南贸易有限公司"}})
    print(enc.sqlite3_memory_used(), s.search("华南")[0].title)
""")
    assert out == "0 深圳华南贸易有限公司"
