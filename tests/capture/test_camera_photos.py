"""Contract photos the laptop camera takes: sealed the moment they are kept in an
encrypted profile, read decrypted in memory, saved as blobs (encrypted) with the
contract, then gone from the captures folder. A plain profile keeps a JPEG file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from desktop.capture.camera_photos import display_name, save_camera_photo
from desktop.capture.contract_save import save_contract
from desktop.capture.image_prep import load_pages
from desktop.errors import CaptureError
from desktop.profile import CAPTURES_DIR
from desktop.security.sealed_file import is_sealed
from desktop.store import Store, cipher


def _jpeg(size: tuple[int, int] = (400, 560)) -> bytes:
    img = Image.new("RGB", size, "white")
    for x in range(40, 360):  # something on the page, so it is not a blank JPEG
        img.putpixel((x, 100), (0, 0, 0))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture
def encrypted(profile: Path) -> Iterator[Store]:
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    store = Store.open(profile)
    yield store
    store.close()


VALUES = {"contract_no": "HT-2026-00123", "party_a_name": "上海星辰科技有限公司",
          "amount": 1200000, "currency": "CNY", "sign_date": "2026-03-15"}


def test_a_photo_is_sealed_read_in_memory_and_saved_as_an_encrypted_blob(
        encrypted: Store) -> None:
    jpeg = _jpeg()
    path = save_camera_photo(encrypted.profile, jpeg)
    assert path.parent == encrypted.profile / CAPTURES_DIR and is_sealed(path)
    assert jpeg[200:264] not in path.read_bytes()
    assert display_name(path).endswith(".jpg") and display_name(path) in path.name
    [page] = load_pages([path], profile=encrypted.profile)
    assert page.source == display_name(path) and page.original_size == (400, 560)

    deal = encrypted.repo("deal").create({"title": "ERP rollout"})
    out = save_contract(encrypted, VALUES, deal_id=deal["id"], files=[path])
    [att] = out.attachments
    assert att["file_name"] == display_name(path) and att["mime_type"] == "image/jpeg"
    assert encrypted.blobs.read(att["sha256"]) == jpeg and att["size"] == len(jpeg)
    assert jpeg[200:264] not in encrypted.blobs.path(att["sha256"]).read_bytes()
    assert list((encrypted.profile / CAPTURES_DIR).iterdir()) == []  # saved: gone


def test_a_file_the_rep_chose_stays_where_it_was(encrypted: Store, tmp_path: Path) -> None:
    chosen = tmp_path / "scan.jpg"
    chosen.write_bytes(_jpeg())
    save_contract(encrypted, VALUES, deal_id=None, files=[chosen])
    assert chosen.exists()


def test_photos_within_one_second_do_not_overwrite_each_other(encrypted: Store) -> None:
    paths = [save_camera_photo(encrypted.profile, _jpeg((400 + i, 560))) for i in range(3)]
    assert len(set(paths)) == 3
    sizes = [load_pages([p], profile=encrypted.profile)[0].original_size for p in paths]
    assert sizes == [(400, 560), (401, 560), (402, 560)]
    assert not list((encrypted.profile / CAPTURES_DIR).glob("*.part"))


def test_a_sealed_photo_without_its_profile_says_so(encrypted: Store) -> None:
    path = save_camera_photo(encrypted.profile, _jpeg())
    with pytest.raises(CaptureError, match="encrypted profile"):
        load_pages([path])


def test_a_plain_profile_keeps_a_jpeg(store: Store) -> None:
    jpeg = _jpeg()
    path = save_camera_photo(store.profile, jpeg)
    assert path.suffix == ".jpg" and path.read_bytes() == jpeg
    assert load_pages([path], profile=store.profile)[0].original_size == (400, 560)
