"""The encrypted store's page format: new stores are written without the per-page HMAC
(desktop.store.cipher's docstring says why), and a store encrypted before, in SQLCipher's
default format, keeps opening and is re-encrypted at the app's start, crash-safe."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from desktop.errors import StoreBusyError
from desktop.store import Store, cipher

NAME = "Zhangwei Trading 张伟贸易"


def _legacy_store(profile: Path, n: int = 0, monkeypatch: pytest.MonkeyPatch | None = None
                  ) -> dict[str, str]:
    """A profile encrypted the way releases before this one did (HMAC-SHA512 pages)."""
    with Store.open(profile) as store:
        store.repo("account").import_many({"name": f"客户{i:05d}", "region": "华南"}
                                          for i in range(n))
        store.repo("account").create({"name": NAME, "phone": "13912345678"})
        names = {r["id"]: r["name"] for r in store.repo("account").iter_all()}
    mp = monkeypatch or pytest.MonkeyPatch()
    with mp.context() as m:
        m.setattr(cipher, "FORMAT", cipher.LEGACY)
        cipher.encrypt_store(profile)
    return names


def _opens_with(profile: Path, settings: tuple[str, ...]) -> bool:
    conn = cipher._keyed(profile / "store.db", cipher.load_key(profile), settings)
    if conn is not None:
        conn.close()
    return conn is not None


def test_a_new_encrypted_store_has_no_page_hmac(profile: Path) -> None:
    with Store.open(profile) as store:
        store.repo("account").create({"name": NAME})
    cipher.encrypt_store(profile)
    assert cipher.store_format(profile) == "current"
    assert _opens_with(profile, cipher.FORMAT) and not _opens_with(profile, cipher.LEGACY)
    assert NAME.encode() not in (profile / "store.db").read_bytes()


def test_a_legacy_store_opens_and_is_reencrypted_at_the_next_start(profile: Path) -> None:
    names = _legacy_store(profile, 300)
    assert cipher.store_format(profile) == "legacy"
    assert cipher.status(profile)["format"] == "legacy"
    with Store.open(profile) as store:  # still usable before the conversion
        assert {r["id"]: r["name"] for r in store.repo("account").iter_all()} == names
        hits = [h.id for h in store.search("张伟")]
        assert hits
        # the app's start meanwhile finds it open elsewhere: it is left as it is
        assert cipher.ensure_encrypted(profile)
        assert cipher.store_format(profile) == "legacy"
        with pytest.raises(StoreBusyError):
            cipher.encrypt_store(profile)
    kid = cipher.key_id(profile)
    assert cipher.ensure_encrypted(profile)
    assert cipher.store_format(profile) == "current" and cipher.key_id(profile) == kid
    assert not _opens_with(profile, cipher.LEGACY)
    assert sorted(p.name for p in profile.iterdir() if p.name.startswith("store.db")) == [
        "store.db"]
    with Store.open(profile) as store:
        assert {r["id"]: r["name"] for r in store.repo("account").iter_all()} == names
        assert [h.id for h in store.search("张伟")] == hits
        assert store.check_integrity() == []
    assert cipher.encrypt_store(profile)["already"]


def _dies_at(kill_at: int) -> cipher.Progress:
    calls = [0]

    def progress(phase: str, done: float) -> None:
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    return progress


def test_kill_9_during_reencryption_loses_nothing(profile: Path, file_keyring: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _legacy_store(profile, 1500, monkeypatch)
    dry = profile.parent / "dry"
    shutil.copytree(profile, dry)
    calls: list[str] = []
    assert cipher.encrypt_store(dry, lambda phase, done: calls.append(phase),
                                progress_steps=200)["reencrypted"]
    points = sorted(set(range(1, len(calls) + 1, max(1, len(calls) // 60))) | {len(calls)})
    assert len(points) >= 50, calls
    for kill_at in points:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child dies by SIGKILL
            try:
                cipher.encrypt_store(profile, _dies_at(kill_at), progress_steps=200)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        cipher._cache.clear()
        with Store.open(profile) as store:
            got = {r["id"]: r["name"] for r in store.repo("account").iter_all()}
            assert got == expected, f"kill at call {kill_at} ({calls[kill_at - 1]})"
            assert store.check_integrity() == []
        if cipher.store_format(profile) == "current":
            break  # the swap happened: later points have nothing left to interrupt
    cipher.ensure_encrypted(profile)
    assert cipher.store_format(profile) == "current"
    with Store.open(profile) as store:
        assert {r["id"]: r["name"] for r in store.repo("account").iter_all()} == expected
