"""A record's first write (`first_write_at`): when the golden-72 rule's clock starts.

`first_write_at` (INTEGER, Unix milliseconds) is the wall time of the oldest HLC stamp
the row holds: exactly what `desktop.followup.reminders.golden_start` reads from
`_clocks`, kept as a column (store step m019) so that the golden-72 report selects a
period's new records through an index instead of reading every row that arrived since
the period began and parsing its clocks (after a manager's first sync, that is the
whole book).

Every write that sets `_clocks` keeps it: an insert (`Repository._insert`,
`_import_chunk`, a pulled new record in `remote._insert_new`) writes the oldest stamp
it writes; a local edit (`Repository._write_fields`) and a pulled change to a known
record (`remote._merge_into`) write the oldest of the row's new clocks when it differs
(a pulled field older than the rest; every field holding the oldest stamp rewritten);
the visibility purge, which removes stamps, recomputes it from the stamps left. A row
without any stamp has its created_at, as golden_start falls back on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

ENTITIES = frozenset({"account", "deal"})  # the records golden-72 counts
COLUMN = "first_write_at"


def index_sql(entity: str) -> str:
    """`<entity>_first_write`: a period's new records in first-write order. On the first
    write alone: a first sync inserts in no first-write order, and each column more costs
    every pulled account and deal. With owner, id and deleted (the report reading the
    index alone) a pulled account cost 1.0 µs more CPU (2.4 µs with its stamps in random
    order); golden-72 at 1M accounts then took ~0.95 s instead of ~1.37 s (the rows' owner
    and id read, ~2.7 µs each)."""
    return f'CREATE INDEX "{entity}_first_write" ON "{entity}" ({COLUMN}) WHERE deleted = 0'


def stamp_ms(stamp: str) -> int:
    """The wall milliseconds of an HLC stamp (`%013d-counter-device`, desktop.store.hlc)."""
    return int(stamp[:13])


def oldest_ms(stamps: Iterable[str]) -> int | None:
    """The wall milliseconds of the oldest stamp, None without any. (Stamps share their
    13-digit form, so the oldest is the least string.)"""
    oldest = min(stamps, default=None)
    return None if oldest is None else stamp_ms(oldest)


def iso_ms(text: str) -> int:
    """Unix milliseconds of a stored UTC time (`created_at`: a row without stamps)."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


# The same from a row's columns, in SQL (the backfill of step m019): a row in the compact
# clock form (one stamp, a JSON string) is read without json_each; no stamp at all falls
# back on created_at, as golden_start does.
ROW_SQL = (
    "coalesce(CASE WHEN substr(_clocks, 1, 1) = '\"' THEN CAST(substr(_clocks, 2, 13) "
    "AS INTEGER) ELSE (SELECT min(CAST(substr(value, 1, 13) AS INTEGER)) "
    "FROM json_each(_clocks)) END, CAST(strftime('%s', created_at) AS INTEGER) * 1000 "
    "+ CAST(substr(strftime('%f', created_at), 4, 3) AS INTEGER))")
