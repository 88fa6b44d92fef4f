"""The app lock: a PIN of digits hashed with argon2 in the (encrypted) store, a wrong PIN
counted across restarts, and the tenth wrong one in a row wipes the profile."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from desktop.cli import main as fieldcrm
from desktop.errors import ValidationError
from desktop.security import applock
from desktop.store import Store, cipher


def test_pin_set_checked_and_counted(profile: Path) -> None:
    with Store.open(profile) as store:
        with pytest.raises(ValidationError):
            applock.set_pin(store, "12a4")
        st = applock.set_pin(store, "2468", idle_min=5)
        assert (st.has_pin, st.idle_min) == (True, 5)
        assert "2468" not in store.meta_get(applock.META_PIN)
        assert applock.unlock(profile, store, "1111") == applock.Unlock(False, 9)
    with Store.open(profile) as store:  # the count survives a restart
        assert applock.state(store).failures == 1
        assert applock.unlock(profile, store, "2468").ok
        assert applock.state(store).failures == 0
        assert applock.clear_pin(store, "2468")
        assert not applock.state(store).has_pin


def test_too_many_wrong_pins_wipe_the_profile(profile: Path) -> None:
    cipher.encrypt_store(profile)
    store = Store.open(profile)
    store.repo("account").create({"name": "机密客户"})
    store.blobs.put_bytes(b"contract photo")
    applock.set_pin(store, "2468")
    for left in range(applock.MAX_FAILURES - 1, 0, -1):
        assert applock.unlock(profile, store, "0000").tries_left == left
    result = applock.unlock(profile, store, "0000")
    assert result.wiped
    assert sorted(p.name for p in profile.rglob("*")) == []


def test_lock_cli(profile: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("13579\n"))
    assert fieldcrm(["--profile", str(profile), "lock", "set-pin", "--idle-min", "3",
                     "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"has_pin": True, "idle_min": 3}
    monkeypatch.setattr("sys.stdin", io.StringIO("0000\n"))
    assert fieldcrm(["--profile", str(profile), "lock", "unlock", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["tries_left"] == 9
    assert fieldcrm(["--profile", str(profile), "lock", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["failures"] == 1
