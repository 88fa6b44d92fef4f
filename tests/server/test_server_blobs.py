"""Blobs: resumable upload, verified hash, stored once, access by the uploader's teams."""

from __future__ import annotations

import hashlib
import os

from conftest import Api


def test_resumable_upload_verify_and_access(api: Api) -> None:
    api.user("alice", teams=("north",))
    api.user("amy", teams=("north",))
    api.user("bob", teams=("south",))
    alice, amy, bob = api.login("alice"), api.login("amy"), api.login("bob")
    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    url = f"/v1/blobs/{sha}"
    c = api.client
    head = c.head(url, headers=alice.headers)
    assert head.status_code == 404 and head.headers["upload-offset"] == "0"
    r = c.put(url, content=data[:100_000],
              headers={**alice.headers, "Content-Range": f"bytes 0-99999/{len(data)}"})
    assert r.status_code == 202 and r.json() == {"sha256": sha, "complete": False,
                                                 "offset": 100_000}
    # The connection dropped; the client asks where to go on.
    assert c.head(url, headers=alice.headers).headers["upload-offset"] == "100000"
    r = c.put(url, content=data[50_000:],
              headers={**alice.headers,
                       "Content-Range": f"bytes 50000-{len(data) - 1}/{len(data)}"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "offset_mismatch"
    r = c.put(url, content=data[100_000:],
              headers={**alice.headers,
                       "Content-Range": f"bytes 100000-{len(data) - 1}/{len(data)}"})
    assert r.status_code == 201 and r.json()["complete"] is True
    head = c.head(url, headers=alice.headers)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    assert c.get(url, headers=amy.headers).content == data
    part = c.get(url, headers={**amy.headers, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    # Another team: as if it did not exist; uploading the content proves possession.
    assert c.get(url, headers=bob.headers).status_code == 404
    assert c.head(url, headers=bob.headers).status_code == 404
    assert c.put(url, content=data, headers=bob.headers).status_code == 201
    assert c.get(url, headers=bob.headers).content == data
    files = [p for p in (api.app.state.settings.blob_dir).rglob("*") if p.is_file()]
    assert len(files) == 1  # stored once


def test_wrong_content_is_refused(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    sha = hashlib.sha256(b"right").hexdigest()
    r = api.client.put(f"/v1/blobs/{sha}", content=b"wrong", headers=s.headers)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "hash_mismatch"
    assert api.client.get(f"/v1/blobs/{sha}", headers=s.headers).status_code == 404
    assert api.client.get("/v1/blobs/not-a-hash", headers=s.headers).status_code == 404
