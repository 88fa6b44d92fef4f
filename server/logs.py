"""Structured logs and the per-request observer.

`configure(fmt, level)` sends every log line of the server (its own, uvicorn's,
SQLAlchemy's warnings) to stderr, as one JSON object per line (`json`) or as plain text
(`text`). `RequestObserver`, a pure ASGI middleware (live streams pass through untouched),
does three things for each HTTP request with one clock reading at each end:

- takes the client's `X-Request-ID` (letters, digits, `._-`, at most 128) or makes one,
  and sends it back on the response; every log line written while the request runs
  carries it (a context variable);
- feeds the Prometheus request metrics (server.metrics);
- writes one access line to the `fieldcrm.access` logger (INFO): method, route template,
  path, status, duration in ms, request id, user and device once authenticated, client
  address. Never a header, a query string or a body, so never a token or a password.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any, Literal

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.connections import WHO_KEY
from server.metrics import Metrics, route_of

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")
ACCESS_LOGGER = "fieldcrm.access"
REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
CLIENT_GONE = 499  # nginx's number for "the client closed the connection first"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fieldcrm_request_id", default=None)
access_log = logging.getLogger(ACCESS_LOGGER)
_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ms), level, logger, msg, request_id when in a
    request, the fields passed with `extra=`, and the exception text if any."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                  + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
            "msg": record.getMessage()}
        rid = request_id_var.get()
        if rid is not None:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(out, default=str).decode()
        except TypeError:  # orjson refuses integers past 64 bits, non-str keys
            return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(fmt: LogFormat = "text", level: str = "warning", access: bool = True) -> None:
    """Route every logger to stderr in `fmt`; `level` for everything but the access log,
    which is INFO when `access` (off: no access lines at all)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    access_log.setLevel(logging.INFO if access else logging.CRITICAL + 1)


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers") or ():
        if key == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if REQUEST_ID_RE.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = _request_id(scope)
        token = request_id_var.set(rid)
        status = CLIENT_GONE
        header = (REQUEST_ID_HEADER, rid.encode("latin-1"))

        async def send_seen(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_seen)
        except Exception:
            if status == CLIENT_GONE:  # Starlette's outermost handler answers it with a 500
                status = 500
            raise
        finally:
            seconds = time.perf_counter() - start
            route = route_of(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, route, status, seconds, rid)
            request_id_var.reset(token)


def _log_access(scope: Scope, route: str, status: int, seconds: float, rid: str) -> None:
    who = (scope.get("state") or {}).get(WHO_KEY)
    user, _, device = who.partition("/") if isinstance(who, str) else ("", "", "")
    client = scope.get("client")
    fields = {"method": scope["method"], "route": route, "path": scope.get("path", ""),
              "status": status, "duration_ms": round(seconds * 1000, 2), "request_id": rid,
              "user": user or None, "device": device or None,
              "client": client[0] if client else None}
    access_log.info("%s %s %s %.1f ms", fields["method"], fields["path"], status,
                    fields["duration_ms"], extra=fields)
