"""Content-addressed files (contract photos, audio): blobs/ab/cdef..., by sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from desktop.errors import CaptureError, DiskFullError, NotFoundError

CHUNK = 1 << 20


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            self._write_atomic(sha, [data])
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
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"The file {sha256[:12]}… is not on this device yet.") from None

    def _write_atomic(self, sha: str, chunks: object) -> None:
        target = self.path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:  # type: ignore[attr-defined]
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            if exc.errno == 28:
                raise DiskFullError() from exc
            raise
