"""Content-addressed files (contract photos, audio): blobs/ab/cdef..., by sha256 of the
plain content.

In a profile whose store is encrypted (desktop.store.cipher) every file is written
encrypted with AES-256-GCM under a key derived from the store key, streamed in 1 MiB
chunks: MAGIC, an 8-byte random nonce prefix, then each chunk's ciphertext and tag. A
chunk's nonce is the prefix and its index; its associated data is the blob's hash and
whether it is the last chunk, so chunks cannot be reordered, dropped or truncated
unnoticed. Plain files (written before the store was encrypted) are still read, checked
against their hash, and `encrypt_all` converts them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.errors import CaptureError, DiskFullError, NotFoundError

CHUNK = 1 << 20
MAGIC = b"FCB1"
PREFIX = 8
TAG = 16


def blob_key(store_key: bytes) -> bytes:
    """The blobs' AES key, derived from the store key (never the store key itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"fieldcrm blobs v1").derive(store_key)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _aad(sha: str, last: bool) -> bytes:
    return sha.encode("ascii") + (b"\x01" if last else b"\x00")


class BlobStore:
    def __init__(self, root: Path, key: bytes | None = None) -> None:
        """`key`: the AES key (`blob_key`) of an encrypted profile, None for a plain one."""
        self.root = root
        self._aes = AESGCM(key) if key is not None else None

    @property
    def encrypted(self) -> bool:
        return self._aes is not None

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            self._write_atomic(sha, [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)])
        return sha

    def put_file(self, source: Path) -> str:
        try:
            h = hashlib.sha256()
            with source.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
            sha = h.hexdigest()
            if not self.has(sha):
                with source.open("rb") as fh:
                    self._write_atomic(sha, iter(lambda: fh.read(CHUNK), b""))
        except FileNotFoundError as exc:
            raise CaptureError(f"{source} does not exist.") from exc
        except PermissionError as exc:
            raise CaptureError(f"{source} cannot be read (permission denied).") from exc
        return sha

    def read(self, sha256: str) -> bytes:
        """The plain content. Raises NotFoundError, CaptureError (damaged file)."""
        return b"".join(self.chunks(sha256))

    def size(self, sha256: str) -> int:
        """The plain content's size in bytes."""
        try:
            with self.path(sha256).open("rb") as fh:
                head = fh.read(len(MAGIC))
                total = os.fstat(fh.fileno()).st_size
        except FileNotFoundError:
            raise NotFoundError(f"The file {sha256[:12]}… is not on this device yet.") from None
        if head != MAGIC or self._aes is None:
            return total
        body = total - len(MAGIC) - PREFIX
        n = max(1, -(-body // (CHUNK + TAG)))
        return body - n * TAG

    def chunks(self, sha256: str) -> Iterator[bytes]:
        """The plain content in pieces of at most CHUNK bytes (decrypted as read)."""
        try:
            fh = self.path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"The file {sha256[:12]}… is not on this device yet.") from None
        with fh:
            head = fh.read(len(MAGIC))
            if head != MAGIC or self._aes is None:
                yield from self._plain(sha256, head, fh)
                return
            prefix = fh.read(PREFIX)
            index, piece = 0, fh.read(CHUNK + TAG)
            while True:
                following = fh.read(CHUNK + TAG)
                last = not following
                try:
                    yield self._aes.decrypt(_nonce(prefix, index), piece, _aad(sha256, last))
                except InvalidTag:
                    raise CaptureError(f"The file {sha256[:12]}… is damaged.") from None
                if last:
                    return
                index, piece = index + 1, following

    def _plain(self, sha: str, head: bytes, fh: object) -> Iterator[bytes]:
        h = hashlib.sha256(head)
        out = [head]
        while chunk := fh.read(CHUNK):  # type: ignore[attr-defined]
            h.update(chunk)
            out.append(chunk)
        if h.hexdigest() != sha:
            raise CaptureError(f"The file {sha[:12]}… is damaged.")
        yield from out

    def encrypt_all(self) -> int:
        """Encrypt the plain files of this store (after the store itself was encrypted):
        each is replaced by its encrypted form with one rename. Returns how many."""
        if self._aes is None or not self.root.is_dir():
            return 0
        done = 0
        for path in sorted(self.root.glob("??/*")):
            if path.name.startswith(".tmp-") or not path.is_file():
                continue
            with path.open("rb") as fh:
                if fh.read(len(MAGIC)) == MAGIC:
                    continue
            sha = path.parent.name + path.name
            data = self.read(sha)
            self._write_atomic(sha, [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)])
            done += 1
        return done

    def _sealed(self, sha: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The encrypted file, piece by piece: pieces of CHUNK plain bytes, held back one
        at a time to know which is the last."""
        aes = self._aes
        assert aes is not None
        prefix = secrets.token_bytes(PREFIX)
        yield MAGIC + prefix
        index, buffer = 0, b""
        pending: bytes | None = None
        for chunk in chunks:
            buffer += chunk
            while len(buffer) >= CHUNK:
                piece, buffer = buffer[:CHUNK], buffer[CHUNK:]
                if pending is not None:
                    yield aes.encrypt(_nonce(prefix, index), pending, _aad(sha, False))
                    index += 1
                pending = piece
        if pending is not None and buffer:
            yield aes.encrypt(_nonce(prefix, index), pending, _aad(sha, False))
            index += 1
            pending = buffer
        elif pending is None:
            pending = buffer  # a blob smaller than one chunk (or empty)
        yield aes.encrypt(_nonce(prefix, index), pending, _aad(sha, True))

    def _write_atomic(self, sha: str, chunks: Iterable[bytes]) -> None:
        target = self.path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        if self._aes is not None:
            chunks = self._sealed(sha, chunks)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            if exc.errno == 28:
                raise DiskFullError() from exc
            raise
