"""Content-addressed blob store: files under <data>/blobs/ab/cdef... by sha256, each
stored once whoever uploads it.

Resumable upload: PUT /v1/blobs/{sha} with `Content-Range: bytes START-END/TOTAL`
appends to a partial file kept per (sha, user, total) under blobs/parts; START must
equal the bytes received so far (HEAD answers them in `Upload-Offset`). When TOTAL
bytes are in, the sha256 is verified and the file moves into place. A PUT without
Content-Range is the whole blob at once.

Access: see `server.access.may_read_blob` (uploader and the uploader's teammates;
admin and finance everything). A user who may not read an existing blob is answered
as if it did not exist, and may upload it to gain access (proving they hold it).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import sqlalchemy as sa

from server import tables as t
from server.access import may_read_blob
from server.auth import Principal
from server.db import write_tx
from server.errors import api_error, now_iso

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class BlobStore:
    def __init__(self, engine: sa.Engine, root: Path, max_bytes: int) -> None:
        self.engine = engine
        self.root = root
        self.max_bytes = max_bytes
        (root / "parts").mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:]

    def forget_unreferenced(self, shas: set[str]) -> int:
        """Remove the blobs among `shas` that no record refers to any more (the files of
        an erased person's activities). Returns how many were removed."""
        removed = 0
        for sha in sorted(s for s in shas if SHA_RE.match(s)):
            with self.engine.begin() as conn:
                used = conn.execute(sa.select(t.records.c.record_id).where(
                    t.records.c.fields.contains(sha)).limit(1)).first()
                if used is not None:
                    continue
                conn.execute(t.blob_uploaders.delete().where(t.blob_uploaders.c.sha256 == sha))
                conn.execute(t.blobs.delete().where(t.blobs.c.sha256 == sha))
            self.path(sha).unlink(missing_ok=True)
            removed += 1
        return removed

    def _part(self, sha: str, p: Principal, total: int) -> Path:
        return self.root / "parts" / f"{sha}.{p.user_id}.{total}"

    def readable_size(self, p: Principal, sha: str) -> int | None:
        """Size of a complete blob `p` may read, else None."""
        with self.engine.connect() as conn:
            size = conn.execute(sa.select(t.blobs.c.size).where(t.blobs.c.sha256 == sha)).scalar()
            if size is None or not may_read_blob(conn, p, sha):
                return None
        return int(size) if self.path(sha).exists() else None

    def offset(self, p: Principal, sha: str) -> int:
        """Bytes of an unfinished upload of `sha` by `p` (the largest, if several)."""
        parts = list((self.root / "parts").glob(f"{sha}.{p.user_id}.*"))
        return max((f.stat().st_size for f in parts), default=0)

    def parse_range(
        self, header: str | None, length: int | None
    ) -> tuple[int, int | None, int | None]:
        """(start, end inclusive or None, total or None) of a PUT."""
        if header is None:
            return 0, None, length
        m = RANGE_RE.match(header.strip())
        if not m:
            raise api_error(400, "bad_range", "Content-Range must be 'bytes START-END/TOTAL'.")
        start, end, total = (int(g) for g in m.groups())
        if end < start or end >= total:
            raise api_error(400, "bad_range", "Content-Range is out of order.")
        return start, end, total

    def open_part(self, p: Principal, sha: str, start: int, total: int | None) -> tuple[Path, int]:
        if total is not None and total > self.max_bytes:
            raise api_error(413, "too_large", f"Blobs may be at most {self.max_bytes} bytes.")
        part = self._part(sha, p, total if total is not None else 0)
        have = part.stat().st_size if part.exists() else 0
        if total is None:
            part.unlink(missing_ok=True)
            have = 0
        if start != have:
            raise api_error(409, "offset_mismatch", f"Upload must continue at byte {have}.")
        return part, have

    def finish(self, p: Principal, sha: str, part: Path) -> int:
        """Verify and store a complete upload; returns its size. 422 hash_mismatch if the
        content is not `sha`."""
        digest = hashlib.sha256()
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != sha:
            part.unlink(missing_ok=True)
            raise api_error(422, "hash_mismatch", "The uploaded content does not match its sha256.")
        size = part.stat().st_size
        final = self.path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            part.unlink(missing_ok=True)
        else:
            os.replace(part, final)
        with write_tx(self.engine) as conn:
            if conn.execute(sa.select(t.blobs.c.sha256).where(
                    t.blobs.c.sha256 == sha)).first() is None:
                conn.execute(t.blobs.insert().values(sha256=sha, size=size, created_at=now_iso()))
            if conn.execute(sa.select(t.blob_uploaders.c.sha256).where(
                    t.blob_uploaders.c.sha256 == sha,
                    t.blob_uploaders.c.user_id == p.user_id)).first() is None:
                conn.execute(t.blob_uploaders.insert().values(sha256=sha, user_id=p.user_id))
        return size
