"""`GET /v1/reports/{name}`: a report over the team's book (server.reports), the same
definitions as the laptop's `fieldcrm report` (desktop.reports).

No `from __future__ import annotations`: the route's parameter types must be evaluated
where the route is made, where `current` (the app's authentication) is a local name."""

import datetime as dt
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import FastAPI, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from desktop.errors import ValidationError
from server import reports
from server.errors import api_error

ReportName = Literal["pipeline", "forecast", "win-rate", "activities", "golden-72",
                     "lead-sla", "collections"]
Currency = Literal["CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD"]
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(9998, 12, 31)


class ReportRow(BaseModel):
    key: list[str]
    values: dict[str, Any] = Field(description="money as decimal strings to the cent")
    ids: list[str] = Field(description="the records behind this row")


class ReportAnswer(BaseModel):
    report: str
    currency: str
    keys: list[str]
    values: list[str]
    rows: list[dict[str, Any]] = Field(description="ReportRow, with `<detail>_ids` lists "
                                       "(e.g. missed_ids) where the report has them")
    totals: dict[str, Any]
    unconverted: list[str] = Field(description="records left out of amounts: no exchange "
                                   "rate to the report's currency was in force")
    notes: list[str] = Field(description="lines under the report, in English")
    notes_zh: list[str] = Field(description="the same lines in Chinese")
    sections: dict[str, list[dict[str, Any]]]


def add_routes(app: FastAPI, engine: sa.Engine, current: Any, err: Any) -> None:
    @app.get("/v1/reports/{name}", response_model=ReportAnswer, responses={
        404: err("`unknown_team`: no such team."),
        422: err("`invalid_period` (the period ends before it starts, or lies outside "
                 "1970-9998), or a parameter that does not fit (HTTPValidationError).",
                 also="HTTPValidationError")})
    async def report(
        name: ReportName,
        p: current,
        date_from: Annotated[dt.date, Query(alias="from", description="first day")],
        date_to: Annotated[dt.date, Query(alias="to", description="last day")],
        currency: Currency = "CNY",
        owner: Annotated[list[str] | None, Query(max_length=200)] = None,
        team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
        as_of: Annotated[dt.date | None, Query(description="ageing and open-pipeline rates "
                                               "on this day (default: to)")] = None,
    ) -> ReportAnswer:
        """A report over every record the caller may see (a manager: the team's and the
        region's), fields as the visibility rules allow; `owner` and `team` narrow it.
        Rows, totals and the record ids behind each row, like `fieldcrm report --json`."""
        days = [d for d in (date_from, date_to, as_of) if d is not None]
        if date_to < date_from or min(days) < EARLIEST or max(days) > LATEST:
            raise api_error(422, "invalid_period",
                            "The period must end on or after its start, within 1970-9998.")
        owners = tuple(o[:100] for o in owner or ())
        try:
            out = await run_in_threadpool(
                reports.team_report, engine, p, name, date_from, date_to, currency=currency,
                owners=owners, team=team, as_of=as_of)
        except reports.UnknownTeam:
            raise api_error(404, "unknown_team", "There is no such team.") from None
        except ValidationError as exc:
            raise api_error(422, "invalid_period", exc.message) from None
        return ReportAnswer.model_validate(out)
