"""The FastAPI application: `create_app(settings)`.

Every database call is synchronous SQLAlchemy Core run in the threadpool; SSE and long
polls wait asynchronously on the `Notifier`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette.sse import EventSourceResponse

from desktop.schema import ENTITIES
from desktop.sync.protocol import (
    DEFAULT_PULL_PAGE,
    MAX_DUPLICATES_LIMIT,
    PROTOCOL_VERSION,
    DedupeEntity,
    DismissRequest,
    DuplicateList,
    LoginRequest,
    Me,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    TokenPair,
)
from server import (
    api_routes,
    audit,
    config,
    duplicates,
    health,
    lead_routes,
    leads,
    report_routes,
    versions,
    visibility,
    webhook_routes,
    webhooks,
)
from server.auth import Auth, Principal, load_jwt_secret
from server.blobs import SHA_RE, BlobStore
from server.config import Settings
from server.connections import WHO_KEY, ConnectionGuard
from server.db import is_sqlite, open_database
from server.errors import api_error
from server.headers import SecurityHeaders
from server.logs import RequestObserver
from server.metrics import CONTENT_TYPE, Metrics
from server.notify import Notifier, PgListener
from server.planner_stats import PlannerStats
from server.pull import current_version, pull_page
from server.push import NOTIFY_CHANNEL, PUSH_DESCRIPTION, MalformedPush, apply_push, parse_push
from server.throttle import LoginThrottle
from server.versions import SYNC_PREFIXES, UPGRADE_DESCRIPTION, ClientVersions

STREAM_RECHECK_S = 0.5  # a live stream of a revoked device ends within about this

log = logging.getLogger(__name__)
MAX_PULL_ENTITIES = 20
_bearer = HTTPBearer(auto_error=False)


def current(request: Request,
            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The authenticated principal; 401 with a code otherwise (see `server.auth`)."""
    auth: Auth = request.app.state.auth
    principal = auth.authenticate(creds.credentials if creds else None)
    setattr(request.state, WHO_KEY, f"{principal.username}/{principal.device_id}")
    return principal


Current = Annotated[Principal, Depends(current)]


def _err(description: str, *, also: str | None = None,
         only: str | None = None) -> dict[str, Any]:
    """An error answer in the OpenAPI document: the ApiError body ({"detail": {code,
    message}}), or `only` another schema, or either (`also`)."""
    refs = [f"#/components/schemas/{name}" for name in ([only] if only else
                                                         ["ApiError", *([also] if also else [])])]
    schema: dict[str, Any] = {"$ref": refs[0]} if len(refs) == 1 else {
        "anyOf": [{"$ref": r} for r in refs]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def create_app(settings: Settings, engine: sa.Engine | None = None) -> FastAPI:
    """Open (and migrate) the database and build the app. Raises ServerDatabaseError
    when the database cannot be opened, BadVersionSetting for a client version setting
    that is not a version."""
    versions.check(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or open_database(settings.url)
    auth = Auth(engine, load_jwt_secret(engine), settings.access_ttl_s)
    notifier = Notifier(current_version(engine))
    blobs = BlobStore(engine, settings.blob_dir, config.MAX_BLOB_BYTES)
    planner_stats = PlannerStats(engine)
    checker = duplicates.Checker(engine, settings.dedupe_interval_s)
    ticker = leads.Ticker(engine, settings.leads_interval_s, notifier.publish)
    worker = webhooks.Worker(engine)  # one process per database delivers (its lease)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        notifier.bind(asyncio.get_running_loop())
        listener = None
        if not is_sqlite(engine):
            listener = PgListener(engine.url, NOTIFY_CHANNEL, notifier)
            listener.start()
            await run_in_threadpool(listener.ready.wait, 10.0)
        await run_in_threadpool(planner_stats.start)
        checker.start()
        ticker.start()
        worker.start(settings.webhook_interval_s)
        api_calls.start()
        try:
            yield
        finally:
            api_calls.stop()
            worker.stop()
            ticker.stop()
            checker.stop()
            await run_in_threadpool(planner_stats.stop)
            if listener is not None:
                listener.stop()

    app = FastAPI(title="FieldCRM sync server", version=str(PROTOCOL_VERSION), lifespan=lifespan)
    app.state.engine = engine
    app.state.auth = auth
    app.state.notifier = notifier
    app.state.planner_stats = planner_stats
    app.state.settings = settings
    # The first middleware inside Starlette's error handler: a dropped or stalled client
    # is dealt with here and never reaches it as a 500 (server.connections).
    app.add_middleware(ConnectionGuard, idle_s=settings.body_idle_s,
                       min_rate=settings.min_body_rate)
    app.add_middleware(SecurityHeaders)  # nosniff, no framing, no caching (server.headers)
    # newest and minimum client, 426 for a client below the minimum (server.versions)
    app.add_middleware(ClientVersions, settings=settings)
    metrics = Metrics(backlog=lambda: duplicates.pending(engine),
                      webhooks=lambda: webhooks.gauges(engine))
    app.state.metrics = metrics
    # outermost: request id, metrics and the access line see 408/413 too (server.logs)
    app.add_middleware(RequestObserver, metrics=metrics)

    @app.exception_handler(sa.exc.OperationalError)
    async def _db_down(_r: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        log.error("database error: %s", exc)
        return JSONResponse({"detail": {"code": "db_unavailable",
                                        "message": "The server database is unavailable; "
                                                   "try again."}},
                            status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(sa.exc.DataError)
    async def _bad_data(_r: Request, exc: sa.exc.DataError) -> JSONResponse:
        return JSONResponse({"detail": {"code": "bad_request",
                                        "message": "The request holds a value the server "
                                                   "cannot store."}},
                            status_code=400)

    health.add_routes(app, engine, _err)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus text format for this process (server.metrics); not part of the
        sync API: keep it off the public proxy (deploy/)."""
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    throttle = LoginThrottle(engine)

    @app.post("/v1/auth/login", response_model=TokenPair, responses={
        409: _err("The device id is signed in as another user: `device_in_use`."),
        422: _err("`bad_device_id` (ApiError), or the body does not fit LoginRequest "
                  "(HTTPValidationError).", also="HTTPValidationError"),
        429: _err("Too many wrong passwords from here: `too_many_attempts` (Retry-After).")})
    def login(req: LoginRequest, request: Request) -> TokenPair:
        address = request.client.host if request.client else ""
        failures = throttle.check(req.username, address)
        try:
            tokens = auth.login(req.username, req.password, req.device_id, req.device_name)
        except HTTPException as exc:
            if isinstance(exc.detail, dict) and exc.detail.get("code") == "invalid_credentials":
                throttle.failed(req.username, address)
                audit.record_now(engine, "login_failed", actor=req.username,
                                 target=f"device:{req.device_id}", address=address)
            raise
        if failures:
            throttle.succeeded(req.username, address)
        audit.record_now(engine, "login", actor=tokens.username,
                         target=f"device:{req.device_id}", address=address)
        return tokens

    @app.post("/v1/auth/refresh", response_model=TokenPair)
    def refresh(req: RefreshRequest) -> TokenPair:
        return auth.refresh(req.refresh_token, req.device_id)

    @app.post("/v1/auth/logout")
    def logout(p: Current) -> dict[str, Any]:
        auth.logout(p)
        audit.record_now(engine, "logout", actor=p.username, target=f"device:{p.device_id}")
        return {}

    @app.get("/v1/me", response_model=Me)
    def me(p: Current) -> Me:
        return Me(user_id=p.user_id, username=p.username, role=p.role.value, teams=list(p.teams),
                  device_id=p.device_id)

    @app.post("/v1/push", response_model=PushResponse, description=PUSH_DESCRIPTION, responses={
        422: _err("The body does not have the PushRequest shape.",
                  only="HTTPValidationError")}, openapi_extra={"requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}}}})
    async def push(request: Request, p: Current) -> Response:
        # The body is parsed by `parse_push` (same shape as PushRequest, several times
        # faster than pydantic for 500 entries) and the reply is sent without re-validation.
        # A body over MAX_PUSH_BYTES was refused (413) before it was read (server.connections).
        try:
            entries = parse_push(await request.body())
        except MalformedPush as exc:
            raise RequestValidationError(
                [{"type": "value_error", "loc": exc.loc, "msg": str(exc)}]) from None
        if len(entries) > config.MAX_PUSH_ENTRIES:
            raise api_error(413, "too_many_entries",
                            f"Push at most {config.MAX_PUSH_ENTRIES} entries at once.")
        checker.busy()
        resp = await run_in_threadpool(apply_push, engine, p, entries, notifier.publish,
                                       blobs.forget_unreferenced)
        planner_stats.wrote(sum(r.status == "applied" for r in resp.results))
        for r in resp.results:
            metrics.pushed.labels(r.status).inc()
        return Response(resp.model_dump_json(), media_type="application/json")

    @app.get("/v1/pull", response_model=PullResponse)
    async def pull(
        p: Current,
        cursor: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=config.MAX_PULL_LIMIT)] = DEFAULT_PULL_PAGE,
        wait: Annotated[float, Query(ge=0, le=config.MAX_LONG_POLL_S)] = 0,
        count: bool = False,
        entity: Annotated[list[str] | None, Query(
            max_length=MAX_PULL_ENTITIES,
            description="only records of these types (repeatable)")] = None,
    ) -> Response:
        checker.busy()
        if entity is not None:  # a type that does not exist has no records
            entity = [e for e in entity if e in ENTITIES]
        body, n, seen = await run_in_threadpool(
            pull_page, engine, p, cursor, limit, count or cursor == 0, entity)
        if n == 0 and wait > 0:
            # Wait for anything committed after the snapshot just read (the notifier
            # may lag behind it, never ahead of the database).
            newest = await notifier.wait_newer(max(cursor, seen), wait)
            if newest > max(cursor, seen):
                p = await run_in_threadpool(auth.authenticate_principal, p)
                body, n, seen = await run_in_threadpool(pull_page, engine, p, cursor, limit,
                                                        count, entity)
        metrics.pulled.inc(n)
        return Response(body, media_type="application/json")

    # Open live streams per device, and which of them may no longer listen: one query
    # for all of them at most every STREAM_RECHECK_S / 2 (server.auth.ended_devices).
    listening: dict[str, int] = {}
    ended_cache: dict[str, Any] = {"at": 0.0, "ended": frozenset()}

    async def ended_devices() -> frozenset[str]:
        now = time.monotonic()
        if now - ended_cache["at"] >= STREAM_RECHECK_S / 2:
            ended_cache["at"] = now
            ended_cache["ended"] = await run_in_threadpool(auth.ended_devices, list(listening))
        ended: frozenset[str] = ended_cache["ended"]
        return ended

    @app.get("/v1/events", response_class=EventSourceResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": 'SSE: `data: {"version": N}` '
                                             'when newer changes exist'}})
    async def events(
        p: Current, cursor: Annotated[int, Query(ge=0, le=2**62)] = 0
    ) -> EventSourceResponse:
        ping = settings.sse_ping_s

        async def stream() -> AsyncIterator[dict[str, str]]:
            last = cursor
            checked = time.monotonic()
            notifier.publish(await run_in_threadpool(current_version, engine))
            listening[p.device_id] = listening.get(p.device_id, 0) + 1
            metrics.streams.inc()
            try:
                while True:
                    newest = await notifier.wait_newer(last, min(ping, STREAM_RECHECK_S))
                    # A revoked device, a disabled user: the stream ends within a second.
                    if p.device_id in await ended_devices():
                        return
                    if newest > last:
                        yield {"data": json.dumps({"version": newest})}
                        last = newest
                        continue
                    if time.monotonic() - checked < ping:
                        continue
                    checked = time.monotonic()
                    try:  # quiet period: is the session itself still valid?
                        await run_in_threadpool(auth.authenticate_principal, p)
                    except HTTPException:
                        return
            finally:
                metrics.streams.dec()
                listening[p.device_id] -= 1
                if not listening[p.device_id]:
                    del listening[p.device_id]

        return EventSourceResponse(stream(), ping=max(1, int(ping)))

    # ---------------------------------------------------------------- duplicates
    @app.get("/v1/duplicates", response_model=DuplicateList)
    def duplicate_pairs(
        p: Current,
        entity: DedupeEntity = "account",
        limit: Annotated[int, Query(ge=1, le=MAX_DUPLICATES_LIMIT)] = 200,
        include_dismissed: bool = False,
    ) -> DuplicateList:
        """Probable duplicate pairs whose two records the caller may both see, best first
        (server.duplicates)."""
        pairs, waiting = duplicates.list_pairs(engine, p, entity, limit=limit,
                                               include_dismissed=include_dismissed)
        with engine.connect() as conn:
            _rules, policy = visibility.policy_of(conn, p)
        shown = [{**x.as_json(), "a_name": visibility.name_as_seen(x.a_name, entity, policy),
                  "b_name": visibility.name_as_seen(x.b_name, entity, policy)} for x in pairs]
        return DuplicateList.model_validate({"pairs": shown, "pending": waiting})

    @app.post("/v1/duplicates/dismiss", responses={
        404: _err("No such pair, or the caller may not see both records: `not_found`.")})
    def duplicate_dismiss(req: DismissRequest, p: Current) -> dict[str, Any]:
        """Mark a pair "not a duplicate" for everyone who may see it."""
        if not duplicates.dismiss(engine, p, req.entity, req.a, req.b):
            raise api_error(404, "not_found", "No such pair of records.")
        return {}

    # ---------------------------------------------------------------- blobs
    def _sha(sha256: str) -> str:
        if not SHA_RE.match(sha256):
            raise api_error(404, "not_found", "No such blob.")
        return sha256

    @app.head("/v1/blobs/{sha256}", responses={
        404: {"description": "Not stored (yet): Upload-Offset says how much has arrived"}})
    def blob_head(sha256: str, p: Current) -> Response:
        sha = _sha(sha256)
        size = blobs.readable_size(p, sha)
        if size is not None:
            return Response(status_code=200,
                            headers={"Content-Length": str(size), "Upload-Offset": str(size)})
        return Response(status_code=404, headers={"Upload-Offset": str(blobs.offset(p, sha))})

    @app.get("/v1/blobs/{sha256}", response_class=FileResponse,
             responses={200: {"content": {"application/octet-stream": {}}},
                        404: {"description": "No such blob"}})
    def blob_get(sha256: str, p: Current) -> FileResponse:
        sha = _sha(sha256)
        if blobs.readable_size(p, sha) is None:
            raise api_error(404, "not_found", "No such blob.")
        return FileResponse(blobs.path(sha), media_type="application/octet-stream")

    @app.put("/v1/blobs/{sha256}",
             responses={201: {"description": "Stored"}, 202: {"description": "Partial"},
                        400: _err("Content-Range is malformed or disagrees with the body: "
                                  "`bad_range`."),
                        404: _err("Not a sha256: `not_found`."),
                        409: _err("The upload must continue where it stopped: "
                                  "`offset_mismatch`."),
                        422: _err("The content does not match its sha256: `hash_mismatch`.")})
    async def blob_put(sha256: str, request: Request, p: Current) -> JSONResponse:
        sha = _sha(sha256)
        length = request.headers.get("content-length")
        start, end, total = blobs.parse_range(request.headers.get("content-range"),
                                               int(length) if length and length.isdigit() else None)
        part, have = await run_in_threadpool(blobs.open_part, p, sha, start, total)
        limit = (end + 1) if end is not None else config.MAX_BLOB_BYTES
        written = have
        with part.open("ab") as fh:
            async for chunk in request.stream():
                if written + len(chunk) > limit:
                    fh.truncate(have)
                    raise api_error(400, "bad_range", "The body is longer than Content-Range says.")
                fh.write(chunk)
                written += len(chunk)
        if total is None or written == total:
            size = await run_in_threadpool(blobs.finish, p, sha, part)
            return JSONResponse({"sha256": sha, "complete": True, "size": size, "offset": size},
                                status_code=201)
        return JSONResponse({"sha256": sha, "complete": False, "offset": written}, status_code=202)

    lead_routes.add_routes(app, engine, notifier.publish, _err)
    report_routes.add_routes(app, engine, Current, _err)
    api_calls = api_routes.add_routes(app, engine, notifier.publish, _err)
    webhook_routes.add_routes(app, engine, Current, _err)
    _openapi_with_push_request(app)
    return app


API_ERROR_SCHEMA = {
    "title": "ApiError", "type": "object", "required": ["detail"],
    "properties": {"detail": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}},
}
AUTH_RESPONSE = ("Not signed in, or no longer: `token_missing`, `token_invalid`, "
                 "`token_expired`, `session_ended`, `logged_out`, `device_revoked`, "
                 "`user_disabled`, `invalid_credentials`, `refresh_invalid`, `refresh_reused`.")
DB_DOWN_RESPONSE = "The server database is unavailable: `db_unavailable`; try again."
BODY_RESPONSES = {
    "408": f"The body arrived too slowly (no byte for {config.BODY_IDLE_S:g} s, or slower "
           f"than {config.MIN_BODY_RATE:g} bytes/s on average after that): "
           "`request_timeout`; send it again (a blob upload resumes where it stopped).",
    "413": f"The body is larger than this endpoint accepts (push {config.MAX_PUSH_BYTES}, "
           f"blob {config.MAX_BLOB_BYTES}, any other {config.MAX_JSON_BYTES} bytes): "
           "`too_large`, refused before any of it is read.",
}


def _openapi_with_push_request(app: FastAPI) -> None:
    """Publish the PushRequest schema the push endpoint reads by hand, and the 408/413
    answers of server.connections on every operation that takes a body."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        schema = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        comps = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, sub in schema.pop("$defs", {}).items():
            comps.setdefault(name, sub)
        comps["PushRequest"] = schema
        comps["ApiError"] = API_ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                answers = op.setdefault("responses", {})
                if op.get("security") or path in ("/v1/auth/login", "/v1/auth/refresh"):
                    answers.setdefault("401", {"description": AUTH_RESPONSE, "content": error})
                if path.startswith(SYNC_PREFIXES):
                    answers.setdefault("426", {"description": UPGRADE_DESCRIPTION,
                                               "content": error})
                if path != "/v1/health":
                    answers.setdefault("503", {"description": DB_DOWN_RESPONSE,
                                               "content": error})
                if method in ("post", "put", "patch", "delete"):
                    for status, text in BODY_RESPONSES.items():
                        op.setdefault("responses", {})[status] = {
                            "description": text, "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/ApiError"}}}}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
