"""`/api/v1/{entity}`: the API for other systems (server.integrations, docs/api.md).

A system sends its key (`fieldcrm-server integration add`) in `X-Integration-Key`; writes
may carry an `Idempotency-Key`. Errors are ApiError bodies ({"detail": {code, message,
field?}}): 401 key missing, unknown, revoked or rotated out; 403 out of the key's scopes;
404 no such record; 409 an external id another record holds; 422 a field that does not
fit (a time without an offset, a field the entity lacks), a reused idempotency key with
another body; 429 over the key's calls per minute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import Body, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server import integrations as ig
from server.integrations import ApiRefused, Credential, RateLimiter, WriteRequest
from server.leads import new_id

TAG = "API for systems"
ApiEntity = Literal["account", "contact", "deal", "activity", "contract", "lead", "payment"]
RECORD_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
SYSTEM = r"^[a-z][a-z0-9_-]{0,39}$"
MAX_FILTERS = 10
MAX_LIST = 1000
MAX_CHANGES = 5000

EXAMPLE_RECORD: dict[str, Any] = {
    "id": "0190b2a4-0000-7000-8000-000000000001", "entity": "account", "version": 1042,
    "deleted": False, "updated_at": "2026-12-06T02:15:08.120000Z",
    "fields": {"name": "华东精密机械", "phone": "+8613812345678", "owner": "li"},
    "external_ids": {"erp": "C-1029"}}

Key = Annotated[str | None, Header(alias="X-Integration-Key",
                                   description="the system's key, `fci_...`")]
IdemKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200,
    description="the same key and body again get the first answer; another body is "
                "refused (422 `idempotency_key_reused`)")]


class ApiRecord(BaseModel):
    """A record as the calling system may read it (fields outside its scope left out)."""

    id: str
    entity: str
    version: int = Field(description="the server version of its last change")
    deleted: bool
    updated_at: str = Field(description="UTC, ISO-8601 with Z")
    fields: dict[str, Any]
    external_ids: dict[str, str] = Field(description="its ids in other systems: "
                                         '{"erp": "C-1029"}')

    model_config = {"json_schema_extra": {"examples": [dict(EXAMPLE_RECORD)]}}


class RecordPage(BaseModel):
    records: list[ApiRecord]
    next: str | None = Field(description="pass as `after` for the next page; null at the end")


class ChangePage(BaseModel):
    changes: list[ApiRecord] = Field(description="records changed after `since`, oldest change "
                                     "first, each at its newest state; deleted ones too")
    next_cursor: int = Field(description="pass as `since` next time (also when `has_more` is "
                             "false: it is where the feed stands now)")
    has_more: bool


class RecordWrite(BaseModel):
    """Field values to write (only these are stamped and merged: other fields keep their
    values); instants need an offset (`2026-12-06T10:00:00+08:00`)."""

    fields: dict[str, Any] = Field(default_factory=dict)
    external_ids: dict[str, str] = Field(default_factory=dict,
                                         description="ids in other systems to set on the record")

    model_config = {"json_schema_extra": {"examples": [
        {"fields": {"name": "华东精密机械", "owner": "li", "phone": "+8613812345678"},
         "external_ids": {"erp": "C-1029"}}]}}


class FieldsWrite(BaseModel):
    """Field values to write by external id."""

    fields: dict[str, Any] = Field(default_factory=dict)

    model_config = {"json_schema_extra": {"examples": [
        {"fields": {"collected_amount": 120000, "stage": "won"}}]}}


def add_routes(app: FastAPI, engine: sa.Engine, publish: Callable[[int], None],
               err: Callable[..., dict[str, Any]], limiter: RateLimiter | None = None
               ) -> ig.CallLog:
    """Register the API for systems; `err` builds an error answer for the OpenAPI document.
    Returns the audit writer of reads (start and stop it with the app)."""
    limiter = limiter or RateLimiter()
    calls = ig.CallLog(engine)
    app.state.api_limiter = limiter
    common: dict[int | str, dict[str, Any]] = {
        401: err("`key_missing`, `key_invalid`, `key_revoked` or `key_rotated` (an old key "
                 "past its grace period)."),
        403: err("`out_of_scope`: the key may not read or write this entity or field."),
        429: err("`rate_limited`: more calls this minute than the key allows."),
    }
    invalid = err("`invalid_field`, `invalid_filter`, `invalid_external_id`, "
                  "`invalid_idempotency_key` or `idempotency_key_reused` (ApiError; `field` "
                  "names what), or the request does not fit (HTTPValidationError).",
                  also="HTTPValidationError")
    not_found = err("`not_found`: no such record (or it was deleted, for writes).")
    conflict = err("`external_id_taken`: another record holds this external id; "
                   "`idempotency_conflict`: the same key is in use concurrently.")

    def call(request: Request, key: str | None, target: str,
             work: Callable[[Credential], tuple[int, dict[str, Any]]],
             audited_by_work: bool = False) -> Response:
        try:
            cred = ig.authenticate(engine, key, limiter)
        except ApiRefused as exc:
            return _refusal(exc)
        address = request.client.host if request.client else ""
        try:
            status, body = work(cred)
        except ApiRefused as exc:
            calls.note(cred, request.method, target, exc.status, address)
            return _refusal(exc)
        if not audited_by_work:
            calls.note(cred, request.method, target, status, address)
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    def writing(req: WriteRequest, idem: str | None) -> Callable[[Credential],
                                                                  tuple[int, dict[str, Any]]]:
        return lambda cred: ig.write(engine, cred, req, idem, publish, new_id)

    @app.get("/api/v1/{entity}", tags=[TAG], response_model=RecordPage,
             summary="List records", responses={**common, 422: invalid})
    def list_records(
        request: Request, entity: ApiEntity, key: Key = None,
        filter: Annotated[list[str] | None, Query(
            max_length=MAX_FILTERS, description="`field=value`, equal as text (repeatable)",
            examples=["region=华东"])] = None,
        after: Annotated[str | None, Query(max_length=64, description="the `next` of the "
                                           "page before")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
        include_deleted: bool = False,
    ) -> Response:
        """Records in id order, a page at a time."""
        items = [f[:300] for f in filter or []]
        return call(request, key, entity, lambda cred: (200, ig.list_records(
            engine, cred, entity, items, after, limit, include_deleted)))

    @app.get("/api/v1/{entity}/changes", tags=[TAG], response_model=ChangePage,
             summary="Change feed", responses={**common, 422: invalid})
    def feed(
        request: Request, entity: ApiEntity, key: Key = None,
        since: Annotated[int, Query(ge=0, le=2**62, description="0 for everything; then the "
                                    "`next_cursor` of the page before")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES)] = 1000,
    ) -> Response:
        """Records of the entity changed after `since` (the devices' change log): follow
        `next_cursor` and nothing is missed, each change is seen once."""
        return call(request, key, f"{entity}:changes", lambda cred: (200, ig.changes(
            engine, cred, entity, since, limit)))

    @app.get("/api/v1/{entity}/by-external/{system}/{external_id}", tags=[TAG],
             response_model=ApiRecord, summary="Get a record by its id in another system",
             responses={**common, 404: not_found, 422: invalid})
    def get_external(
        request: Request, entity: ApiEntity,
        system: Annotated[str, Path(pattern=SYSTEM)],
        external_id: Annotated[str, Path(min_length=1, max_length=200)], key: Key = None,
    ) -> Response:
        def work(cred: Credential) -> tuple[int, dict[str, Any]]:
            rid = ig.find_external(engine, entity, system, external_id)
            if rid is None:
                raise ApiRefused(404, "not_found", f"No {entity} with {system} id "
                                 f"'{external_id[:80]}'.")
            return 200, ig.get(engine, cred, entity, rid)
        return call(request, key, f"{entity}:{system}:{external_id[:80]}", work)

    @app.put("/api/v1/{entity}/by-external/{system}/{external_id}", tags=[TAG],
             response_model=ApiRecord, status_code=200,
             summary="Create or update a record by its id in another system",
             responses={201: {"description": "Created", "model": ApiRecord}, **common,
                        409: conflict, 422: invalid})
    def put_external(
        request: Request, entity: ApiEntity,
        system: Annotated[str, Path(pattern=SYSTEM)],
        external_id: Annotated[str, Path(min_length=1, max_length=200)],
        body: Annotated[FieldsWrite, Body()], key: Key = None, idem: IdemKey = None,
    ) -> Response:
        req = WriteRequest("PUT", entity, None, body.fields, {system: external_id},
                           by_external=(system, external_id))
        return call(request, key, f"{entity}:{system}:{external_id[:80]}",
                    writing(req, idem), audited_by_work=True)

    @app.get("/api/v1/{entity}/{record_id}", tags=[TAG], response_model=ApiRecord,
             summary="Get a record", responses={**common, 404: not_found, 422: invalid})
    def get_record(
        request: Request, entity: ApiEntity,
        record_id: Annotated[str, Path(pattern=RECORD_ID)], key: Key = None,
    ) -> Response:
        return call(request, key, f"{entity}:{record_id}",
                    lambda cred: (200, ig.get(engine, cred, entity, record_id)))

    @app.post("/api/v1/{entity}", tags=[TAG], response_model=ApiRecord, status_code=201,
              summary="Create a record", responses={**common, 409: conflict, 422: invalid})
    def create(
        request: Request, entity: ApiEntity, body: Annotated[RecordWrite, Body()],
        key: Key = None, idem: IdemKey = None,
    ) -> Response:
        req = WriteRequest("POST", entity, None, body.fields, body.external_ids)
        return call(request, key, entity, writing(req, idem), audited_by_work=True)

    @app.patch("/api/v1/{entity}/{record_id}", tags=[TAG], response_model=ApiRecord,
               summary="Update the named fields of a record",
               responses={**common, 404: not_found, 409: conflict, 422: invalid})
    def update(
        request: Request, entity: ApiEntity, record_id: Annotated[str, Path(pattern=RECORD_ID)],
        body: Annotated[RecordWrite, Body()], key: Key = None, idem: IdemKey = None,
    ) -> Response:
        req = WriteRequest("PATCH", entity, record_id, body.fields, body.external_ids)
        return call(request, key, f"{entity}:{record_id}", writing(req, idem),
                    audited_by_work=True)

    @app.delete("/api/v1/{entity}/{record_id}", tags=[TAG], response_model=ApiRecord,
                summary="Delete a record (a tombstone every device receives)",
                responses={**common, 404: not_found, 422: invalid})
    def delete(
        request: Request, entity: ApiEntity, record_id: Annotated[str, Path(pattern=RECORD_ID)],
        key: Key = None, idem: IdemKey = None,
    ) -> Response:
        req = WriteRequest("DELETE", entity, record_id, {}, {}, delete=True)
        return call(request, key, f"{entity}:{record_id}", writing(req, idem),
                    audited_by_work=True)

    return calls


def _refusal(exc: ApiRefused) -> JSONResponse:
    detail: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.field:
        detail["field"] = exc.field
    headers = {"Retry-After": "60"} if exc.status == 429 else None
    if exc.status == 401:
        headers = {"WWW-Authenticate": 'ApiKey header="X-Integration-Key"'}
    return JSONResponse({"detail": detail}, status_code=exc.status, headers=headers)
