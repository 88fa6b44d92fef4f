"""Encryption at rest: the store and its WAL hold no readable customer data, a missing or
wrong key is refused with a clear message and the file is kept, and kill -9 at any point
of the encryption of a plain store loses nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import keyring
import pytest

from desktop.errors import StoreBusyError
from desktop.store import Store, cipher
from tests.memory_keyring import MemoryKeyring

NAME = "Zhangwei Trading 张伟贸易"
PHONE = "13912345678"


def _fill(store: Store, n: int) -> None:
    store.repo("account").import_many({"name": f"客户{i:05d}", "region": "华南"}
                                      for i in range(n))


def _profile_bytes(profile: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in profile.iterdir() if p.is_file()}


def test_store_and_wal_hold_no_customer_text(profile: Path) -> None:
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    with Store.open(profile) as store:
        rec = store.repo("account").create({"name": NAME, "phone": PHONE})
        assert (profile / "store.db-wal").exists()  # the edit sits in the WAL now
        files = _profile_bytes(profile)
        assert store.search("张伟")[0].id == rec["id"]
    files.update(_profile_bytes(profile))
    for name, data in files.items():
        for text in (NAME.encode(), "张伟".encode(), PHONE.encode()):
            assert text not in data, f"{text!r} readable in {name}"
    with Store.open(profile) as store:
        assert store.repo("account").get(rec["id"])["phone"].endswith(PHONE)


def test_plain_sqlite_cannot_read_an_encrypted_store(profile: Path) -> None:
    with Store.open(profile) as store:
        store.repo("account").create({"name": NAME})
    cipher.encrypt_store(profile)
    run = subprocess.run(["sqlite3", str(profile / "store.db"), ".tables"],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "not a database" in run.stderr
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(profile / "store.db").execute("SELECT * FROM sqlite_master").fetchall()


def test_missing_or_wrong_key_is_refused_and_loses_nothing(profile: Path) -> None:
    with Store.open(profile) as store:
        rid = store.repo("account").create({"name": NAME})["id"]
    cipher.encrypt_store(profile)
    before = (profile / "store.db").read_bytes()
    good = keyring.get_keyring()
    secrets = dict(good.secrets)  # type: ignore[attr-defined]
    try:
        keyring.set_keyring(MemoryKeyring())  # another computer: no key
        cipher._cache.clear()
        with pytest.raises(cipher.StoreKeyMissingError, match="not in this computer's keyring"):
            Store.open(profile)
        wrong = MemoryKeyring()
        for k in secrets:
            wrong.secrets[k] = "11" * 32
        keyring.set_keyring(wrong)
        with pytest.raises(cipher.StoreKeyWrongError, match="does not open"):
            Store.open(profile)
        assert (profile / "store.db").read_bytes() == before
    finally:
        keyring.set_keyring(good)
        cipher._cache.clear()
    with Store.open(profile) as store:
        assert store.repo("account").get(rid)["name"] == NAME


def test_encrypting_an_open_store_is_refused(profile: Path) -> None:
    with Store.open(profile) as store:
        store.repo("account").create({"name": NAME})
        with pytest.raises(StoreBusyError):
            cipher.encrypt_store(profile)
        assert not cipher.is_encrypted(profile / "store.db")
        store.repo("account").create({"name": "after the refusal"})
    assert cipher.encrypt_store(profile)["rows"] > 0


def test_forget_key_leaves_an_unreadable_file(profile: Path) -> None:
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    cipher.forget_key(profile)
    assert not (profile / cipher.KEY_ID_FILE).exists()
    with pytest.raises(Exception, match="not a FieldCRM store"):
        Store.open(profile)


def _encrypt_and_die(profile: Path, kill_at: int) -> None:
    calls = [0]

    def progress(phase: str, done: float) -> None:
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    cipher.encrypt_store(profile, progress, progress_steps=200)


def test_kill_9_during_encryption_loses_nothing(profile: Path, file_keyring: None) -> None:
    with Store.open(profile) as store:
        _fill(store, 1500)
        store.repo("account").create({"name": NAME})
        expected = {r["id"]: r["name"] for r in store.repo("account").iter_all()}
    # A dry run on a copy counts the progress calls: every one is a kill point.
    import shutil

    dry = profile.parent / "dry"
    shutil.copytree(profile, dry)
    calls: list[str] = []
    cipher.encrypt_store(dry, lambda phase, done: calls.append(phase), progress_steps=200)
    assert len(calls) >= 50, calls
    points = sorted(set(range(1, len(calls) + 1, max(1, len(calls) // 60))) | {len(calls)})
    assert len(points) >= 50
    for kill_at in points:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child dies by SIGKILL
            try:
                _encrypt_and_die(profile, kill_at)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        cipher._cache.clear()
        with Store.open(profile) as store:
            got = {r["id"]: r["name"] for r in store.repo("account").iter_all()}
            assert got == expected, f"kill at call {kill_at} ({calls[kill_at - 1]})"
            assert store.check_integrity() == []
        if cipher.is_encrypted(profile / "store.db"):
            break  # the swap happened: later points have nothing left to interrupt
    summary = cipher.encrypt_store(profile)
    assert cipher.is_encrypted(profile / "store.db")
    assert summary["encrypted"] or summary["already"]
    cipher._cache.clear()
    with Store.open(profile) as store:
        assert {r["id"]: r["name"] for r in store.repo("account").iter_all()} == expected


def test_the_app_encrypts_a_new_store_or_keeps_it_plain_without_a_keyring(
        tmp_path: Path) -> None:
    from keyring.backends import fail

    assert cipher.ensure_encrypted(tmp_path / "new")
    assert cipher.is_encrypted(tmp_path / "new" / "store.db")
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert not cipher.ensure_encrypted(tmp_path / "headless")
        with Store.open(tmp_path / "headless") as store:
            store.repo("account").create({"name": NAME})
    finally:
        keyring.set_keyring(previous)
    assert not cipher.is_encrypted(tmp_path / "headless" / "store.db")


@pytest.mark.parametrize("size", [0, 1, 1 << 20, (1 << 20) + 1, 5 * (1 << 19)])
def test_blobs_are_encrypted_in_an_encrypted_profile(profile: Path, size: int) -> None:
    from desktop.store.blobs import CHUNK

    data = (("录音 " + NAME).encode() * (size // 20 + 1))[:size]
    with Store.open(profile) as store:
        plain_sha = store.blobs.put_bytes(b"photo of " + NAME.encode())
    cipher.encrypt_store(profile)  # an older plain file is converted too
    with Store.open(profile) as store:
        assert store.blobs.encrypted
        sha = store.blobs.put_bytes(data)
        assert store.blobs.read(sha) == data and store.blobs.size(sha) == size
        assert b"".join(store.blobs.chunks(sha)) == data
        assert store.blobs.read(plain_sha) == b"photo of " + NAME.encode()
        for path in (store.blobs.path(sha), store.blobs.path(plain_sha)):
            raw = path.read_bytes()
            assert NAME.encode() not in raw and "录音".encode() not in raw
        if size > CHUNK:  # a damaged or truncated file is refused, never half-read
            path = store.blobs.path(sha)
            raw = path.read_bytes()
            path.write_bytes(raw[:CHUNK])
            with pytest.raises(Exception, match="damaged"):
                store.blobs.read(sha)


FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "stores").glob("*.db"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_every_released_store_generation_can_be_encrypted(tmp_path: Path,
                                                          fixture: Path) -> None:
    import shutil

    profile = tmp_path / "old"
    profile.mkdir()
    shutil.copyfile(fixture, profile / "store.db")
    with Store.open(profile) as store:  # upgraded to this release first
        before = {e: store.repo(e).count() for e in ("account", "contact", "deal")}
        hits = [h.id for h in store.search("客户")]
    summary = cipher.encrypt_store(profile)
    assert summary["encrypted"] and cipher.is_encrypted(profile / "store.db")
    with Store.open(profile) as store:
        assert {e: store.repo(e).count() for e in ("account", "contact", "deal")} == before
        assert [h.id for h in store.search("客户")] == hits
        assert store.check_integrity() == []


def test_blobs_left_plain_by_a_kill_are_encrypted_at_the_next_start(profile: Path) -> None:
    with Store.open(profile) as store:
        sha = store.blobs.put_bytes(NAME.encode() * 100)
    cipher.encrypt_store(profile)
    blob = profile / "blobs" / sha[:2] / sha[2:]
    assert NAME.encode() not in blob.read_bytes()
    assert not (profile / cipher.BLOBS_MARKER).exists()
    # As if killed after the swap, before the files: the file plain, the marker set.
    blob.write_bytes(NAME.encode() * 100)
    (profile / cipher.BLOBS_MARKER).write_text("encrypting blobs\n")
    with Store.open(profile) as store:
        assert store.blobs.read(sha) == NAME.encode() * 100  # still readable meanwhile
    assert cipher.ensure_encrypted(profile)
    assert NAME.encode() not in blob.read_bytes()
    assert not (profile / cipher.BLOBS_MARKER).exists()


def test_the_index_builder_process_builds_an_encrypted_stores_documents(profile: Path) -> None:
    """The builder's process gets the key from the app (never on its command line) and
    reads ahead on a second connection of its own, with the same key."""
    from desktop.store import indexer

    Store.open(profile).close()
    cipher.encrypt_store(profile)
    with Store.open(profile) as store:
        store.repo("account").import_many(
            ({"name": f"深圳密存客户{i:05d}", "phone": f"+86 139 {i // 10000:04d} {i % 10000:04d}"}
             for i in range(24000)),
            index=False)
        worker = indexer.build_in_background(store)
        assert worker is not None and worker.running
        assert worker.wait_idle(store, timeout=120)
        indexer.close_worker(profile)
        assert store.search_backlog() == 0
        assert store.conn.execute("SELECT count(*) FROM search_doc").fetchone()[0] == 24000
        assert [h.title for h in store.search("shenzhenmicun", limit=3)]
        assert [h.title for h in store.search("139 0000 8765")] == ["深圳密存客户08765"]
    for data in _profile_bytes(profile).values():
        assert "密存".encode() not in data
