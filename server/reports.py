"""A manager's reports over the whole team's book (issue 18): the laptop's report
definitions (desktop.reports) run on the records the caller may see, as the caller may
see them (owners by server.access, fields by the visibility rules), laid out in an
in-memory store (desktop.reports.book).

Costs a copy of the records the report reads per request; fine for a team's book of
some hundred thousand records, not for a whole company in one call (see the note of
issue 18).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.reports import ReportFilter, run_on
from desktop.reports.book import NEEDS, Record, memory_book
from desktop.schema import ENTITIES
from desktop.visibility import FieldFilter
from server import access, visibility
from server import tables as t
from server.auth import Principal
from server.fields import values_of


class UnknownTeam(Exception):
    pass


def team_members(conn: sa.Connection, team: str) -> list[str]:
    if conn.execute(sa.select(t.teams.c.name).where(t.teams.c.name == team)).first() is None:
        raise UnknownTeam(team)
    return list(conn.execute(
        sa.select(t.users.c.username)
        .join(t.team_members, t.team_members.c.user_id == t.users.c.id)
        .where(t.team_members.c.team == team)).scalars())


def _records(conn: sa.Connection, p: Principal, entity: str,
             visible: frozenset[str] | None, flt: FieldFilter | None) -> list[Record]:
    q = sa.select(t.records.c.record_id, t.records.c.fields).where(t.records.c.entity == entity)
    if visible is not None and ENTITIES[entity].owned:
        q = q.where(t.records.c.owner.in_(sorted(visible)))
    out: list[Record] = []
    for rid, doc in conn.execute(q):
        fields = orjson.loads(doc)
        if flt is not None:
            fields = flt.apply(fields)
        stamps = {k: str(w["hlc"]) for k, w in fields.items()
                  if isinstance(w, dict) and w.get("hlc")}
        out.append((rid, values_of(fields), stamps))
    return out


def team_report(engine: sa.Engine, p: Principal, name: str, date_from: dt.date,
                date_to: dt.date, *, currency: str = "CNY", owners: tuple[str, ...] = (),
                team: str | None = None, as_of: dt.date | None = None,
                now: dt.datetime | None = None) -> dict[str, Any]:
    """The report as JSON. Raises UnknownTeam, ValidationError (period, currency)."""
    with engine.connect() as conn:
        visible = access.visible_owners(conn, p)
        _rules, policy = visibility.policy_of(conn, p)
        # the records are already only those the caller may see; owners and team narrow
        wanted = set(owners)
        if team is not None:
            members = set(team_members(conn, team))
            wanted = (wanted & members) if wanted else members
        book = {e: _records(conn, p, e, visible,
                            FieldFilter(e, policy[e]) if policy.get(e) else None)
                for e in NEEDS[name]}
    mem = memory_book(book)
    try:
        f = ReportFilter(date_from, date_to, tuple(sorted(wanted)), currency.upper(), dt.UTC,
                         as_of)
        if not f.owners and (team is not None or owners):
            # nobody left to report on: an empty report, not everyone's
            f = ReportFilter(date_from, date_to, ("\x00nobody",), currency.upper(), dt.UTC,
                             as_of)
        return run_on(mem, name, f, now=now).to_json()
    finally:
        mem.close()
