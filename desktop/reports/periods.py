"""Local days, weeks and months of UTC instants, computed inside SQLite.

The store keeps instants as UTC text ("2026-03-08T15:00:00Z"). A report groups them by
the viewer's local week or month, so an instant is shifted by its zone's offset *at that
instant*: across a change of clocks the offset differs, and one fixed shift would put
the hour after midnight into the wrong day. `week_no_sql` builds a CASE over the offset
intervals of the report's period (found from the zone, a handful per year).
"""

from __future__ import annotations

import datetime as dt

_FMT = "%Y-%m-%dT%H:%M:%SZ"


def utc_bounds(date_from: dt.date, date_to: dt.date, zone: dt.tzinfo) -> tuple[str, str]:
    """The instants [start of date_from, start of the day after date_to) in UTC text."""
    lo = dt.datetime.combine(date_from, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    hi = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(),
                             tzinfo=zone).astimezone(dt.UTC)
    return lo.strftime(_FMT), hi.strftime(_FMT)


def _offset_min(moment: dt.datetime, zone: dt.tzinfo) -> int:
    off = moment.astimezone(zone).utcoffset() or dt.timedelta()
    return int(off.total_seconds() // 60)


def offset_intervals(lo: dt.datetime, hi: dt.datetime, zone: dt.tzinfo,
                     ) -> list[tuple[str | None, int]]:
    """[(until UTC text or None for the last, offset minutes)], covering [lo, hi)."""
    out: list[tuple[str | None, int]] = []
    step = dt.timedelta(hours=6)
    cur = lo
    off = _offset_min(cur, zone)
    while cur < hi:
        nxt = min(cur + step, hi)
        if _offset_min(nxt, zone) != off:
            a, b = cur, nxt  # the change lies in (a, b]: narrow it to the minute
            while b - a > dt.timedelta(minutes=1):
                mid = a + (b - a) / 2
                if _offset_min(mid, zone) == off:
                    a = mid
                else:
                    b = mid
            b = b.replace(second=0, microsecond=0)
            if _offset_min(b, zone) == off:
                b += dt.timedelta(minutes=1)
            out.append((b.strftime(_FMT), off))
            off = _offset_min(b, zone)
            cur = b
            continue
        cur = nxt
    out.append((None, off))
    return out


def week_no_sql(col: str, zone: dt.tzinfo, lo: str, hi: str) -> str:
    """SQL for the viewer's local week of the UTC text in `col` as a whole number (turn
    it into the Monday with `week_of_no`): integer arithmetic on the instant's seconds,
    about a third of the cost of date()/datetime() per row (a report reads ~150k rows).
    Seconds from julianday() are exact once rounded (2e-5 s of error in 2026)."""
    start = dt.datetime.strptime(lo, _FMT).replace(tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime.strptime(hi, _FMT).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
    parts = offset_intervals(start, end, zone)
    # 43200: Julian days begin at noon; the local day's number is the civil JDN
    shift = [(until, 43200 + off * 60) for until, off in parts]
    if len(shift) == 1:
        offset = str(shift[0][1])
    else:
        whens = " ".join(f"WHEN {col} < '{until}' THEN {s}" for until, s in shift[:-1])
        offset = f"(CASE {whens} ELSE {shift[-1][1]} END)"
    return f"((CAST(julianday({col}) * 86400 + 0.5 AS INTEGER) + {offset}) / 86400 / 7)"


def week_no_ms_sql(col: str, zone: dt.tzinfo, lo: str, hi: str) -> str:
    """week_no_sql of the whole second of the Unix milliseconds in `col` (an INTEGER, e.g.
    first_write_at), by the same arithmetic on integers alone: no text made, no julianday()
    (the seconds julianday() gives of a whole second are exactly the Unix ones plus
    210866760000, JD 2440587.5 being the Unix epoch)."""
    start = dt.datetime.strptime(lo, _FMT).replace(tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime.strptime(hi, _FMT).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
    parts = offset_intervals(start, end, zone)
    sec = f"({col} / 1000)"
    shift = [(until, 43200 + off * 60) for until, off in parts]
    if len(shift) == 1:
        offset = str(shift[0][1])
    else:
        whens = " ".join(f"WHEN {sec} < {_unix(until)} THEN {s}" for until, s in shift[:-1]
                         if until is not None)
        offset = f"(CASE {whens} ELSE {shift[-1][1]} END)"
    return f"(({sec} + {_JD_UNIX_S} + {offset}) / 86400 / 7)"


_JD_UNIX_S = 210866760000  # julianday('1970-01-01') * 86400


def _unix(text: str) -> int:
    return int(dt.datetime.strptime(text, _FMT).replace(tzinfo=dt.UTC).timestamp())


def week_of_no(number: int) -> str:
    """The Monday (ISO date) of a week_no_sql number: JDN 7n is a Monday."""
    return dt.date.fromordinal(int(number) * 7 - 1721425).isoformat()


def week_of(day: dt.date) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def local_day(instant: str, zone: dt.tzinfo) -> dt.date:
    return dt.datetime.strptime(instant, _FMT).replace(tzinfo=dt.UTC).astimezone(zone).date()
