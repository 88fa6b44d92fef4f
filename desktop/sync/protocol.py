"""The sync wire protocol: what client and server say to each other.

Shared by `desktop.sync` (client) and `server`; it imports nothing else from the
client package but `desktop.schema`. All times are UTC; all HLC stamps follow the
format in `desktop.schema` (string order is clock order).

Endpoints (all JSON; auth by `Authorization: Bearer <access token>` except login/refresh):
  POST /v1/auth/login      LoginRequest   -> TokenPair
  POST /v1/auth/refresh    RefreshRequest -> TokenPair   (rotates the refresh token)
  POST /v1/auth/logout     (bearer)       -> {}
  POST /v1/push            PushRequest    -> PushResponse
  GET  /v1/pull?cursor=N&limit=M           -> PullResponse
  GET  /v1/events?cursor=N  (text/event-stream: `data: {"version": N}` when changes exist)
  HEAD/PUT/GET /v1/blobs/{sha256}          (PUT with Content-Range for resumable upload)
  GET  /v1/me                               -> Me
  GET  /v1/health                           -> {"ok": true, "protocol": 1} (no auth)
  GET  /v1/ready                            -> {"ok": true, "revision": "0008"} or 503 not_ready
A 401 with `{"detail": {"code": "device_revoked" | "user_disabled" | ...}}` tells the
client to wipe its local store and keyring entry (a lost laptop keeps nothing).
A 426 `update_required` (minimum, latest, download_url in the detail) tells an app older
than the server's minimum to stop sending and keep its journal until it is updated.

Errors are `{"detail": {"code": <one of ERROR_CODES>, "message": <text for the user>}}`
(FastAPI's own 422 request-validation errors keep FastAPI's list form).

Details (added with the server, all backward compatible):
- Pull: `GET /v1/pull?cursor=N&limit=M&wait=S&count=true`. `wait` (0-60 s) long-polls
  until something newer than the cursor exists. `count=true` fills `total_estimate`
  (the server also fills it when cursor is 0). When `has_more` is false the returned
  cursor is the server version, even if nothing visible to this user changed.
  Each change carries ALL current fields of the record (value + stamp), including
  `owner` (the server fills it, stamped `SERVER_STAMP`, for records pushed without one)
  and the tombstone field `deleted`.
- Push: `EntryResult.original_status` is set on a "duplicate": the status ("applied"
  or "rejected") the entry got the first time; `reason` and `superseded` repeat the
  original ones. An entry whose device_id is not the authenticated device is
  "rejected" and not recorded.
- Blobs: HEAD answers 200 + `Content-Length` when the blob is stored and readable by
  the caller, else 404 with `Upload-Offset: N` (bytes of the caller's unfinished
  upload). PUT answers 201 {"complete": true} when the blob is stored, 202
  {"complete": false, "offset": N} after a partial chunk, 409 offset_mismatch (with
  `Upload-Offset`) when START is not the current offset, 422 hash_mismatch.
- Visibility (issue 24): a pull page carries `visibility`, the fields the caller may not
  read; its changes leave hidden fields out and carry masked ones masked. `entity=E`
  (repeatable) limits a pull to those record types. A push entry writing such a field
  is "applied" without it: `refused` names the fields, `reason` says why. `scope` lists
  the owners whose records the caller may see (null: all; teams and region subtrees).
- Login answers 409 device_in_use when the device id is bound to another user: a
  client makes a new device id after every wipe.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

PROTOCOL_VERSION = 1
DEFAULT_PUSH_BATCH = 500
DEFAULT_PULL_PAGE = 2000

WIPE_CODES = frozenset({"device_revoked", "user_disabled", "logged_out"})
# 401 codes after which the client should refresh its access token and retry.
REFRESH_CODES = frozenset({"token_expired"})
# 401 codes after which the client must log in again (keeping its local data).
RELOGIN_CODES = frozenset({"token_missing", "token_invalid", "session_ended",
                           "refresh_invalid", "refresh_reused", "invalid_credentials"})
ERROR_CODES = WIPE_CODES | REFRESH_CODES | RELOGIN_CODES | frozenset({
    "bad_device_id", "device_in_use", "bad_range", "offset_mismatch", "hash_mismatch",
    "too_large", "not_found", "bad_request", "too_many_entries", "db_unavailable",
    "request_timeout", "update_required", "not_ready"})

# Client versions (server.versions; desktop.sync.versions). Every desktop request names its
# version; every answer names the newest client, the oldest one still served and where the
# organisation hosts the installer (each header only when the server is told it). A client
# older than the minimum gets 426 `update_required` on every sync endpoint and keeps its
# journal until it is updated.
CLIENT_VERSION_HEADER = "X-FieldCRM-Version"
LATEST_HEADER = "X-FieldCRM-Latest"
MINIMUM_HEADER = "X-FieldCRM-Minimum"
DOWNLOAD_HEADER = "X-FieldCRM-Download"
UPDATE_REQUIRED = "update_required"
DESKTOP_AGENT_PREFIX = "FieldCRM-desktop/"  # User-Agent of every desktop build


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """"1.4.2" -> (1, 4, 2); None for anything that is not 1 to 4 dot-separated numbers."""
    if not text or len(text) > 40:
        return None
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 4 or not all(
            p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return tuple(int(p) for p in parts)
# The stamp of values the server fills in itself: lower than any real HLC.
SERVER_STAMP = "0000000000000-0000-server"


class FieldWrite(BaseModel):
    """One field's new value and the HLC stamp of the write. `base`: the stamp the
    writing device held for the field when it wrote (absent: it held none), so the server
    can tell an edit of what the writer saw from one that overwrote a value it never saw."""

    value: Any = None
    hlc: str
    base: str | None = None


class ChangeEntry(BaseModel):
    """One local write, as journaled: applied by the server at most once per (device, seq)."""

    device_id: str
    seq: int = Field(ge=1)
    entity: str
    record_id: str
    fields: dict[str, FieldWrite]


class PushRequest(BaseModel):
    entries: list[ChangeEntry]


class EntryResult(BaseModel):
    seq: int
    status: Literal["applied", "duplicate", "rejected"]
    reason: str | None = None
    # Fields whose write lost to a newer value already on the server (not an error:
    # the client learns the winner on its next pull).
    superseded: list[str] = Field(default_factory=list)
    # On a "duplicate": the status the entry got when it was first processed.
    original_status: Literal["applied", "rejected"] | None = None
    # Fields of an "applied" entry that were not saved because its user may not read
    # them (desktop.visibility); `reason` says why. The rest of the entry applied.
    refused: list[str] = Field(default_factory=list)


class PushResponse(BaseModel):
    results: list[EntryResult]
    version: int  # server version after this push


class RemoteChange(BaseModel):
    """The current winning state of the changed fields of one record."""

    version: int
    entity: str
    record_id: str
    fields: dict[str, FieldWrite]
    origin_device: str | None = None


class PullResponse(BaseModel):
    changes: list[RemoteChange]
    cursor: int  # pass back as `cursor` for the next page
    has_more: bool
    server_version: int
    total_estimate: int | None = None
    # What the caller may not read (desktop.visibility.Policy): record type -> field ->
    # "hidden" (left out of every change) or "masked" (a masked value, 138****5678).
    visibility: dict[str, dict[str, Literal["hidden", "masked"]]] = Field(default_factory=dict)
    # Whose records the caller may see: the owners (null: everyone). A device evicts the
    # records of other owners, and pulls again from 0 when the scope grew.
    scope: list[str] | None = None


class LoginRequest(BaseModel):
    username: str
    password: str
    device_id: str
    device_name: str = ""


class RefreshRequest(BaseModel):
    refresh_token: str
    device_id: str


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    username: str
    role: str


class Me(BaseModel):
    user_id: str
    username: str
    role: str
    teams: list[str]
    device_id: str


DedupeEntity = Literal["account", "contact"]
MAX_DUPLICATES_LIMIT = 1000


class DuplicatePair(BaseModel):
    """Two records the server judges probably the same customer (ids ordered a < b)."""

    entity: DedupeEntity
    a: str
    b: str
    a_name: str
    b_name: str
    score: float
    reasons: list[Literal["uscc", "phone", "email", "name"]]
    found_at: str


class DuplicateList(BaseModel):
    pairs: list[DuplicatePair]
    pending: int = Field(ge=0, description="records still waiting to be checked; 0: complete")


class DismissRequest(BaseModel):
    entity: DedupeEntity
    a: str = Field(min_length=1, max_length=64)
    b: str = Field(min_length=1, max_length=64)
