"""CSV lines made by SQLite (desktop.exchange.exporter.csv_line) are the csv module's
lines to the byte, formula guard included, whatever the text holds; a big export that
reads every other block on a helper thread writes the same file, in the same order,
and stops that thread on a cancel or an error."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import desktop.exchange.exporter as exporter
from desktop.errors import Cancelled, StoreError, ValidationError
from desktop.exchange.exporter import columns, export
from desktop.schema import ENTITIES

GUARD_FIRST = ("=", "+", "-", "@", "\t", "\r")
# the characters that decide quoting and the guard, and some that decide nothing
TEXT = st.text(alphabet=',"\r\n=+-@\t\' aZ9中文，、', min_size=0, max_size=12)


def expected_csv(store: Any, entity: str) -> bytes:
    """The file as the csv module writes the values of the XLSX path, guarded in Python."""
    cols = columns(ENTITIES[entity])
    sql = (f"SELECT {', '.join(c.sql() for c in cols)} FROM \"{entity}\" t "
           "WHERE t.deleted = 0 ORDER BY t.rid")
    cur = store.conn.cursor()
    cur.row_factory = None
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.header for c in cols])
    for row in cur.execute(sql):
        w.writerow(["'" + v if c.guarded and isinstance(v, str) and v[:1] in GUARD_FIRST
                    else v for c, v in zip(cols, row, strict=True)])
    return ("\ufeff" + buf.getvalue()).encode()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.tuples(TEXT, TEXT, st.lists(TEXT, max_size=3)), min_size=1,
                      max_size=6))
@example(names=[("a\rb", "\rx", ["c\rd", "=1"]), ("\"", "x\ny", ["a,b"])])
def test_sql_lines_are_the_csv_modules_lines(store: Any, tmp_path: Path,
                                             names: list[tuple[str, str, list[str]]]) -> None:
    acc = store.repo("account")
    for name, address, tags in names:
        try:
            acc.create({"name": "n" + name, "address": address, "industry": name,
                        "tags": tags, "cf_employees": len(tags) + 0.5})
        except ValidationError:
            continue
    out = tmp_path / "a.csv"
    export(store, "account", out)
    assert out.read_bytes() == expected_csv(store, "account")


def test_a_linked_accounts_name_is_quoted_and_guarded(store: Any, tmp_path: Path) -> None:
    a = store.repo("account").create({"name": '=Acme, "East"\nBranch'})
    store.repo("contact").create({"name": "张伟", "account_id": a["id"]})
    out = tmp_path / "c.csv"
    export(store, "contact", out)
    assert out.read_bytes() == expected_csv(store, "contact")
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert '\'=Acme, "East"\nBranch' in rows[1]


def _book(store: Any, n: int) -> None:
    acc = store.repo("account")
    made = acc.import_many([{"name": f"客户 {i}, \"{i}\"", "tags": ["a", f"b{i}"]}
                            for i in range(n)], index=False)
    for rec in list(acc.iter_all())[::7]:  # holes in the rids
        acc.delete(rec["id"])
    del made


def _helper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "export-helper"]


def test_a_big_export_shares_its_blocks_with_a_helper_and_writes_the_same_file(
        store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _book(store, 300)
    monkeypatch.setattr(exporter, "BATCH", 7)
    monkeypatch.setattr(exporter, "PARALLEL_FROM", 10**9)
    alone = export(store, "account", tmp_path / "alone.csv")
    started: list[int] = []
    run = exporter._Helper.run

    def counted(self: Any) -> None:
        started.append(len(self.blocks))
        run(self)

    monkeypatch.setattr(exporter._Helper, "run", counted)
    monkeypatch.setattr(exporter, "PARALLEL_FROM", 1)
    seen: list[int] = []
    shared = export(store, "account", tmp_path / "shared.csv",
                    progress=lambda done, total: seen.append(done))
    assert started and started[0] > 10  # every other of ~43 blocks on the helper
    assert shared.rows == alone.rows == store.repo("account").count()
    assert (tmp_path / "shared.csv").read_bytes() == (tmp_path / "alone.csv").read_bytes()
    assert seen == sorted(seen) and seen[-1] == shared.rows
    assert (tmp_path / "shared.csv").read_bytes() == expected_csv(store, "account")
    assert not _helper_threads()


def test_a_cancel_or_a_failing_helper_stops_it_and_leaves_no_file(
        store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _book(store, 200)
    monkeypatch.setattr(exporter, "BATCH", 5)
    monkeypatch.setattr(exporter, "PARALLEL_FROM", 1)
    out = tmp_path / "a.csv"
    seen: list[int] = []
    with pytest.raises(Cancelled):
        export(store, "account", out, progress=lambda d, t: seen.append(d),
               cancelled=lambda: len(seen) >= 3)
    assert not out.exists() and not _helper_threads()

    def broken(path: Path, key: bytes | None) -> Any:
        raise StoreError(f"{path} is in use by another program")

    monkeypatch.setattr("desktop.store.store.another_connection", broken)
    with pytest.raises(StoreError, match="in use"):
        export(store, "account", out)
    assert not out.exists() and not _helper_threads()
    assert store.repo("export_log").count() == 0
    monkeypatch.undo()
    assert export(store, "account", out).rows == store.repo("account").count()
