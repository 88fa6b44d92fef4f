"""`POST /api/leads`: web forms and ad platforms hand leads to the server (server.leads).

One API key per source (`fieldcrm-server apikey add SOURCE`), sent as `X-Api-Key`.
Answers: 201 with the new lead's id, status and owner; 200 with the first answer when
the source's external id was seen before (a replay changes nothing); 401 for a missing
or unknown key; 422 for a body that does not fit (`invalid_field` names the field);
429 when the source sent more than its leads per minute.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import FastAPI, Header, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server import leads


class LeadIntake(BaseModel):
    """A lead from a web form or an ad platform."""

    external_id: str = Field(description="the source's own id of this lead: a replay with "
                             "the same id is answered with the first answer")
    name: str
    company: str | None = None
    phone: str | None = None
    email: str | None = None
    region: str | None = None
    budget: float | None = None
    product: str | None = None
    note: str | None = None


class LeadIntakeResult(BaseModel):
    id: str
    status: str | None
    owner: str | None
    assigned_rule: str | None
    assigned_at: str | None
    duplicate_of: list[str] = Field(description='"account:ID" or "contact:ID" of existing '
                                    "records this lead probably is")
    replay: bool


def add_routes(app: FastAPI, engine: sa.Engine, publish: Any,
               err: Any) -> None:
    """Register the intake endpoint; `err` builds an error answer for the OpenAPI document."""

    @app.post("/api/leads", status_code=201, response_model=LeadIntakeResult, responses={
        200: {"description": "A replay: this external id was taken before; the first "
                             "answer, nothing changed", "model": LeadIntakeResult},
        401: err("`api_key_missing` or `api_key_invalid`: send the source's key in X-Api-Key."),
        422: err("`invalid_field` (ApiError, the message names the field), or the body does "
                 "not fit LeadIntake (HTTPValidationError).", also="HTTPValidationError"),
        429: err("`rate_limited`: the source sent more leads this minute than its key "
                 "allows (Retry-After).")})
    async def intake(body: LeadIntake,
                     x_api_key: Annotated[str | None, Header()] = None) -> Response:
        try:
            source, per_minute = await run_in_threadpool(leads.source_of, engine, x_api_key)
            out = await run_in_threadpool(
                lambda: leads.intake(engine, source, per_minute, body.model_dump(),
                                     publish=publish))
        except leads.IntakeRefused as exc:
            headers = {"Retry-After": "60"} if exc.status == 429 else None
            return JSONResponse({"detail": {"code": exc.code, "message": exc.message,
                                            **({"field": exc.field} if exc.field else {})}},
                                status_code=exc.status, headers=headers)
        return JSONResponse(LeadIntakeResult(**out).model_dump(),
                            status_code=200 if out["replay"] else 201)
