"""Files written as they grow and sealed at rest: the voice recorder's recordings in an
encrypted profile (desktop.capture.recording).

A recording is written as the microphone delivers it, so that a crash loses nothing;
blobs (desktop.store.blobs) are written whole, so they cannot serve. Layout: MAGIC, an
8-byte random nonce prefix, the caller's header (2-byte length, then the bytes), then
frames: 4-byte length, AES-256-GCM ciphertext and tag. A frame's nonce is the prefix and
its index; its associated data is the header and the index, so frames cannot be
reordered or moved between files unnoticed. A torn last frame (the process died while
writing it) is dropped on reading: everything written before it is kept.

The key is derived from the store key (never the store key itself), as the blobs' is.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.errors import DiskFullError, StoreError
from desktop.store import cipher

MAGIC = b"FCS1"
PREFIX = 8
TAG = 16
MAX_FRAME = 1 << 24  # a frame longer than this is not one this module wrote


class SealedFileDamagedError(StoreError):
    """A file of this profile is damaged and cannot be read."""


def sealed_key(store_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"fieldcrm sealed files v1").derive(store_key)


def profile_sealed_key(profile: Path) -> bytes | None:
    """The sealing key of an encrypted profile; None for a plain one. Read off the key-id
    file, never off store.db (closing another descriptor of store.db drops this
    process's SQLite locks on it: see desktop.store.store). Raises StoreKeyMissingError
    when the profile is encrypted but the keyring no longer holds its key."""
    if cipher.key_id(profile) is None:
        return None
    return sealed_key(cipher.load_key(profile))


def is_sealed(path: Path) -> bool:
    try:
        with Path(path).open("rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except (FileNotFoundError, IsADirectoryError):
        return False


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _aad(header: bytes, index: int) -> bytes:
    return header + index.to_bytes(4, "big")


class SealedWriter:
    """Append frames to a new sealed file; each `write` reaches the OS at once."""

    def __init__(self, path: Path, key: bytes, header: bytes = b"") -> None:
        if len(header) > 0xFFFF:
            raise ValueError("header too long")
        self.path = Path(path)
        self._aes = AESGCM(key)
        self._prefix = secrets.token_bytes(PREFIX)
        self._header = header
        self._index = 0
        self._fh: BinaryIO | None = None
        self._guard(lambda: self._open())

    def _open(self) -> None:
        self._fh = self.path.open("xb")
        self._fh.write(MAGIC + self._prefix + len(self._header).to_bytes(2, "big")
                       + self._header)
        self._fh.flush()

    def write(self, data: bytes) -> None:
        if self._fh is None:
            raise ValueError("the sealed file is closed")
        sealed = self._aes.encrypt(_nonce(self._prefix, self._index), data,
                                   _aad(self._header, self._index))
        fh = self._fh

        def append() -> None:
            fh.write(len(sealed).to_bytes(4, "big") + sealed)
            fh.flush()

        self._guard(append)
        self._index += 1

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None

            def finish() -> None:
                try:
                    os.fsync(fh.fileno())
                finally:
                    fh.close()

            self._guard(finish)

    @staticmethod
    def _guard(step: Callable[[], None]) -> None:
        try:
            step()
        except OSError as exc:
            if exc.errno == 28:
                raise DiskFullError() from exc
            raise

    def __enter__(self) -> SealedWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def read_sealed(path: Path, key: bytes) -> tuple[bytes, Iterator[bytes]]:
    """The header and the frames, decrypted as read. Raises SealedFileDamagedError for a
    file that is not sealed, sealed under another key, or changed; FileNotFoundError."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(len(MAGIC) + PREFIX + 2)
        if len(head) < len(MAGIC) + PREFIX + 2 or head[:len(MAGIC)] != MAGIC:
            raise SealedFileDamagedError(f"{path.name} is not a sealed file.")
        prefix = head[len(MAGIC):len(MAGIC) + PREFIX]
        header = fh.read(int.from_bytes(head[-2:], "big"))
    start = len(head) + len(header)
    aes = AESGCM(key)

    def frames() -> Iterator[bytes]:
        with path.open("rb") as fh:
            fh.seek(start)
            index = 0
            while True:
                size = fh.read(4)
                if len(size) < 4:
                    return  # the end, or a torn length: what came before is whole
                n = int.from_bytes(size, "big")
                if n < TAG or n > MAX_FRAME + TAG:
                    raise SealedFileDamagedError(f"{path.name} is damaged.")
                body = fh.read(n)
                if len(body) < n:
                    return  # torn last frame
                try:
                    yield aes.decrypt(_nonce(prefix, index), body, _aad(header, index))
                except InvalidTag:
                    raise SealedFileDamagedError(
                        f"{path.name} is damaged or belongs to another profile.") from None
                index += 1

    return header, frames()
