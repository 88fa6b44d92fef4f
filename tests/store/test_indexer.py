"""The one search-index builder (desktop.store.indexer): records that arrive in bulk
become findable by pinyin, initials and phone digits; a search meanwhile says it may be
incomplete; a kill -9 mid-build resumes where it stopped and builds nothing twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.store import Store, indexer

N = 6000  # above INLINE_MAX: the builder's own process does the work


def _rows(n: int) -> Any:
    return ({"name": f"杭州银行第{i:05d}分理处",
             "phone": f"+86 139 {i % 10000:04d} {i // 10000:04d}"} for i in range(n))


def _fts_ok(store: Store) -> None:
    # FTS5's own check that its index holds exactly the documents of search_doc (a
    # document indexed twice, or one missing from the index, fails it).
    store.conn.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")


def test_an_import_is_found_by_pinyin_initials_and_phone_once_the_builder_is_done(
        store: Store) -> None:
    n = store.repo("account").import_many(_rows(N))
    assert n == N and store.search_backlog() == 0
    assert indexer.worker_for(store.profile).pid is not None  # built by the builder process
    assert store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == N
    assert [h.title for h in store.search("杭州银行第04321")] == ["杭州银行第04321分理处"]
    assert len(store.search("hangzhouyinhang", limit=50)) == 50  # 银行: yin hang, not yin xing
    assert len(store.search("hzyh", limit=50)) == 50
    assert [h.title for h in store.search("139 4321")] == ["杭州银行第04321分理处"]
    outcome = store.search_outcome("hzyh")
    assert outcome.complete and store.index_state().complete
    _fts_ok(store)


def test_a_search_while_the_index_is_built_returns_what_is_indexed_and_says_so(
        store: Store) -> None:
    store.repo("account").import_many(_rows(5000), index=False)
    assert store.index_backlog(max_rows=3100) >= 3100
    state = store.index_state()
    assert (not state.complete and state.remaining == 5000 - state.built
            and state.percent == state.built * 100 // 5000)
    by_phone = store.search_outcome("139 4999")  # record 4999 has no document yet
    assert not by_phone.complete and by_phone.hits == []
    by_phone = store.search_outcome("139 0042")
    assert [h.title for h in by_phone.hits] == ["杭州银行第00042分理处"] and not by_phone.complete
    by_name = store.search_outcome("第04999")  # any part of the name: found before its document
    assert [h.title for h in by_name.hits] == ["杭州银行第04999分理处"] and not by_name.complete
    store.index_backlog()
    done = store.search_outcome("139 4999")
    assert done.complete and [h.title for h in done.hits] == ["杭州银行第04999分理处"]
    assert store.index_state() == indexer.IndexState(0, 0)


def test_an_edit_while_the_builder_reads_wins_over_the_builders_older_document(
        store: Store, profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = store.repo("account")
    repo.import_many(({"name": f"旧名{i}"} for i in range(3)), index=False)
    renamed, deleted, kept = (r["id"] for r in repo.iter_all())
    real = indexer._build

    def build_then_edit(conn: Any, rp: Any, rids: list[int]) -> list[tuple[Any, ...]]:
        docs = real(conn, rp, rids)  # read before the edits below
        with Store.open(profile) as other:
            other.repo("account").update(renamed, {"name": "重庆新名"})
            other.repo("account").delete(deleted)
        return docs

    monkeypatch.setattr(indexer, "_build", build_then_edit)
    assert indexer.drain_slice(store) == (1, 1)  # only `kept` was still the builder's to write
    assert [h.id for h in store.search("chongqing")] == [renamed]
    assert store.search("旧名") and [h.id for h in store.search("旧名")] == [kept]
    assert store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == 2
    _fts_ok(store)


def test_kill_9_mid_build_then_restart_every_record_indexed_once(profile: Path) -> None:
    total = 40_000
    with Store.open(profile) as store:
        store.repo("account").import_many(_rows(total), index=False)
    worker = indexer.IndexWorker(profile)
    worker.poke()
    with Store.open(profile) as store:
        deadline = time.monotonic() + 60
        while store.search_backlog() > total * 0.7 and time.monotonic() < deadline:
            time.sleep(0.002)
        pid = worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # mid-build: between or inside its transactions
        assert worker._proc is not None
        worker._proc.wait(10)
        left = store.search_backlog()
        built_before = store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0]
        assert 0 < left < total and built_before + left == total  # nothing lost, nothing half-done
        _fts_ok(store)
    worker.close()
    with Store.open(profile) as store:  # the restart
        built_after = 0
        while True:
            taken, built = indexer.drain_slice(store)
            if not taken:
                break
            built_after += built
        assert built_after == left  # resumed where it stopped: nothing built twice
        assert store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == total
        assert store.search_backlog() == 0
        _fts_ok(store)
        assert [h.title for h in store.search("139 0007 0003")] == ["杭州银行第30007分理处"]
        assert len(store.search("hangdifenlichu", limit=100)) == 100  # 分理处 in every name


def test_every_path_that_writes_a_document_keeps_the_index_exact(store: Store) -> None:
    # Documents reach the FTS5 index from the code, not from a trigger (m011): create,
    # rename, delete, restore, a small pull (documents built in it), a bulk pull (left to
    # the builder) and a pulled rename of a record still waiting for the builder.
    repo = store.repo("account")
    a = repo.create({"name": "北京字节跳动科技有限公司", "phone": "+86 10 5555 0101"})
    repo.update(a["id"], {"name": "抖音集团"})
    b = repo.create({"name": "重庆银行股份有限公司"})
    repo.delete(b["id"])
    repo.restore(b["id"])
    hlc = "0001700000000000-0000-remote"

    def change(rid: str, name: str) -> dict[str, Any]:
        return {"entity": "account", "record_id": rid, "fields": {"name": {"value": name,
                                                                           "hlc": hlc}}}

    small = [change(f"00000000-0000-4000-8000-{i:012d}", f"远程客户{i}") for i in range(3)]
    bulk = [change(f"00000000-0000-4000-9000-{i:012d}", f"批量客户{i}") for i in range(600)]
    assert store.apply_remote(small).deferred == 0
    assert store.apply_remote(bulk).deferred == 600
    later = "0001700000000001-0000-remote"
    store.apply_remote([{"entity": "account", "record_id": bulk[7]["record_id"],
                         "fields": {"name": {"value": "改名客户", "hlc": later}}}])
    _fts_ok(store)
    store.index_backlog()
    _fts_ok(store)
    assert store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == 605
    assert [h.id for h in store.search("douyin")] == [a["id"]]
    assert not store.search("zijie")
    assert [h.title for h in store.search("chongqingyinhang")] == ["重庆银行股份有限公司"]
    assert len(store.search("yuanchengkehu")) == 3
    assert [h.title for h in store.search("gaiming")] == ["改名客户"]
    assert store.conn.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'plkh'"
                              ).fetchone()[0] == 599


def test_the_builder_takes_bigger_slices_only_while_nothing_else_writes(profile: Path) -> None:
    """Small slices while a pull or an edit writes (they wait less for the lock), big ones
    once the builder is alone (fewer commits and FTS5 segments per document)."""
    builder = Store.open(profile)
    other = Store.open(profile)
    try:
        size, seen = indexer.next_slice(builder, -1)
        assert size == indexer.WORKER_SLICE
        size, seen = indexer.next_slice(builder, seen)
        assert size == indexer.QUIET_SLICE  # nobody wrote since
        other.repo("account").create({"name": "杭州示例科技有限公司"})
        size, seen = indexer.next_slice(builder, seen)
        assert size == indexer.WORKER_SLICE
        builder.repo("account").create({"name": "上海示例有限公司"})  # its own write
        assert indexer.next_slice(builder, seen)[0] == indexer.QUIET_SLICE
    finally:
        other.close()
        builder.close()


def test_a_new_document_queues_its_record_for_the_duplicate_check(store: Store) -> None:
    """Since m021 insert_docs, not a trigger per row, puts new documents' records into
    the duplicate check's queues: from an edit, from the builder, once each."""
    assert store.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'dedupe_doc_ai'").fetchone() is None
    store.conn.execute("DELETE FROM dedupe_dirty")
    store.conn.execute("DELETE FROM dedupe_unchecked")
    made = store.repo("contact").create({"name": "张伟"})
    store.repo("account").import_many([{"name": f"华东精密{i}"} for i in range(30)], index=False)
    store.index_backlog()
    docs = {r[0] for r in store.conn.execute("SELECT rowid FROM search_doc")}
    assert len(docs) == 31
    for queue in ("dedupe_dirty", "dedupe_unchecked"):
        assert {r[0] for r in store.conn.execute(f"SELECT rowid FROM {queue}")} == docs
    store.conn.execute("DELETE FROM dedupe_unchecked")
    store.repo("contact").update(made["id"], {"name": "张伟明"})  # replace_doc: queued again
    assert store.conn.execute("SELECT count(*) FROM dedupe_unchecked").fetchone()[0] == 1


def test_closing_a_builder_that_answers_neither_stop_nor_sigterm_kills_it(
        tmp_path: Path) -> None:
    """A niced builder on a loaded machine (seen in a test run): close never raises and
    never leaves the process behind."""
    import subprocess
    import sys

    from desktop.store.indexer import IndexWorker

    worker = IndexWorker(tmp_path)
    stuck = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
         "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert stuck.stdout is not None and stuck.stdout.readline().strip() == "ready"
    worker._proc = stuck
    worker.close(timeout=0.3)
    assert stuck.returncode is not None and stuck.returncode < 0  # killed
    assert not worker.running
    stuck.stdout.close()


def test_the_read_ahead_builds_every_entry_once_and_an_edit_meanwhile_wins(
        store: Store) -> None:
    """Once nothing else writes, the builder reads the next slice in a thread while it
    writes the current one. Entries that arrive below where it reads (accounts after
    contacts) are still built, and a rename made after a slice was read ahead keeps
    its own document."""
    contacts = store.repo("contact")
    contacts.import_many(({"name": f"预读联系人{i}"} for i in range(10)), index=False)
    ahead = indexer._ReadAhead(store)
    try:
        rowids, docs = ahead.take(5)
        assert ahead._next is not None
        second, _ = ahead._next.result()  # the next slice, read before the edit below
        assert len(second) == 5 and min(second) > max(rowids)
        assert indexer.write_slice(store, rowids, docs) == (5, 5)
        renamed = contacts.iter_all()
        target = next(r for r in renamed if r["name"] == "预读联系人7")
        contacts.update(target["id"], {"name": "重庆新名"})  # its document, built at once
        store.repo("account").import_many(({"name": f"后到客户{i}"} for i in range(3)),
                                          index=False)  # rowids below the contacts'
        rowids, docs = ahead.take(5)
        assert rowids == second
        assert indexer.write_slice(store, rowids, docs) == (4, 4)  # not the renamed one
        rowids, docs = ahead.take(5)  # above the last contact: nothing
        assert rowids == []
        rowids, docs = ahead.take(5)  # from the start again: the accounts
        assert len(rowids) == 3
        assert indexer.write_slice(store, rowids, docs) == (3, 3)
        assert ahead.take(5)[0] == []
    finally:
        ahead.close()
    assert store.search_backlog() == 0
    assert store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == 13
    _fts_ok(store)
    assert [h.title for h in store.search("chongqing")] == ["重庆新名"]
    assert len(store.search("hdkh", limit=10)) == 3  # initials of 后到客户
    assert len(store.search("yuduLianxiren".lower(), limit=20)) == 9


def test_the_search_index_merges_gradually_before_it_would_merge_a_whole_level(
        store: Store) -> None:
    """FTS5 merges a level's segments all at once, inside one commit, when a level holds
    `crisismerge` segments; the gradual merge (`automerge` at a time, a little per
    commit) must come first, or a commit of the builder holds the write lock for
    seconds on a big book (a first sync's pull gave up waiting at 2M documents)."""
    config = dict(store.conn.execute("SELECT k, v FROM search_fts_config").fetchall())
    assert int(config["automerge"]) == 16
    assert int(config["crisismerge"]) >= 4 * int(config["automerge"])
