"""Attachments (contract photos, audio) travel beside the records, by sha256.

Before a record that names a blob is pushed, the blob is uploaded (resumably: the
server says how much of a broken upload it already holds, and the rest follows with a
Content-Range). After a pull, blobs named by records that are not on this device yet
are downloaded; a failure leaves them for the next round and never blocks the records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from desktop.errors import SyncError
from desktop.schema import ENTITIES, Check, FieldType
from desktop.store import Store
from desktop.sync.client import SyncClient
from desktop.sync.errors import OfflineError, ServerBusyError, offline_error

log = logging.getLogger(__name__)

# entity -> fields that hold blob hashes (a hash, or a list of hashes)
BLOB_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in ent.fields if f.check is Check.SHA256)
    for name, ent in ENTITIES.items() if any(f.check is Check.SHA256 for f in ent.fields)
}


def hashes_in(entity: str, fields: dict[str, Any]) -> Iterator[str]:
    """Blob hashes named by a journal entry's or a pulled change's fields."""
    for name in BLOB_FIELDS.get(entity, ()):
        fw = fields.get(name)
        value = fw.get("value") if isinstance(fw, dict) else None
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def upload(client: SyncClient, store: Store, hashes: Iterable[str]) -> None:
    """Make sure the server holds these blobs (those this device has)."""
    for sha in dict.fromkeys(hashes):
        if not store.blobs.has(sha):
            continue  # not here (e.g. pulled record whose file never arrived): nothing to send
        token = client._access_token()
        head = client._send("HEAD", f"/v1/blobs/{sha}", token=token)
        if head.status_code == 200:
            continue
        offset = int(head.headers.get("Upload-Offset") or 0)
        content = store.blobs.read(sha)  # plain (decrypted in an encrypted profile)
        size = len(content)
        data = content[offset:]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
        if size:
            headers["Content-Range"] = f"bytes {offset}-{size - 1}/{size}"
        try:
            resp = client._http.put(f"/v1/blobs/{sha}", content=data, headers=headers)
        except httpx.TransportError as exc:
            raise offline_error(exc) from exc
        if resp.status_code >= 500:
            raise ServerBusyError()
        client._json(resp)


def download_missing(client: SyncClient, store: Store, hashes: Iterable[str]) -> int:
    """Fetch the blobs this device lacks; returns how many arrived."""
    got = 0
    for sha in dict.fromkeys(hashes):
        if store.blobs.has(sha):
            continue
        try:
            data = client.get_blob(sha)
        except (OfflineError, ServerBusyError):
            raise
        except SyncError as exc:
            log.info("blob %s… not available yet: %s", sha[:12], exc)
            continue
        if _sha256(data) != sha:
            log.warning("blob %s… arrived damaged; it will be fetched again", sha[:12])
            continue
        store.blobs.put_bytes(data)
        got += 1
    return got


def missing_in_store(store: Store) -> list[str]:
    """Every blob hash the store's records name that is not on this device."""
    out: list[str] = []
    for entity, names in BLOB_FIELDS.items():
        ent = ENTITIES[entity]
        for name in names:
            is_list = ent.field(name).type is FieldType.LIST
            for (value,) in store.conn.execute(
                    f'SELECT "{name}" FROM "{entity}" WHERE deleted = 0 AND "{name}" IS NOT NULL'):
                for sha in (json.loads(value) if is_list else [value]):
                    if isinstance(sha, str) and not store.blobs.has(sha):
                        out.append(sha)
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
