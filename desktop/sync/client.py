"""The HTTP client of the sync protocol (`desktop.sync.protocol`), over httpx.

Every library error is translated here, at the boundary: a connection problem becomes
`OfflineError`, a 5xx `ServerBusyError`, a 401 with a wipe code `WipeRequired`, an ended
session `SignedOutError`. The access token lives in memory only; the refresh token is
handed to `on_refresh_token` (which keeps it in the OS keyring) the moment the server
issues it, because the server rotates it on every use.

Push and pull bodies stay plain dicts (no model validation on the hot path): a page of
2,000 changes goes straight from JSON to the store.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson

from desktop.errors import AuthError, SyncError
from desktop.sync.errors import (
    ServerBusyError,
    ServerNotAnsweringError,
    SignedOutError,
    UpdateRequired,
    WipeRequired,
    offline_error,
)
from desktop.sync.protocol import (
    CLIENT_VERSION_HEADER,
    DESKTOP_AGENT_PREFIX,
    UPDATE_REQUIRED,
    WIPE_CODES,
    TokenPair,
)
from desktop.sync.versions import CLIENT_VERSION, ServerVersions

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
EVENTS_READ_TIMEOUT_S = 45.0  # the server pings every 15 s; three missed pings = gone
REFRESHABLE = frozenset({"token_expired", "token_invalid", "session_ended", "token_missing"})
USER_AGENT = f"{DESKTOP_AGENT_PREFIX}{CLIENT_VERSION}"


def _detail(resp: httpx.Response) -> tuple[str, str]:
    """(code, message) of an error reply; tolerant of any body."""
    try:
        body = resp.json()
    except ValueError:
        return "", resp.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("code") or ""), str(detail.get("message") or "")
    if isinstance(detail, str):
        return "", detail
    if isinstance(detail, list) and detail:  # FastAPI validation errors
        first = detail[0]
        return "invalid_request", str(first.get("msg") if isinstance(first, dict) else first)
    return "", ""


class SyncClient:
    """One server, one device. Thread-safe: the engine's sync thread and its events
    thread share it (httpx's pool is thread-safe; token refresh is serialised)."""

    def __init__(self, server_url: str, device_id: str, *, refresh_token: str | None = None,
                 on_refresh_token: Callable[[str], None] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        self.server_url = server_url.rstrip("/")
        self.device_id = device_id
        self._refresh_token = refresh_token
        self._on_refresh_token = on_refresh_token
        self._access: str | None = None
        self._lock = threading.Lock()
        self.identity: dict[str, str] = {}
        self.versions: ServerVersions | None = None  # what the server last said about them
        self._streams: set[httpx.Response] = set()
        self._http = httpx.Client(
            base_url=self.server_url, transport=transport,
            timeout=timeout or httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            headers={"User-Agent": USER_AGENT, CLIENT_VERSION_HEADER: CLIENT_VERSION},
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4))

    def close(self) -> None:
        self.abort_events()
        self._http.close()

    def abort_events(self) -> None:
        """End any live-update stream at once (another thread is reading it)."""
        for resp in list(self._streams):
            # Closing the response does not wake a thread blocked in recv(); shutting the
            # socket down does (the read returns end-of-stream).
            stream = resp.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ auth
    def login(self, username: str, password: str, device_name: str = "") -> TokenPair:
        body = {"username": username, "password": password, "device_id": self.device_id,
                "device_name": device_name}
        resp = self._send("POST", "/v1/auth/login", json_body=body, auth=False)
        if resp.status_code == 401:
            code, message = _detail(resp)
            if code == "invalid_credentials":
                raise AuthError("Wrong user name or password.")
            raise AuthError(message or "The server did not accept these credentials.")
        if resp.status_code == 429:
            _, message = _detail(resp)
            raise AuthError(message or "Too many attempts; wait a few minutes and try again.")
        pair = TokenPair.model_validate(self._json(resp))
        self._take(pair)
        return pair

    def logout(self) -> None:
        """End this device's session on the server (the caller wipes local data)."""
        self.request("POST", "/v1/auth/logout")

    def _refresh(self) -> None:
        if not self._refresh_token:
            raise SignedOutError()
        body = {"refresh_token": self._refresh_token, "device_id": self.device_id}
        resp = self._send("POST", "/v1/auth/refresh", json_body=body, auth=False)
        if resp.status_code == 401:
            code, _ = _detail(resp)
            if code in WIPE_CODES:
                raise WipeRequired(code)
            raise SignedOutError()
        self._take(TokenPair.model_validate(self._json(resp)))

    def _take(self, pair: TokenPair) -> None:
        self._refresh_token = pair.refresh_token
        if self._on_refresh_token is not None:
            self._on_refresh_token(pair.refresh_token)  # keep it before anything else can fail
        self._access = pair.access_token
        self.identity = {"user_id": pair.user_id, "username": pair.username, "role": pair.role}

    def _access_token(self) -> str:
        with self._lock:
            if self._access is None:
                self._refresh()
            assert self._access is not None
            return self._access

    def _renew(self, stale: str) -> None:
        with self._lock:
            if self._access == stale:  # another thread may have renewed it already
                self._access = None
                self._refresh()

    # ------------------------------------------------------------ requests
    def _send(self, method: str, path: str, *, json_body: Any = None,
              params: dict[str, Any] | None = None, auth: bool = True,
              token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if auth and token else None
        # orjson: a first sync and a big push are mostly JSON work on this side
        content = None if json_body is None else orjson.dumps(json_body)
        if content is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        try:
            resp = self._http.request(method, path, content=content, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise offline_error(exc) from exc
        self._answered(resp)
        if resp.status_code == 408:  # the server gave up waiting for our request: the link
            raise ServerNotAnsweringError()  # is slow; the journal waits, the engine retries
        if resp.status_code >= 500:
            raise ServerBusyError(f"The sync server had a problem (HTTP {resp.status_code}); "
                                  "FieldCRM will try again shortly.")
        return resp

    def _answered(self, resp: httpx.Response) -> None:
        """Note the client versions an answer names; a 426 raises UpdateRequired."""
        got = ServerVersions.from_headers(resp.headers)
        if got is not None:
            self.versions = got
        if resp.status_code == 426:
            if not resp.is_stream_consumed:
                resp.read()
            code, message = _detail(resp)
            v = self.versions or ServerVersions()
            raise UpdateRequired(message if code == UPDATE_REQUIRED and message else None,
                                 minimum=v.minimum, latest=v.latest,
                                 download_url=v.download_url)

    def request(self, method: str, path: str, *, json_body: Any = None,
                params: dict[str, Any] | None = None) -> Any:
        """An authenticated JSON request; refreshes the access token once if needed."""
        for attempt in (0, 1):
            token = self._access_token()
            resp = self._send(method, path, json_body=json_body, params=params, token=token)
            if resp.status_code != 401:
                return self._json(resp)
            code, _ = _detail(resp)
            if code in WIPE_CODES:
                raise WipeRequired(code)
            if attempt == 0 and (code in REFRESHABLE or not code):
                self._renew(token)
                continue
            raise SignedOutError()
        raise SignedOutError()  # pragma: no cover

    @staticmethod
    def _json(resp: httpx.Response) -> Any:
        if resp.status_code == 403:
            _, message = _detail(resp)
            raise AuthError(message or "The server refused this request for your account.")
        if resp.status_code >= 400:
            code, message = _detail(resp)
            raise SyncError(f"The sync server refused the request ({resp.status_code} {code}): "
                            f"{message}".rstrip(": "))
        try:
            return orjson.loads(resp.content) if resp.content else {}
        except ValueError as exc:
            raise ServerBusyError("The sync server sent a reply FieldCRM cannot read; "
                                  "it will try again.") from exc

    # ------------------------------------------------------------ protocol
    def me(self) -> dict[str, Any]:
        return dict(self.request("GET", "/v1/me"))

    def push(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """PushRequest -> PushResponse, as dicts."""
        return dict(self.request("POST", "/v1/push", json_body={"entries": entries}))

    def duplicates(self, entity: str, *, limit: int = 200,
                   include_dismissed: bool = False) -> dict[str, Any]:
        """The probable duplicate pairs the server found among the records this user may
        see ({"pairs": [...], "pending": n}; see server.duplicates)."""
        return dict(self.request("GET", "/v1/duplicates", params={
            "entity": entity, "limit": limit,
            "include_dismissed": "true" if include_dismissed else "false"}))

    def report(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """A report over the book the server lets this user see (server.reports: a
        manager's team), `params` as GET /v1/reports/{name} takes them."""
        return dict(self.request("GET", f"/v1/reports/{name}", params=params))

    def dismiss_duplicate(self, entity: str, a: str, b: str) -> None:
        self.request("POST", "/v1/duplicates/dismiss",
                     json_body={"entity": entity, "a": a, "b": b})

    def pull(self, cursor: int, limit: int,
             entities: list[str] | None = None) -> dict[str, Any]:
        """PullResponse as a dict: changes, cursor, has_more, server_version, visibility.
        `entities`: only records of these types."""
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if entities:
            params["entity"] = entities
        return dict(self.request("GET", "/v1/pull", params=params))

    def events(self, cursor: int, stop: threading.Event) -> Iterator[int | None]:
        """Server-sent events: yields the server version of each event (None for a ping)
        until `stop` is set or the stream ends. Raises like `request`."""
        for attempt in (0, 1):
            token = self._access_token()
            try:
                with self._http.stream(
                        "GET", "/v1/events", params={"cursor": cursor},
                        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
                        timeout=httpx.Timeout(EVENTS_READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
                ) as resp:
                    self._answered(resp)
                    if resp.status_code == 401:
                        resp.read()
                        code, _ = _detail(resp)
                        if code in WIPE_CODES:
                            raise WipeRequired(code)
                        if attempt == 0:
                            self._renew(token)
                            continue
                        raise SignedOutError()
                    if resp.status_code >= 400:
                        raise ServerBusyError(
                            f"The live-update stream failed (HTTP {resp.status_code}).")
                    self._streams.add(resp)
                    try:
                        yield None  # connected
                        for line in resp.iter_lines():
                            if stop.is_set():
                                return
                            yield from _parse_event_line(line)
                    finally:
                        self._streams.discard(resp)
                    return
            except (httpx.TransportError, httpx.StreamClosed) as exc:
                if stop.is_set():
                    return
                raise offline_error(exc) from exc

    # ------------------------------------------------------------ blobs
    def blob_exists(self, sha256: str) -> bool:
        token = self._access_token()
        resp = self._send("HEAD", f"/v1/blobs/{sha256}", token=token)
        return resp.status_code == 200

    def put_blob(self, sha256: str, data: bytes) -> None:
        token = self._access_token()
        try:
            resp = self._http.put(f"/v1/blobs/{sha256}", content=data,
                                  headers={"Authorization": f"Bearer {token}",
                                           "Content-Type": "application/octet-stream"})
        except httpx.TransportError as exc:
            raise offline_error(exc) from exc
        self._answered(resp)
        if resp.status_code == 408:  # the server gave up waiting for our request: the link
            raise ServerNotAnsweringError()  # is slow; the journal waits, the engine retries
        if resp.status_code >= 500:
            raise ServerBusyError()
        self._json(resp)

    def get_blob(self, sha256: str) -> bytes:
        token = self._access_token()
        resp = self._send("GET", f"/v1/blobs/{sha256}", token=token)
        if resp.status_code >= 400:
            self._json(resp)
        return resp.content


def _parse_event_line(line: str) -> Iterator[int | None]:
    if not line.startswith("data:"):
        if line.startswith(":"):
            yield None  # comment ping: the stream is alive
        return
    payload = line[5:].strip()
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        yield None
        return
    version = data.get("version") if isinstance(data, dict) else None
    yield int(version) if isinstance(version, int) else None
