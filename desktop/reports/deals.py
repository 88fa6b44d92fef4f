"""Pipeline by stage, forecast by month of expected close, win rate and cycle time."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from decimal import Decimal
from statistics import median
from typing import Any

from desktop.reports.model import Cell, Note, Report, ReportFilter, sum_totals
from desktop.reports.money import MoneySum, Rates, cents_sql
from desktop.reports.periods import utc_bounds
from desktop.reports.sql import id_list, ids_of, owner_clause, pct, rows
from desktop.schema import STAGE_PROBABILITY, STAGES

OPEN_STAGES = tuple(s for s in STAGES if s not in ("won", "lost"))
NO_SOURCE = "(none)"


def stage_probabilities(conn: sqlite3.Connection) -> dict[str, int]:
    """The admin's pipeline rules (`probability`), else STAGE_PROBABILITY."""
    out = dict(STAGE_PROBABILITY)
    for stage, p in conn.execute(
            "SELECT stage, probability FROM pipeline_rule WHERE deleted = 0 AND "
            "coalesce(active, 1) AND probability IS NOT NULL ORDER BY rid"):
        if stage in out and 0 <= float(p) <= 100:
            out[stage] = round(float(p))
    return out


def _weighted(amount: Decimal, probability: int) -> Decimal:
    return (amount * probability / 100).quantize(Decimal("0.01"))


def _as_of_sql(f: ReportFilter) -> str:
    return f"'{f.as_of_date.isoformat()}'"


def _open_deals(conn: sqlite3.Connection, f: ReportFilter, rates: Rates, key_sql: str,
                where: str, params: list[object],
                ) -> list[tuple[str, str | None, int, int, str]]:
    own, own_p = owner_clause(f)
    ids = id_list(f, rates.missing_sql("currency", _as_of_sql(f), f.currency))
    return rows(conn, f"SELECT {key_sql}, currency, count(*), "
                f"coalesce(sum({cents_sql('amount')}), 0), {ids} FROM deal "
                f"WHERE deleted = 0 AND {where}{own} GROUP BY 1, 2", [*params, *own_p])


def pipeline(conn: sqlite3.Connection, f: ReportFilter, rates: Rates) -> Report:
    """Open deals by stage: a snapshot of today's pipeline (the period does not apply).
    Amounts at the rates in force on the as-of day."""
    probs = stage_probabilities(conn)
    marks = ", ".join("?" for _ in OPEN_STAGES)
    found = _open_deals(conn, f, rates, "stage", f"stage IN ({marks})", list(OPEN_STAGES))
    return _by_key(conn, f, rates, "pipeline", ("stage",), found, probs,
                   order=list(OPEN_STAGES), key_is_stage=True)


def forecast(conn: sqlite3.Connection, f: ReportFilter, rates: Rates) -> Report:
    """Open deals by month of expected close, weighted by their stage's probability."""
    probs = stage_probabilities(conn)
    marks = ", ".join("?" for _ in OPEN_STAGES)
    own, own_p = owner_clause(f)
    ids_sql = id_list(f, rates.missing_sql("currency", _as_of_sql(f), f.currency))
    found = rows(conn, "SELECT substr(close_date, 1, 7), stage, currency, count(*), "
                 f"coalesce(sum({cents_sql('amount')}), 0), {ids_sql} FROM deal "
                 f"WHERE deleted = 0 AND stage IN ({marks}) AND close_date BETWEEN ? AND ?"
                 f"{own} GROUP BY 1, 2, 3",
                 [*OPEN_STAGES, f.date_from.isoformat(), f.date_to.isoformat(), *own_p])
    day = f.as_of_date
    cells: dict[str, tuple[Cell, MoneySum, dict[str, MoneySum]]] = {}
    report = Report("forecast", f.currency, ("month",), ("deals", "amount", "weighted"))
    for month, stage, currency, n, cents, ids in found:
        cell, total, by_stage = cells.setdefault(
            month, (Cell((month,), {"deals": 0}), MoneySum(rates, f.currency), {}))
        cell.values["deals"] = int(cell.values["deals"] or 0) + n
        if f.ids:
            cell.ids += ids_of(ids)
        if not total.add(cents, currency, day):
            report.unconverted += ids_of(ids)
        by_stage.setdefault(stage, MoneySum(rates, f.currency)).add(cents, currency, day)
    for month in sorted(cells):
        cell, total, by_stage = cells[month]
        cell.values["amount"] = total.total
        cell.values["weighted"] = sum((_weighted(m.total, probs.get(s, 0))
                                       for s, m in sorted(by_stage.items())), Decimal("0.00"))
        report.cells.append(cell)
    report.totals = sum_totals(report.cells, report.value_names)
    _note_unconverted(report)
    return report


def _by_key(conn: sqlite3.Connection, f: ReportFilter, rates: Rates, name: str,
            key_names: tuple[str, ...], found: list[tuple[str, str | None, int, int, str]],
            probs: dict[str, int], order: list[str], key_is_stage: bool) -> Report:
    report = Report(name, f.currency, key_names, ("deals", "amount", "probability", "weighted"))
    sums: dict[str, MoneySum] = defaultdict(lambda: MoneySum(rates, f.currency))
    cells: dict[str, Cell] = {}
    for key, currency, n, cents, ids in found:
        cell = cells.setdefault(key, Cell((key,), {"deals": 0}))
        cell.values["deals"] = int(cell.values["deals"] or 0) + n
        if f.ids:
            cell.ids += ids_of(ids)
        if not sums[key].add(cents, currency, f.as_of_date):
            report.unconverted += ids_of(ids)
    for key in order + sorted(k for k in cells if k not in order):
        cell = cells.get(key, Cell((key,), {"deals": 0}))
        amount = sums[key].total if key in sums else Decimal("0.00")
        p = probs.get(key, 0) if key_is_stage else 0
        cell.values.update({"amount": amount, "probability": p, "weighted": _weighted(amount, p)})
        report.cells.append(cell)
    report.totals = sum_totals(report.cells, ("deals", "amount", "weighted"))
    _note_unconverted(report)
    return report


def win_rate(conn: sqlite3.Connection, f: ReportFilter, rates: Rates) -> Report:
    """Deals won or lost in the period (their stage's time), by owner and lead source:
    won, lost, win rate, amount won (at the rate of the day it was won), median cycle
    time in days from the deal's first write to its close."""
    lo, hi = utc_bounds(f.date_from, f.date_to, f.zone)
    own, own_p = owner_clause(f, "d.owner")
    found = rows(conn, "SELECT coalesce(d.owner, ''), coalesce(l.source, ?), d.id, d.stage, "
                 f"{cents_sql('d.amount')}, coalesce(d.signed_amount, d.amount) IS NOT NULL, "
                 f"{cents_sql('coalesce(d.signed_amount, d.amount)')}, d.currency, "
                 "d.stage_changed_at, d._clocks, d.created_at FROM deal d "
                 "LEFT JOIN lead l ON l.deal_id = d.id AND l.deleted = 0 "
                 "WHERE d.deleted = 0 AND d.stage IN ('won', 'lost') AND "
                 f"d.stage_changed_at >= ? AND d.stage_changed_at < ?{own}",
                 [NO_SOURCE, lo, hi, *own_p])
    report = Report("win-rate", f.currency, ("owner", "source"),
                    ("won", "lost", "win_rate", "won_amount", "median_cycle_days"))
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    seen: set[str] = set()
    for r in found:
        if r[2] not in seen:  # a deal two leads converted into counts once
            seen.add(r[2])
            groups[(r[0], r[1])].append(r)
    for key in sorted(groups):
        won = lost = 0
        money = MoneySum(rates, f.currency)
        cycles: list[float] = []
        cell = Cell(key)
        for (_o, _s, rid, stage, _c, has_amount, won_cents, currency, closed, clocks,
             created) in groups[key]:
            if f.ids:
                cell.ids.append(rid)
                cell.detail_ids.setdefault(stage, []).append(rid)
            if stage == "won":
                won += 1
                if has_amount and not money.add(won_cents, currency, closed[:10]):
                    report.unconverted.append(rid)
            else:
                lost += 1
            start = _first_write(clocks, created)
            if start is not None:
                end = dt.datetime.strptime(closed[:19], "%Y-%m-%dT%H:%M:%S").replace(
                    tzinfo=dt.UTC)
                cycles.append(max(0.0, (end - start).total_seconds() / 86400))
        cell.values = {"won": won, "lost": lost, "win_rate": pct(won, won + lost),
                       "won_amount": money.total,
                       "median_cycle_days": round(median(cycles), 1) if cycles else None}
        report.cells.append(cell)
    report.totals = sum_totals(report.cells, ("won", "lost", "won_amount"))
    t_won, t_lost = int(report.totals["won"] or 0), int(report.totals["lost"] or 0)
    report.totals["win_rate"] = pct(t_won, t_won + t_lost)
    _note_unconverted(report)
    return report


def _first_write(clocks: str | None, created: str | None) -> dt.datetime | None:
    from desktop.followup.reminders import golden_start

    return golden_start({"_clocks": clocks, "created_at": created})


def _note_unconverted(report: Report) -> None:
    if report.unconverted:
        report.notes.append(Note.of("unconverted", count=len(report.unconverted),
                                    currency=report.currency))
