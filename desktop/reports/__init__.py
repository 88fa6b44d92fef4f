"""Reports a manager and finance trust (issue 18), Qt-free: one definition per report,
run over the local store (what this user may see, offline).

    from desktop.reports import run, NAMES
    report = run(store, "pipeline", ReportFilter(date_from, date_to, currency="CNY"))
    report.to_json()  # rows with the record ids behind each cell, totals, notes

Money follows desktop.reports.money (Decimal, per-currency cents, converted at the rate
in force, never CNY added to USD unconverted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop.reports.model import Cell, Report, ReportFilter

if TYPE_CHECKING:
    import sqlite3

    from desktop.followup.settings import FollowupSettings
    from desktop.store import Store

NAMES = ("pipeline", "forecast", "win-rate", "activities", "golden-72", "lead-sla",
         "collections")

__all__ = ["NAMES", "Cell", "Report", "ReportFilter", "cell_ids", "default_period", "run",
           "run_on"]
DEFAULT_WEEKS = 12
FORECAST_MONTHS = 6


def default_period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 weeks; the forecast looks ahead: this month and the next five."""
    if name == "forecast":
        start = today.replace(day=1)
        month = start.month - 1 + FORECAST_MONTHS
        end = dt.date(start.year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        return start, end
    return today - dt.timedelta(weeks=DEFAULT_WEEKS), today


def run(store: Store, name: str, f: ReportFilter, *, now: dt.datetime | None = None) -> Report:
    """Raises ValidationError for an unknown report name or currency."""
    from desktop.followup.settings import load_settings

    return run_on(store.conn, name, f, settings=load_settings(store), now=now)


def cell_ids(store: Store, name: str, f: ReportFilter, key: tuple[str, ...] | None, *,
             section: str | None = None, detail: str | None = None,
             now: dt.datetime | None = None) -> list[str]:
    """The records behind one cell of a report run without ids (the dashboard's drill-
    down): the report again with ids, narrowed to the cell's owner and week or month
    where its key has them. `key` None: every row's records (the total); `section`: a
    further table (collections' "ageing"); `detail`: e.g. "missed", "follow_up"."""
    import dataclasses

    narrowed = dataclasses.replace(f, ids=True, as_of=f.as_of_date)
    if key is not None and section is None:
        names = _KEYS.get(name, ())
        for part, value in zip(names, key, strict=False):
            if part == "owner":
                narrowed = dataclasses.replace(narrowed, owners=(value,))
            elif part in ("week", "month"):
                first = dt.date.fromisoformat(value + ("-01" if part == "month" else ""))
                last = (first + dt.timedelta(days=6) if part == "week" else
                        (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                        - dt.timedelta(days=1))
                lo, hi = max(first, f.date_from), min(last, f.date_to)
                if lo <= hi:
                    narrowed = dataclasses.replace(narrowed, date_from=lo, date_to=hi)
    report = run(store, name, narrowed, now=now)
    cells = report.sections.get(section, []) if section else report.cells
    chosen = cells if key is None else [c for c in cells if c.key == tuple(key)]
    out: list[str] = []
    for c in chosen:
        out += c.detail_ids.get(detail, []) if detail else c.ids
    return out


# the key parts a narrowed re-run can use (desktop.reports.* Report.key_names)
_KEYS = {"activities": ("owner", "week"), "golden-72": ("owner", "week"), "win-rate": ("owner",),
         "lead-sla": ("owner",), "forecast": ("month",), "collections": ("month",)}


def run_on(conn: sqlite3.Connection, name: str, f: ReportFilter, *,
           settings: FollowupSettings | None = None, now: dt.datetime | None = None) -> Report:
    """`run` over any connection in the store's layout (desktop.reports.book: the
    server's team book); without `settings`, what counts as a valid follow-up is the
    admin's rule in that connection (desktop.followup.rule), else the built-in one."""
    from desktop.errors import ValidationError
    from desktop.followup.settings import FollowupSettings
    from desktop.reports import activity, collections, deals
    from desktop.reports.money import Rates
    from desktop.schema import CURRENCIES

    if name not in NAMES:
        raise ValidationError(f"There is no report '{name}': {', '.join(NAMES)}.",
                              field="report")
    if f.currency.upper() not in CURRENCIES:
        raise ValidationError(f"Reports are in one of {', '.join(CURRENCIES)}, "
                              f"not '{f.currency}'.", field="currency")
    if f.date_to < f.date_from:
        raise ValidationError("The period ends before it starts.", field="to")
    money: dict[str, Callable[..., Report]] = {
        "pipeline": deals.pipeline, "forecast": deals.forecast, "win-rate": deals.win_rate,
        "collections": collections.collections}
    if name in money:
        return money[name](conn, f, Rates.load(conn))
    if name == "lead-sla":
        return activity.lead_sla(conn, f, now or dt.datetime.now(dt.UTC))
    if settings is None:  # the admin's rule in this book (one small query), else built-in
        from desktop.followup.rule import read_rule

        settings = read_rule(conn).apply(FollowupSettings())
    rules = settings
    return (activity.activities if name == "activities" else activity.golden_72)(
        conn, f, rules)
