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

__all__ = ["NAMES", "Cell", "Report", "ReportFilter", "default_period", "run", "run_on"]
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


def run_on(conn: sqlite3.Connection, name: str, f: ReportFilter, *,
           settings: FollowupSettings | None = None, now: dt.datetime | None = None) -> Report:
    """`run` over any connection in the store's layout (desktop.reports.book: the
    server's team book); follow-up rules default to the built-in ones."""
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
    rules = settings or FollowupSettings()
    return (activity.activities if name == "activities" else activity.golden_72)(
        conn, f, rules)
