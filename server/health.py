"""Liveness and readiness: `GET /v1/health` answers while the process runs (no database);
`GET /v1/ready` answers 200 only when the database answers and its schema is at the newest
Alembic revision this server carries (a load balancer or systemd check sends traffic only
then), 503 `not_ready` with the reason otherwise."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from desktop.sync.protocol import PROTOCOL_VERSION
from server.db import MIGRATIONS_DIR


class Health(BaseModel):
    ok: bool
    protocol: int


class Ready(BaseModel):
    ok: bool
    revision: str


def head_revision() -> str:
    """The newest migration this server's code carries."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def database_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None: never migrated). Raises SQLAlchemy errors."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def _not_ready(message: str) -> JSONResponse:
    return JSONResponse({"detail": {"code": "not_ready", "message": message}},
                        status_code=503, headers={"Retry-After": "5"})


def add_routes(app: FastAPI, engine: sa.Engine, err: Any) -> None:
    head = head_revision()

    @app.get("/v1/health", response_model=Health,
             description="Liveness: the process answers (the database is not asked).")
    def health() -> Health:
        return Health(ok=True, protocol=PROTOCOL_VERSION)

    @app.get("/v1/ready", response_model=Ready, responses={
        503: err("The database does not answer, or its schema is not at this server's "
                 "newest migration: `not_ready` (Retry-After).")},
        description="Readiness: the database answers and its migrations are at head.")
    async def ready() -> Any:
        try:
            have = await run_in_threadpool(database_revision, engine)
        except sa.exc.SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            return _not_ready(f"The database does not answer: {type(cause).__name__}.")
        if have != head:
            return _not_ready(f"The database schema is at {have or 'nothing'}, "
                              f"this server needs {head}.")
        return Ready(ok=True, revision=head)
