"""The "Possible duplicates" list: probable duplicate pairs kept in the store, found by
checking records that arrived (after each pull, desktop.sync.engine) and by whole-book
scans; a pair the rep dismisses ("not a duplicate") stays dismissed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from desktop.dedupe import index, rules
from desktop.dedupe.match import ENTITIES
from desktop.dedupe.service import Pair, check, scan
from desktop.schema import to_utc_iso
from desktop.store.rows import from_row

if TYPE_CHECKING:
    from desktop.store.store import Store

# More records than this waiting to be checked (a first sync, an import): one whole-book
# scan instead of a check per record.
SCAN_FROM = 5000


def _now() -> str:
    return to_utc_iso(dt.datetime.now(dt.UTC))


def save(store: Store, entity: str, pairs: Iterable[Pair], *, replace: bool = False) -> int:
    """Keep these pairs (a pair already dismissed stays dismissed). `replace`: they are
    all the pairs of the book (a whole scan): open pairs not among them are dropped."""
    rows = [(entity, p.a, p.b, p.score, json.dumps(list(p.reasons)), _now()) for p in pairs]
    with store.write() as w:
        before = w.conn.total_changes
        if replace:
            w.conn.execute("DELETE FROM dedupe_pair WHERE entity = ? AND dismissed = 0", (entity,))
        w.conn.executemany(
            "INSERT INTO dedupe_pair (entity, a, b, score, reasons, found_at) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (entity, a, b) DO UPDATE SET score = excluded.score, "
            "reasons = excluded.reasons",
            rows)
        if w.conn.total_changes != before:
            w.changed("dedupe_pair", None)
    return len(rows)


def check_arrivals(store: Store, *, max_rows: int | None = None,
                   cancelled: Callable[[], bool] | None = None) -> int:
    """Check the records that changed since the last time (pulled ones above all) against
    the book and keep the pairs found. Returns how many records were checked.

    `max_rows`: key at most this many records in this call (the sync engine's live loop
    works through a big first sync a slice per pass); checking waits until all are keyed."""
    conn = store.conn
    if conn.execute("SELECT 1 FROM dedupe_unchecked LIMIT 1").fetchone() is None:
        return 0
    index.refresh(store, max_rows=max_rows)
    if conn.execute("SELECT 1 FROM dedupe_dirty LIMIT 1").fetchone() is not None:
        return 0
    waiting = int(conn.execute("SELECT count(*) FROM dedupe_unchecked").fetchone()[0])
    numbers = index.entity_numbers(store)
    if waiting > SCAN_FROM:
        for entity in ENTITIES:
            result = scan(store, entity, threshold=rules.rule_for(store, entity).threshold)
            save(store, entity, result.pairs, replace=True)
        with store.write() as w:
            w.conn.execute("DELETE FROM dedupe_unchecked")
        return waiting
    rowids = [r[0] for r in conn.execute("SELECT rowid FROM dedupe_unchecked ORDER BY rowid")]
    by_number = {n: name for name, n in numbers.items()}
    checked = 0
    for rowid in rowids:
        name = by_number.get(rowid >> index.RID_BITS)
        if cancelled and cancelled():
            break
        checked += 1
        row = None if name is None else conn.execute(
            f'SELECT * FROM "{name}" WHERE rid = ? AND deleted = 0',
            (rowid & ((1 << index.RID_BITS) - 1),)).fetchone()
        if name is not None and row is not None:
            rec = from_row(store.repo(name).entity, row)
            found = check(store, name, rec, exclude_id=rec["id"], limit=50,
                          threshold=rules.rule_for(store, name).threshold)
            save(store, name, [Pair(min(rec["id"], c.id), max(rec["id"], c.id), "", "", c.score,
                                      c.reasons) for c in found])
    with store.write() as w:
        w.conn.executemany("DELETE FROM dedupe_unchecked WHERE rowid = ?",
                           [(r,) for r in rowids[:checked]])
    return checked


def open_pairs(store: Store, entity: str | None = None) -> list[Pair]:
    """Pairs not dismissed whose two records are both live, best first."""
    out: list[Pair] = []
    for ent in [entity] if entity else list(ENTITIES):
        title = store.repo(ent).entity.title_field
        for a, b, an, bn, score, reasons in store.conn.execute(
                f'SELECT p.a, p.b, x."{title}", y."{title}", p.score, p.reasons FROM dedupe_pair p '
                f'JOIN "{ent}" x ON x.id = p.a AND x.deleted = 0 '
                f'JOIN "{ent}" y ON y.id = p.b AND y.deleted = 0 '
                "WHERE p.entity = ? AND p.dismissed = 0 ORDER BY p.score DESC, p.a, p.b", (ent,)):
            out.append(Pair(a, b, an or "", bn or "", score, tuple(json.loads(reasons))))
    return out


def count_open(store: Store) -> int:
    return len(open_pairs(store))


def dismiss(store: Store, entity: str, a: str, b: str) -> None:
    """The rep says the two are different customers: the pair is not listed again."""
    x, y = sorted((a, b))
    with store.write() as w:
        w.conn.execute("UPDATE dedupe_pair SET dismissed = 1 WHERE entity = ? AND a = ? AND b = ?",
                       (entity, x, y))
        w.changed("dedupe_pair", None)
