"""Clients on flaky links: a dropped or stalled request is normal, not a server error.

Reps sync from trains, hotel Wi-Fi and tethered phones. `ConnectionGuard` (ASGI
middleware, installed by `server.app.create_app`) makes sure that:

* a client that disconnects mid-request (push, pull long-poll, the event stream, blob
  upload or download, login) is logged as ONE info line (who, which endpoint, how many
  bytes of the body arrived), never as a traceback, and never answered with a 5xx;
* a body that arrives too slowly is ended after a bounded time (`Settings.body_idle_s`
  without a byte, or slower on average than `Settings.min_body_rate` bytes/s after the
  first `body_idle_s`): 408 `request_timeout`, so a slow client cannot hold a worker;
* a body larger than its endpoint allows is refused with 413 `too_large` before any of it
  is read (by Content-Length; a chunked body is cut off at the limit the same way). After
  the answer the rest of the body is read and dropped for a bounded while (`DRAIN_*`):
  most clients send their whole body before they read, and closing with their bytes
  unread makes the kernel reset the connection, which can destroy the 413 on its way;
* a GET whose client has gone (a long poll, a download) stops at once instead of
  waiting for its timer or writing into a closed socket.

What arrived before a drop is kept by the endpoint that reads it: a blob upload appends
to its partial file as the bytes come (server.blobs), so the next attempt resumes there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect

from server import config

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LATE_BODY_GRACE_S = 0.05
# After a 413: the rest of the body read and dropped, at most this much, this long, or
# until nothing comes for DRAIN_IDLE_S (a client that stopped sending has read the answer)
DRAIN_BYTES = 32 * 1024 * 1024
DRAIN_S = 5.0
DRAIN_IDLE_S = 0.5
WHO_KEY = "fieldcrm_who"  # request.state key: "user/device" once authenticated


def body_limit(method: str, path: str) -> int:
    """The largest body (bytes) an endpoint accepts."""
    if path == "/v1/push":
        return config.MAX_PUSH_BYTES
    if method == "PUT" and path.startswith("/v1/blobs/"):
        return config.MAX_BLOB_BYTES
    return config.MAX_JSON_BYTES


@dataclass
class _Flow:
    method: str
    path: str
    limit: int
    expected: int | None  # Content-Length, if given
    started: float
    arrived: int = 0
    body_done: bool = False
    gone: bool = False  # the client disconnected
    ended: str = ""  # "timeout" | "too_large": this guard ended the body
    response_started: bool = False
    finishing: bool = False  # the last byte of the response is being sent
    sent: int = 0  # response body bytes handed to the server


class ConnectionGuard:
    def __init__(self, app: ASGIApp, *, idle_s: float, min_rate: float) -> None:
        self.app = app
        self.idle_s = idle_s
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        expected = _content_length(scope)
        flow = _Flow(method, path, body_limit(method, path), expected, time.monotonic())
        if expected is not None and expected > flow.limit:
            log.info("refused %s %s from %s: body of %d bytes is over the limit of %d",
                     method, path, _client(scope), expected, flow.limit)
            await _answer(send, 413, "too_large",
                          f"The request body may be at most {flow.limit} bytes; "
                          "send it in smaller parts.", drain=receive)
            return
        if expected is None and method in ("GET", "HEAD"):
            flow.body_done = True

        async def guarded_receive() -> Message:
            if flow.body_done or flow.ended:
                message = await receive()
            else:
                message = await self._receive_body(receive, flow)
            if message["type"] == "http.disconnect" and not flow.ended and not flow.finishing:
                flow.gone = True
            return message

        async def guarded_send(message: Message) -> None:
            if flow.ended:
                return  # this guard answers instead (below)
            if message["type"] == "http.response.start":
                flow.response_started = True
            elif message["type"] == "http.response.body":
                flow.sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    flow.finishing = True
            await send(message)

        try:
            if method in ("GET", "HEAD"):
                await self._run_watched(scope, guarded_receive, guarded_send, flow)
            else:
                await self.app(scope, guarded_receive, guarded_send)
        except ClientDisconnect:
            if not (flow.gone or flow.ended):
                raise
        except OSError:  # a write into a socket the client already closed
            if not flow.gone:
                raise
            flow.gone = True
        if flow.ended and not flow.response_started:
            if flow.ended == "too_large":
                await _answer(send, 413, "too_large",
                              f"The request body may be at most {flow.limit} bytes; "
                              "send it in smaller parts.", drain=receive)
            else:
                await _answer(send, 408, "request_timeout",
                              "The request body arrived too slowly; send it again.")
        if flow.gone or flow.ended:
            what = {"timeout": "sent its body too slowly",
                    "too_large": "sent a body over the limit"}.get(flow.ended, "went away")
            total = "?" if flow.expected is None else str(flow.expected)
            log.info("client %s %s during %s %s: %d of %s body bytes arrived, %d sent back",
                     _who(scope), what, method, path, flow.arrived, total, flow.sent)

    async def _receive_body(self, receive: Receive, flow: _Flow) -> Message:
        """The next body message, or a disconnect when the body is too slow or too big
        (the endpoint then stops as if the client had gone; the guard answers)."""
        now = time.monotonic()
        timeout = self.idle_s
        if flow.expected:
            # Slower on average than min_rate after the first idle_s: ended.
            allowed = self.idle_s + flow.expected / self.min_rate
            timeout = min(timeout, max(0.0, flow.started + allowed - now))
        try:
            async with asyncio.timeout(timeout):  # no extra task, unlike wait_for
                message = await receive()
        except TimeoutError:
            # After the loop was held up (a GC pause, a busy thread) the body's arrival
            # and this timer fire in the same turn, and the timer wins: a body that is
            # already here is not a stall, so look once more before ending it.
            try:
                async with asyncio.timeout(LATE_BODY_GRACE_S):
                    message = await receive()
            except TimeoutError:
                flow.ended = "timeout"
                return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            flow.arrived += len(message.get("body", b""))
            if not message.get("more_body", False):
                flow.body_done = True
            if flow.arrived > flow.limit:
                flow.ended = "too_large"
                return {"type": "http.disconnect"}
        return message

    async def _run_watched(self, scope: Scope, receive: Receive, send: Send, flow: _Flow) -> None:
        """Run a request without a body beside a watch for its client leaving; when it
        leaves first, the request is cancelled (a GET changes nothing)."""
        app = asyncio.ensure_future(self.app(scope, receive, send))
        watch = asyncio.ensure_future(_until_disconnect(receive, flow))
        try:
            await asyncio.wait({app, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Whichever ends first ends the other: the client left (or this request is
            # being cancelled itself, e.g. at shutdown), or the answer is complete.
            watch.cancel()
            if not app.done():
                app.cancel()
            outcome, _ = await asyncio.gather(app, watch, return_exceptions=True)
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome


async def _until_disconnect(receive: Receive, flow: _Flow) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if flow.gone:
                return
            # The response is complete (the server says "disconnect" then too): keep
            # waiting until the request task ends and cancels this watch.
            await asyncio.Event().wait()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


def _who(scope: Scope) -> str:
    state = scope.get("state") or {}
    who = state.get(WHO_KEY)
    return f"{who} at {_client(scope)}" if who else _client(scope)


async def _answer(send: Send, status: int, code: str, message: str,
                  drain: Receive | None = None) -> None:
    """Send the error answer; with `drain`, the rest of the request body is read and
    dropped (bounded) before the answer's last, empty part lets the server close."""
    body = json.dumps({"detail": {"code": code, "message": message}}).encode()
    with contextlib.suppress(OSError):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body, "more_body": drain is not None})
        if drain is not None:
            await _drain(drain)
            await send({"type": "http.response.body", "body": b""})


async def _drain(receive: Receive) -> None:
    dropped = 0
    deadline = time.monotonic() + DRAIN_S
    while dropped < DRAIN_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            async with asyncio.timeout(min(left, DRAIN_IDLE_S)):
                message = await receive()
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return  # the client went away
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
