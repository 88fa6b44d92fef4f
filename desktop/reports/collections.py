"""Signed vs collected by month, and receivables ageing.

- Signed: contracts by signing date (their amount); a won deal without a contract counts
  its signed amount (else its amount) on the day it was won.
- Collected: received payments by date; planned: planned payments by due date.
- Ageing, as of the report's as-of day: on each deal (or a contract without a deal) the
  received payments pay its planned instalments oldest first; what is still unpaid of
  an instalment due on or before that day is aged by its due date into 0-30, 31-60,
  61-90 and > 90 days. Ageing converts at the as-of day's rates.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import sqlite3
from collections import defaultdict
from decimal import Decimal
from typing import Any

from desktop.reports.model import Cell, Note, Report, ReportFilter, sum_totals
from desktop.reports.money import MoneySum, Rates, cents_sql
from desktop.reports.periods import utc_bounds
from desktop.reports.sql import id_list, ids_of, owner_clause, rows

BUCKETS = ("0-30", "31-60", "61-90", ">90")


def bucket_of(days: int) -> str:
    return BUCKETS[0] if days <= 30 else BUCKETS[1] if days <= 60 else (
        BUCKETS[2] if days <= 90 else BUCKETS[3])


def collections(conn: sqlite3.Connection, f: ReportFilter, rates: Rates) -> Report:
    report = Report("collections", f.currency, ("month",),
                    ("signed", "planned", "collected", "difference"))
    d0, d1 = f.date_from.isoformat(), f.date_to.isoformat()
    months: dict[str, dict[str, MoneySum]] = defaultdict(
        lambda: {n: MoneySum(rates, f.currency) for n in ("signed", "planned", "collected")})
    ids: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def add(month: str, what: str, currency: str | None, day: str, cents: int,
            found: str | None) -> None:
        if not months[month][what].add(cents, currency, day):
            report.unconverted.extend(ids_of(found))
        if f.ids:
            ids[month][what].extend(ids_of(found))

    def id_sql(day: str, alias: str = "") -> str:
        a = f"{alias}." if alias else ""
        return id_list(f, rates.missing_sql(f"{a}currency", day, f.currency), f"{a}id")

    own, own_p = owner_clause(f)
    for day, currency, cents, found in rows(
            conn, f"SELECT sign_date, currency, sum({cents_sql('amount')}), "
            f"{id_sql('sign_date')} "
            "FROM contract WHERE deleted = 0 AND amount IS NOT NULL AND sign_date BETWEEN ? "
            f"AND ?{own} GROUP BY 1, 2", [d0, d1, *own_p]):
        add(day[:7], "signed", currency, day, int(cents), found)
    lo, hi = utc_bounds(f.date_from, f.date_to, dt.UTC)
    own_d, own_dp = owner_clause(f, "d.owner")
    for day, currency, cents, found in rows(
            conn, "SELECT substr(d.stage_changed_at, 1, 10), d.currency, "
            f"sum({cents_sql('coalesce(d.signed_amount, d.amount)')}), "
            f"{id_sql('d.stage_changed_at', 'd')} "
            "FROM deal d WHERE d.deleted = 0 AND d.stage = 'won' AND coalesce(d.signed_amount, "
            "d.amount) IS NOT NULL AND d.stage_changed_at >= ? AND d.stage_changed_at < ? AND "
            "NOT EXISTS (SELECT 1 FROM contract c WHERE c.deal_id = d.id AND c.deleted = 0 "
            f"AND c.amount IS NOT NULL){own_d} GROUP BY 1, 2", [lo, hi, *own_dp]):
        add(day[:7], "signed", currency, day, int(cents), found)
    for kind, what in (("planned", "planned"), ("received", "collected")):
        for day, currency, cents, found in rows(
                conn, f"SELECT date, currency, sum({cents_sql('amount')}), {id_sql('date')} "
                "FROM payment WHERE deleted = 0 AND kind = ? AND amount IS NOT NULL AND "
                f"date BETWEEN ? AND ?{own} GROUP BY 1, 2", [kind, d0, d1, *own_p]):
            add(day[:7], what, currency, day, int(cents), found)
    for month in sorted(months):
        sums = months[month]
        values: dict[str, Decimal | int | float | None] = {
            n: m.total for n, m in sums.items()}
        values["difference"] = Decimal(values["signed"] or 0) - Decimal(values["collected"] or 0)
        cell = Cell((month,), values, [i for n in ("signed", "planned", "collected")
                                       for i in ids[month][n]],
                    {n: ids[month][n] for n in ("signed", "planned", "collected")}
                    if f.ids else {})
        report.cells.append(cell)
    report.totals = sum_totals(report.cells, report.value_names)
    ageing_cells, ageing_unconverted = ageing(conn, f, rates)
    report.notes.append(Note.of("ageing", as_of=f.as_of_date.isoformat(), buckets=tuple(
        (c.key[0], c.values["unpaid"]) for c in ageing_cells)))
    report.unconverted = sorted(set(report.unconverted) | set(ageing_unconverted))
    report.sections["ageing"] = ageing_cells
    if report.unconverted:
        report.notes.append(Note.of("unconverted", count=len(report.unconverted),
                                    currency=f.currency))
    return report


AGEING_INDEX = "payment_ix0"  # (deal_id, currency, date, id, kind, amount, owner): the order


def ageing(conn: sqlite3.Connection, f: ReportFilter, rates: Rates,
           ) -> tuple[list[Cell], list[str]]:
    """Cells keyed (bucket,) with the unpaid amount and the instalments' ids.

    Within one deal (else contract, else the payment alone) and one currency, received
    payments up to the as-of day pay the planned instalments due by then, oldest first:
    an instalment's unpaid part is its amount less what the received total leaves after
    the instalments before it (in cents). One pass over the payments in (deal, currency,
    date) order, read from the deal index without a sort; payments without a deal (a
    contract's, or alone) come sorted from SQL. Window functions over the same rows took
    1.1-1.6 s at 300k payments."""
    as_of = f.as_of_date.isoformat()
    own, own_p = owner_clause(f, "p.owner")
    cents = cents_sql("p.amount")
    by_deal = conn.execute(
        f"SELECT p.deal_id, p.currency, p.kind, p.date, {cents}, p.id "
        f"FROM payment p INDEXED BY {AGEING_INDEX} WHERE p.deleted = 0 AND p.deal_id IS NOT "
        f"NULL AND p.amount IS NOT NULL AND p.date <= ?{own} "
        "ORDER BY p.deal_id, p.currency, p.date, p.id", [as_of, *own_p])
    others = conn.execute(
        "SELECT coalesce(c.deal_id, p.contract_id, p.id) AS k, coalesce(p.currency, 'CNY') "
        f"AS cur, p.kind, p.date, {cents}, p.id FROM payment p LEFT JOIN contract c ON "
        "c.id = p.contract_id WHERE p.deleted = 0 AND p.deal_id IS NULL AND p.amount IS NOT "
        f"NULL AND p.date <= ?{own} ORDER BY k, cur, p.date, p.id", [as_of, *own_p])
    day = f.as_of_date
    sums = [MoneySum(rates, f.currency) for _ in BUCKETS]
    cells = [Cell((b,), {"unpaid": Decimal("0.00"), "instalments": 0}) for b in BUCKETS]
    # (bucket, currency) -> [cents, count, ids]
    found: dict[tuple[int, str], list[Any]] = {}
    # A contract's payments and its deal's meet under the deal's key from the two streams.
    rows = heapq.merge(by_deal, others, key=lambda r: r[0])
    for _key, group in itertools.groupby(rows, key=lambda r: r[0]):
        by_currency: dict[str, list[tuple[str, str, int, str]]] = defaultdict(list)
        for _k, currency, kind, date, amount, rid in group:
            by_currency[currency or "CNY"].append((str(date), rid, amount, kind))
        for currency, items in by_currency.items():
            items.sort()  # (date, id): a handful per deal; two streams or NULL = CNY
            paid = sum(a for _d, _i, a, kind in items if kind == "received")
            upto = 0
            for date, rid, amount, kind in items:
                if kind != "planned":
                    continue
                upto += amount
                if upto - paid <= 0:
                    continue
                age = (day - dt.date.fromisoformat(date[:10])).days
                slot = found.setdefault((BUCKETS.index(bucket_of(age)), currency), [0, 0, []])
                slot[0] += min(amount, upto - paid)
                slot[1] += 1
                slot[2].append(rid)
    unconverted: list[str] = []
    for (bucket, currency), (total, n, ids) in sorted(found.items()):
        cell = cells[bucket]
        cell.values["instalments"] = int(cell.values["instalments"] or 0) + n
        if f.ids:
            cell.ids += ids
        if not sums[bucket].add(int(total), currency, as_of):
            unconverted += ids
    for cell, money in zip(cells, sums, strict=True):
        cell.values["unpaid"] = money.total
    return cells, unconverted
