"""Exchange rates as dated data (`fx_rate` records) and conversion to the cent.

The rule every report follows, so that a figure can be recomputed by hand: amounts are
summed exactly in cents per (cell, currency, rate in force), each such sum is converted
once and rounded half-up to the cent, and a cell is the sum of its converted parts.
CNY is the base: a rate says how many CNY one unit of its currency is worth from its
`valid_from` day on. An amount whose currency has no rate in force on its date is never
added unconverted: its record is listed in the report's `unconverted`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import sqlite3
from decimal import ROUND_HALF_UP, Decimal

BASE = "CNY"
CENT = Decimal("0.01")


def cents_sql(col: str) -> str:
    """An amount column as whole cents (SQLite's round: half away from zero)."""
    return f"CAST(round({col} * 100) AS INTEGER)"


def cents_of(amount: float | int | None) -> int:
    """The same as cents_sql, in Python (for recomputation and single records)."""
    if amount is None:
        return 0
    p = float(amount) * 100
    return int(math.copysign(math.floor(abs(p) + 0.5), p))


def _literal(text: str) -> str:
    """An SQL string literal (rates are synced data: a quote in one must stay text)."""
    return "'" + text.replace("'", "''") + "'"


class Rates:
    def __init__(self, rows: list[tuple[str, str, float]]) -> None:
        self._by_currency: dict[str, tuple[list[str], list[Decimal]]] = {}
        for currency, valid_from, rate in sorted(rows):
            if not rate or rate <= 0:
                continue
            days, values = self._by_currency.setdefault(currency, ([], []))
            if days and days[-1] == valid_from:  # two rates for one day: the later record
                values[-1] = Decimal(str(rate))
                continue
            days.append(valid_from)
            values.append(Decimal(str(rate)))

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Rates:
        return cls([(c, str(d), float(r)) for c, d, r in conn.execute(
            "SELECT currency, valid_from, rate FROM fx_rate WHERE deleted = 0 AND "
            "currency IS NOT NULL AND valid_from IS NOT NULL AND rate IS NOT NULL "
            "ORDER BY rid")])

    def rate(self, currency: str | None, day: str | dt.date) -> Decimal | None:
        """CNY for one unit of `currency` on `day` (ISO date text or a date)."""
        cur = (currency or BASE).upper()
        if cur == BASE:
            return Decimal(1)
        found = self._by_currency.get(cur)
        if not found:
            return None
        days, values = found
        i = bisect.bisect_right(days, str(day)[:10]) - 1
        return values[i] if i >= 0 else None

    def missing_sql(self, currency_sql: str, day_sql: str, to: str) -> str:
        """SQL true where `rate_key` would be None: no rate from the row's currency to
        `to` in force on its day (the day as ISO text; a currency's first rate holds on)."""
        to = to.upper()
        src = f"coalesce(nullif(upper({currency_sql}), ''), '{BASE}')"
        day = f"substr({day_sql}, 1, 10)"

        def have(cur: str) -> str:
            if cur == BASE:
                return "1"
            found = self._by_currency.get(cur)
            return f"({day} >= {_literal(found[0][0])})" if found else "0"

        known = " ".join(f"WHEN {_literal(c)} THEN {have(c)}" for c in sorted(self._by_currency)
                         if c != BASE)
        have_src = f"(CASE {src} WHEN '{BASE}' THEN 1 {known} ELSE 0 END)"
        return f"NOT ({src} = {_literal(to)} OR ({have_src} AND {have(to)}))"

    def convert_cents(self, cents: int, currency: str | None, day: str | dt.date,
                      to: str) -> Decimal | None:
        """`cents` of `currency` on `day` in `to`, rounded half-up to the cent."""
        src = (currency or BASE).upper()
        if src == to.upper():
            return (Decimal(cents) / 100).quantize(CENT)
        a, b = self.rate(src, day), self.rate(to, day)
        if a is None or b is None:
            return None
        return (Decimal(cents) * a / b / 100).quantize(CENT, rounding=ROUND_HALF_UP)

    def rate_key(self, currency: str | None, day: str | dt.date, to: str) -> tuple[
            Decimal, Decimal] | None:
        """What decides a conversion: amounts with the same key convert together."""
        src = (currency or BASE).upper()
        if src == to.upper():
            return (Decimal(1), Decimal(1))
        a, b = self.rate(src, day), self.rate(to, day)
        return None if a is None or b is None else (a, b)


class MoneySum:
    """Adds amounts of one cell by the money rule above."""

    def __init__(self, rates: Rates, to: str) -> None:
        self.rates, self.to = rates, to.upper()
        self._parts: dict[tuple[str, tuple[Decimal, Decimal]], int] = {}
        self.unconverted = False

    def add(self, cents: int, currency: str | None, day: str | dt.date) -> bool:
        key = self.rates.rate_key(currency, day, self.to)
        if key is None:
            self.unconverted = True
            return False
        part = ((currency or BASE).upper(), key)
        self._parts[part] = self._parts.get(part, 0) + cents
        return True

    @property
    def total(self) -> Decimal:
        out = Decimal("0.00")
        for (_cur, (a, b)), cents in self._parts.items():
            out += (Decimal(cents) * a / b / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return out
