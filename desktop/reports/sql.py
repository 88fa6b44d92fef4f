"""Small SQL helpers the report definitions share."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from desktop.reports.model import ReportFilter


def owner_clause(f: ReportFilter, col: str = "owner") -> tuple[str, list[Any]]:
    if not f.owners:
        return "", []
    marks = ", ".join("?" for _ in f.owners)
    return f" AND coalesce({col}, '') IN ({marks})", list(f.owners)


def id_list(f: ReportFilter, missing: str = "0", expr: str = "id") -> str:
    """The SQL aggregate of a group's record ids; when the filter wants none, only those
    of records `missing` an exchange rate (Rates.missing_sql: always listed, and rare)."""
    if f.ids:
        return f"group_concat({expr})"
    return "NULL" if missing == "0" else f"group_concat(CASE WHEN {missing} THEN {expr} END)"


def ids_of(text: str | None) -> list[str]:
    return text.split(",") if text else []


def rows(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
    return conn.execute(sql, list(params)).fetchall()


def pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)
