"""A long import checks its rows against the book in a second process
(desktop.exchange.matcher_process): the same decisions as in one process, the same when
that process dies mid-import, and nothing left running when the import is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from desktop.dedupe import index
from desktop.exchange import importer, matcher_process
from desktop.exchange.importer import run_import
from tests.exchange.files import write_csv
from tests.exchange.test_import_dupes import planted_book
from tests.exchange.test_kill_import import import_running

CHUNK = 40


def _planted(store: Any, tmp_path: Path) -> Path:
    return planted_book(store, tmp_path)[1]


def _submits(monkeypatch: Any, then: Any = None) -> list[int]:
    """The sizes of the chunks the matcher process took; `then(process, n)` after each."""
    sent: list[int] = []
    submit = matcher_process.MatcherProcess.submit

    def counting(self: Any, probes: Any) -> bool:
        took = submit(self, probes)
        if took:
            sent.append(len(probes))
        if took and then is not None:
            then(self, len(sent))
        return took

    monkeypatch.setattr(matcher_process.MatcherProcess, "submit", counting)
    return sent


def _alone(store: Any, path: Path, monkeypatch: Any) -> Any:
    """The dry run of `path` checked in this process only (the baseline)."""
    monkeypatch.setattr(importer, "REMOTE_FROM_CHUNKS", 10**9)
    result = run_import(store, path, "account", dry_run=True, chunk=CHUNK)
    monkeypatch.setattr(importer, "REMOTE_FROM_CHUNKS", 3)
    return result


def _decisions(result: Any) -> tuple[Any, ...]:
    return (result.rows, result.created, result.skipped_duplicates, result.invalid,
            result.duplicates)


def test_the_matcher_process_finds_what_the_import_finds_alone(
        store: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = _planted(store, tmp_path)
    book = store.repo("account").count()
    one = _alone(store, path, monkeypatch)
    assert one.skipped_duplicates > 100 and one.created > 10
    sent = _submits(monkeypatch)
    two = run_import(store, path, "account", dry_run=True, chunk=CHUNK)
    assert len(sent) > 5 and sum(sent) > 5 * CHUNK  # the book was asked over there
    assert _decisions(two) == _decisions(one)

    sent.clear()
    written = run_import(store, path, "account", chunk=CHUNK)  # and for real
    assert len(sent) > 5
    assert (written.created, written.skipped_duplicates) == (one.created, one.skipped_duplicates)
    assert store.repo("account").count() == book + one.created


def test_a_matcher_process_that_dies_mid_import_changes_no_decision(
        store: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = _planted(store, tmp_path)
    alone = _alone(store, path, monkeypatch)

    def kill_after_third(process: Any, n: int) -> None:
        if n == 3:
            os.kill(process._proc.pid, signal.SIGKILL)

    sent = _submits(monkeypatch, kill_after_third)
    survived = run_import(store, path, "account", dry_run=True, chunk=CHUNK)
    assert len(sent) == 3  # then the import checked the rest itself (8 chunks)
    assert _decisions(survived) == _decisions(alone)


def _matchers_of(profile: Path) -> list[int]:
    """Processes whose command line is the matcher process of this profile (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"desktop.exchange.matcher_process" in args and str(profile).encode() in args:
                found.append(int(entry.name))
    return found


def test_a_killed_import_leaves_no_matcher_process_behind(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    rows = [["名称", "电话"]] + [[f"测试{i % 97}号公司{i:06d}", f"139{i:08d}"]
                               for i in range(20_000)]
    path = write_csv(tmp_path / "big.csv", rows)
    try:
        with import_running(profile, path) as proc:
            assert _matchers_of(profile), "a 20,000-row import runs the matcher process"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        deadline = time.monotonic() + 20
        while _matchers_of(profile) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _matchers_of(profile) == []
    finally:
        for pid in _matchers_of(profile):
            os.kill(pid, signal.SIGKILL)


def test_the_app_itself_runs_the_matcher_process_as_a_frozen_build_starts_it(
        store: Any) -> None:
    """A frozen build starts `fieldcrm --import-matcher PROFILE THRESHOLD`
    (matcher_process.command): the app's entry point hands that to the process."""
    from desktop.dedupe.index import keys_of
    from desktop.dedupe.match import probe

    existing = store.repo("account").create({"name": "深圳市腾讯计算机系统有限公司"})
    index.refresh(store)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--import-matcher", str(store.profile), "92.0"],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        matcher_process._write(proc.stdin, None)  # a plain store: no key
        probes = [probe("account", {"name": n}) for n in ("腾讯计算机系统（深圳）有限公司",
                                                          "北京字节跳动科技有限公司")]
        matcher_process._write(proc.stdin, [(p, keys_of(p)) for p in probes])
        found = matcher_process._read(proc.stdout)
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
        proc.stdout.close()
    assert [f and f["id"] for f in found] == [existing["id"], None]


def test_an_encrypted_store_is_checked_by_the_matcher_process_with_its_key(
        tmp_path: Path, monkeypatch: Any) -> None:
    from desktop.exchange import dupes
    from desktop.store import Store, cipher

    profile = tmp_path / "secret"
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    here: list[int] = []
    prefetch = dupes.AccountMatcher.prefetch

    def counted(self: Any, probes: Any) -> None:
        here.append(len(probes))
        prefetch(self, probes)

    monkeypatch.setattr(dupes.AccountMatcher, "prefetch", counted)
    with Store.open(profile) as store:
        path = _planted(store, tmp_path)
        sent = _submits(monkeypatch)
        result = run_import(store, path, "account", dry_run=True, chunk=CHUNK)
    assert sum(sent) == result.rows > 5 * CHUNK
    assert here == []  # every chunk was answered over there, none checked here
    assert result.skipped_duplicates > 100


def test_a_cancel_with_chunks_in_flight_writes_whole_chunks_and_the_rerun_the_rest(
        store: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = _planted(store, tmp_path)
    before = store.repo("account").count()
    alone = _alone(store, path, monkeypatch)
    sent = _submits(monkeypatch)
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) == 4  # chunks 3 and 4 are in flight then (IN_FLIGHT 2)

    first = run_import(store, path, "account", chunk=CHUNK, cancelled=cancelled)
    assert first.cancelled and len(sent) >= 4
    assert first.rows % CHUNK == 0 and first.rows < len(sent) * CHUNK
    assert store.repo("account").count() == before + first.created
    rest = run_import(store, path, "account", chunk=CHUNK)
    assert rest.already_imported == first.rows
    assert first.created + rest.created == alone.created
    assert first.skipped_duplicates + rest.skipped_duplicates == alone.skipped_duplicates
    assert store.repo("account").count() == before + alone.created


def test_an_import_whose_matcher_process_cannot_start_checks_every_row_itself(
        store: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = _planted(store, tmp_path)
    alone = _alone(store, path, monkeypatch)
    monkeypatch.setattr(matcher_process, "command",
                        lambda profile, threshold: [str(tmp_path / "no-such-program")])
    sent = _submits(monkeypatch)
    result = run_import(store, path, "account", dry_run=True, chunk=CHUNK)
    assert sent == []
    assert _decisions(result) == _decisions(alone)
