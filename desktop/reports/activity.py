"""Activities per rep per week, the golden-72 compliance heat map and lead response.

"Valid follow-up" is the follow-up rules' own definition: the admin's synced rule
(desktop.followup.rule), else the built-in one (desktop.followup.settings), handed in as
FollowupSettings (desktop.reports.run_on reads it once per report). The criteria become
SQL predicates here, and a test holds them equal to `Criterion.matches` for every
activity, for the built-in criteria and for criteria read from a rule record.
"""

from __future__ import annotations

import calendar
import datetime as dt
import sqlite3
import time
from collections import defaultdict
from statistics import median
from typing import Any

from desktop.followup.settings import Criterion, FollowupSettings
from desktop.leads.rules import Policy
from desktop.reports.model import Cell, Note, Report, ReportFilter, sum_totals
from desktop.reports.periods import utc_bounds, week_no_ms_sql, week_no_sql, week_of_no
from desktop.reports.sql import id_list, ids_of, owner_clause, pct, rows
from desktop.store.bulkindex import indexed_by
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.followup_tables import EVIDENCE_SQL

ACTIVITY_TIME = "coalesce(done_at, due_at, created_at)"  # the activity_when index order
_FMT = "%Y-%m-%dT%H:%M:%SZ"


def outcome_sql(alias: str = "") -> str:
    """The outcome as the criteria compare it (SQLite's lower() folds ASCII only)."""
    a = f"{alias}." if alias else ""
    return f"lower(trim(coalesce({a}outcome, '')))"


def criterion_sql(c: Criterion, alias: str = "", outcome: str | None = None,
                  ) -> tuple[str, list[Any]]:
    """`c.matches(activity)` as an SQL predicate over the activity table; `outcome` names
    an already computed outcome_sql (worth it: it was most of the activities report)."""
    a = f"{alias}." if alias else ""
    norm = outcome or outcome_sql(alias)
    parts: list[str] = ["1"]
    params: list[Any] = []
    if c.kind:
        parts.append(f"{a}kind = ?")
        params.append(c.kind)
    if c.min_duration_s:
        parts.append(f"coalesce({a}duration_s, 0) >= ?")
        params.append(int(c.min_duration_s))
    if c.needs_attachment:
        parts.append(f"coalesce({a}attachments, '[]') NOT IN ('[]', '', 'null')")
    if c.outcomes:
        parts.append("(" + " OR ".join(f"substr({norm}, 1, {len(o)}) = ?"
                                       for o in c.outcomes) + ")")
        params += [o.lower() for o in c.outcomes]
    return " AND ".join(parts), params


def criterion_case_sql(c: Criterion, outcome: str) -> tuple[str, list[Any]]:
    """`c.matches(activity)` as 1 or 0 (never NULL), each test a CASE that stops at the
    first that fails: SQLite evaluates both sides of AND and OR in a value, and golden-72
    tests ~150k activities against every criterion. `outcome` names an outcome_sql."""
    tests: list[str] = []
    params: list[Any] = []
    if c.kind:
        tests.append("kind = ?")
        params.append(c.kind)
    if c.min_duration_s:
        tests.append("coalesce(duration_s, 0) >= ?")
        params.append(int(c.min_duration_s))
    if c.needs_attachment:
        tests.append("coalesce(attachments, '[]') NOT IN ('[]', '', 'null')")
    if c.outcomes:
        tests.append("CASE " + " ".join(f"WHEN substr({outcome}, 1, {len(o)}) = ? THEN 1"
                                        for o in c.outcomes) + " ELSE 0 END")
        params += [o.lower() for o in c.outcomes]
    sql = "1"
    for test in reversed(tests):
        sql = f"CASE WHEN {test} THEN {sql} ELSE 0 END"
    return sql, params


def _evidence(alias: str) -> str:
    return EVIDENCE_SQL.replace("done_at", f"{alias}.done_at").replace("kind", f"{alias}.kind")


def activities(conn: sqlite3.Connection, f: ReportFilter, s: FollowupSettings) -> Report:
    """Activities by owner and local week of their time (done, else due, else logged):
    calls, visits and valid follow-ups (an activity that counts and meets a criterion)."""
    lo, hi = utc_bounds(f.date_from, f.date_to, f.zone)
    week = week_no_sql(ACTIVITY_TIME, f.zone, lo, hi)
    crit = [criterion_sql(c, outcome="o") for c in s.criteria]
    any_crit = " OR ".join(f"({sql})" for sql, _ in crit) or "0"
    crit_params = [p for _, ps in crit for p in ps]
    own, own_p = owner_clause(f)
    # Each activity's outcome is normalised once and its follow-up test made once
    # (materialised: a flattened subquery would repeat the expressions per use).
    found = rows(conn, f"""
        WITH a AS MATERIALIZED (
          SELECT coalesce(owner, '') AS owner, {week} AS wk, kind, id, done_at, duration_s,
                 attachments, {outcome_sql()} AS o
          FROM activity {indexed_by(conn, 'activity_when')}
          WHERE deleted = 0 AND {ACTIVITY_TIME} >= ? AND {ACTIVITY_TIME} < ?{own}),
        b AS MATERIALIZED (
          SELECT owner, wk, kind, id, ({EVIDENCE_SQL} AND ({any_crit})) AS fu FROM a)
        SELECT owner, wk, count(*), sum(kind = 'call'), sum(kind = 'visit'), sum(fu),
               {id_list(f)}, {id_list(f, expr="CASE WHEN fu THEN id END")}
        FROM b GROUP BY 1, 2 ORDER BY 1, 2""", [lo, hi, *own_p, *crit_params])
    report = Report("activities", f.currency, ("owner", "week"),
                    ("activities", "calls", "visits", "follow_ups"))
    for owner, wk, n, calls, visits, valid, ids, valid_ids in found:
        report.cells.append(Cell((owner, week_of_no(wk)), {
            "activities": n, "calls": int(calls or 0), "visits": int(visits or 0),
            "follow_ups": int(valid or 0)},
            ids_of(ids), {"follow_up": ids_of(valid_ids)} if f.ids else {}))
    report.totals = sum_totals(report.cells, report.value_names)
    return report


def golden_72(conn: sqlite3.Connection, f: ReportFilter, s: FollowupSettings) -> Report:
    """New accounts and deals by owner and local week of their first write: how many had
    a valid follow-up (the rules' criteria, `required_criteria` of them) logged within
    the overdue hours (72 by default) of that first write."""
    lo, hi = utc_bounds(f.date_from, f.date_to, f.zone)
    report = Report("golden-72", f.currency, ("owner", "week"),
                    ("records", "met", "missed", "compliance"))
    window = f"+{float(s.golden_overdue_hours)} hours"
    report.notes.append(Note.of("golden", hours=float(s.golden_overdue_hours),
                                required=s.required_criteria))
    grouped: dict[tuple[str, str], Cell] = {}
    # first_write_at: the oldest field stamp's milliseconds (desktop.store.firstwrite,
    # = desktop.followup.reminders.golden_start), its index in first-write order; the
    # start is that second (fw >= lo's ms exactly when its text is >= lo), and a follow-up
    # counts up to the start's text moved by the window, made once per record (`dl`)
    lo_ms, hi_ms = _ms(lo), _ms(hi)
    terms, params = [], []
    for c in s.criteria:
        sql, ps = criterion_case_sql(c, "o")
        terms.append(f"max({sql})")
        params += ps
    met = " + ".join(terms) or "0"
    week = week_no_ms_sql("h.fw", f.zone, lo, hi)
    own, own_p = owner_clause(f, "r.owner")
    # With ids, each cell lists its records in first-write order (then rid), as before.
    tail = (", o AS MATERIALIZED (SELECT * FROM m ORDER BY fw, rid) SELECT owner, wk, "
            f"count(*), sum(ok), {id_list(f)}, "
            f"{id_list(f, expr='CASE WHEN NOT ok THEN id END')} FROM o GROUP BY 1, 2"
            if f.ids else " SELECT owner, wk, count(*), sum(ok), NULL, NULL FROM m GROUP BY 1, 2")
    for entity, link in (("account", "account_id"), ("deal", "deal_id")):
        # (a synced record's created_at is when it arrived here: not the first write)
        # A big book's pages are mostly not in the cache: the period's rows are read in
        # table order (k: their rids from the first-write index, sorted) and their
        # follow-ups looked up in id order, the evidence index's (h), so that a page is
        # read once for all its rows instead of once for each.
        # Each record's follow-ups in a subquery of their own, each outcome normalised
        # once (LIMIT keeps SQLite from flattening it, which would repeat the expression
        # per criterion), and no grouping of the joined rows: a third less than a join.
        # m is materialised: with ids, `ok` is read twice, and the subquery would run twice.
        found = rows(conn, f"""
            WITH k AS MATERIALIZED (
              SELECT rid FROM "{entity}" INDEXED BY "{entity}_first_write"
              WHERE deleted = 0 AND {FIRST_WRITE} >= ? AND {FIRST_WRITE} < ? ORDER BY rid),
            h AS MATERIALIZED (
              SELECT r.rid, r.id, coalesce(r.owner, '') AS owner, r.{FIRST_WRITE} AS fw,
                     strftime('{_FMT}', r.{FIRST_WRITE} / 1000, 'unixepoch', ?) AS dl
              FROM k JOIN "{entity}" r ON r.rid = k.rid WHERE 1{own} ORDER BY r.id),
            m AS MATERIALIZED (
              SELECT h.owner, {week} AS wk, h.id, h.fw, h.rid, coalesce((SELECT {met} FROM (
                SELECT a.kind, a.duration_s, a.attachments, {outcome_sql('a')} AS o
                FROM activity a {indexed_by(conn, f'followup_evidence_{entity}')}
                WHERE a.{link} = h.id AND a.deleted = 0 AND
                  a.{link} IS NOT NULL AND {_evidence('a')} AND
                  coalesce(a.done_at, a.created_at) <= h.dl
                LIMIT -1)), 0) >= ? AS ok FROM h){tail}""",
            [lo_ms, hi_ms, window, *own_p, *params, int(s.required_criteria)])
        for owner, wk_no, n, met_n, ids, missed in found:
            wk = week_of_no(wk_no)
            cell = grouped.setdefault((owner, wk), Cell((owner, wk), {"records": 0, "met": 0}))
            cell.values["records"] = int(cell.values["records"] or 0) + int(n)
            cell.values["met"] = int(cell.values["met"] or 0) + int(met_n or 0)
            cell.ids += ids_of(ids)
            if f.ids:
                cell.detail_ids.setdefault("missed", []).extend(ids_of(missed))
    for key in sorted(grouped):
        cell = grouped[key]
        n, met_n = int(cell.values["records"] or 0), int(cell.values["met"] or 0)
        cell.values.update({"missed": n - met_n, "compliance": pct(met_n, n)})
        if f.ids:
            cell.detail_ids.setdefault("missed", [])
        report.cells.append(cell)
    report.totals = sum_totals(report.cells, ("records", "met", "missed"))
    report.totals["compliance"] = pct(int(report.totals["met"] or 0),
                                      int(report.totals["records"] or 0))
    return report


def lead_sla(conn: sqlite3.Connection, f: ReportFilter, now: dt.datetime) -> Report:
    """Leads assigned in the period, by owner: response time (assignment to first
    contact, minutes) and SLA breaches (no first contact within the escalation policy's
    `first_contact_min`, contacted late or still waiting past it)."""
    policies = rows(conn, "SELECT first_contact_min, reassign_min, max_reassign, retry_min, "
                    "reclaim_days, daily_claim_limit, mask_in_pool, name FROM lead_policy "
                    "WHERE deleted = 0 ORDER BY name")
    values = None
    if policies:
        keys = ("first_contact_min", "reassign_min", "max_reassign", "retry_min",
                "reclaim_days", "daily_claim_limit", "mask_in_pool")
        import json

        values = dict(zip(keys, policies[0][:7], strict=True))
        if isinstance(values["retry_min"], str):
            values["retry_min"] = json.loads(values["retry_min"])
    sla_min = Policy.from_values(values).first_contact_min
    lo, hi = utc_bounds(f.date_from, f.date_to, f.zone)
    own, own_p = owner_clause(f)
    found = rows(conn, "SELECT coalesce(owner, ''), id, assigned_at, first_contact_at "
                 "FROM lead WHERE deleted = 0 AND assigned_at >= ? AND assigned_at < ?"
                 f"{own} ORDER BY 1, assigned_at", [lo, hi, *own_p])
    report = Report("lead-sla", f.currency, ("owner",),
                    ("leads", "contacted", "median_response_min", "breaches", "breach_rate"))
    report.notes.append(Note.of("sla", minutes=sla_min))
    groups: dict[str, list[tuple[str, float | None, bool]]] = defaultdict(list)
    for owner, rid, assigned, first in found:
        a = _parse(assigned)
        if a is None:
            continue
        first_t = _parse(first) if first else None
        minutes = None if first_t is None else max(0.0, (first_t - a).total_seconds() / 60)
        waited = minutes if minutes is not None else (now - a).total_seconds() / 60
        groups[owner].append((rid, minutes, waited > sla_min))
    for owner in sorted(groups):
        items = groups[owner]
        answered = [m for _, m, _ in items if m is not None]
        breaches = [rid for rid, _, late in items if late]
        report.cells.append(Cell(
            (owner,), {"leads": len(items), "contacted": len(answered),
                       "median_response_min": round(median(answered), 1) if answered else None,
                       "breaches": len(breaches), "breach_rate": pct(len(breaches), len(items))},
            [rid for rid, _, _ in items] if f.ids else [],
            {"breach": breaches} if f.ids else {}))
    report.totals = sum_totals(report.cells, ("leads", "contacted", "breaches"))
    report.totals["breach_rate"] = pct(int(report.totals["breaches"] or 0),
                                       int(report.totals["leads"] or 0))
    return report


def _ms(utc_text: str) -> int:
    """Unix milliseconds of a whole-second UTC text (utc_bounds)."""
    return calendar.timegm(time.strptime(utc_text, _FMT)) * 1000


def _parse(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(str(text)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
