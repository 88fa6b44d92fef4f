"""A revoked device with an encrypted store: the wipe leaves nothing in the profile
folder (store, WAL, key id, blobs, voice recordings and camera photos not yet saved) and no store
key or token in the keyring."""

from __future__ import annotations

from typing import Any

import keyring
import pytest

from desktop.capture.camera_photos import save_camera_photo
from desktop.capture.voice_audio import write_wav
from desktop.profile import RECORDINGS_DIR
from desktop.store import Store, cipher
from desktop.sync.auth import KEYRING_SERVICE, load_account
from desktop.sync.errors import WipeRequired
from server.admin import list_devices, revoke_device
from tests.sync.conftest import Server


def test_revoke_wipes_an_encrypted_profile_and_its_key(server: Server, devices: Any) -> None:
    server.user("alice")
    a = devices("a")
    Store.open(a.profile).close()
    cipher.encrypt_store(a.profile)
    kid = cipher.key_id(a.profile)
    assert kid and keyring.get_password(KEYRING_SERVICE, f"store-key|{kid}")
    a.login("alice")
    a.repo("account").create({"name": "机密客户"})
    a.store.blobs.put_bytes(b"contract photo")
    write_wav(a.profile / RECORDINGS_DIR / "voice-20261207-101500.wav", b"\x01\x02" * 800)
    save_camera_photo(a.profile, b"\xff\xd8 a contract photo not yet saved")
    a.sync()
    assert cipher.is_encrypted(a.profile / "store.db")
    account = load_account(a.store)
    assert account is not None
    [dev] = list_devices(server.engine, "alice")
    revoke_device(server.engine, dev["id"])
    with pytest.raises(WipeRequired):
        a.sync()
    left = sorted(p.relative_to(a.profile).as_posix() for p in a.profile.rglob("*"))
    assert left == [], left
    assert keyring.get_password(KEYRING_SERVICE, f"store-key|{kid}") is None
    assert keyring.get_password(KEYRING_SERVICE, account.key) is None
    a.close()


def test_a_file_travels_plain_between_an_encrypted_and_a_plain_device(
        server: Server, devices: Any) -> None:
    server.user("alice")
    a, b = devices("a"), devices("b")
    cipher.encrypt_store(a.profile)
    a.login("alice")
    b.login("alice")
    photo = "合同照片 contract photo".encode() * 5000
    sha = a.store.blobs.put_bytes(photo)
    assert photo[:20] not in a.store.blobs.path(sha).read_bytes()
    a.repo("activity").create({"kind": "note", "subject": "合同", "attachments": [sha]})
    a.sync()
    b.sync()
    assert not b.store.blobs.encrypted and b.store.blobs.read(sha) == photo
    assert b.store.blobs.path(sha).read_bytes() == photo  # plain profile: plain file
