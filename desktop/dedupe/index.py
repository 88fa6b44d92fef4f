"""The duplicate check's index: blocking keys per record, kept in the store.

A key is "<entity>:<kind>:<value>"; records that share a key are compared, nothing
else is. Kinds: `n` the brand (exact), `b`/`e` its first and last characters (a typo
leaves one of them whole), `t` the brand's words in sorted order, `y`
a Chinese brand's pinyin, `p` a phone (E.164;
for contacts, mobiles), `u` the credit code, `m` an email, `a` a contact's name within
its account. The migration (m007) queues changed records in `dedupe_dirty` inside the
write's own transaction; `refresh` turns the queue into keys before a check or a scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from desktop.dedupe.match import ENTITIES, Probe, probe
from desktop.dedupe.names import NameParts
from desktop.store.rows import from_row
from desktop.store.textindex import pinyin_string

if TYPE_CHECKING:
    import sqlite3

    from desktop.store.store import Store

_LATIN = re.compile("[a-z]")  # a brand with Latin letters (NameParts.latin)
RID_BITS = 40
_RID_MASK = (1 << RID_BITS) - 1
REFRESH_CHUNK = 5000
# A brand's first and last characters as keys: 3 Chinese characters carry about as much
# as 5 Latin letters. Only for brands long enough that a typo can stay above 92%.
_EDGE_CJK, _EDGE_LATIN = 3, 5


def _edges(parts: NameParts) -> tuple[str, str] | None:
    n = _EDGE_LATIN if parts.latin else _EDGE_CJK
    core = parts.core
    if len(core) < 2 * n - 1:  # a typo in one brand can make it a character shorter
        return None
    return core[:n], core[-n:]


@lru_cache(maxsize=100_000)
def pinyin_string_of(core: str) -> str:
    """A brand's pinyin as one string (brands repeat across a book: kept)."""
    return pinyin_string(core)


def keys_of(p: Probe) -> set[str]:
    e = p.entity
    keys = {f"{e}:p:{phone}" for phone in p.phones} | {f"{e}:m:{m}" for m in p.emails}
    if p.uscc:
        keys.add(f"{e}:u:{p.uscc}")
    for parts in p.parts.readings() if p.parts else ():
        if not parts.core:
            continue
        keys.add(f"{e}:n:{parts.core}")
        edges = _edges(parts)
        if edges:
            keys.add(f"{e}:b:{edges[0]}")
            keys.add(f"{e}:e:{edges[1]}")
        if not parts.latin:  # homophone typos (腾迅 / 腾讯) share the pinyin
            keys.add(f"{e}:y:{pinyin_string_of(parts.core)}")
        elif " " in parts.words:
            keys.add(f"{e}:t:{' '.join(sorted(parts.words.split()))}")
    if p.person and p.account_id:
        keys.add(f"{e}:a:{p.account_id}:{p.person}")
    return keys


def doc_row(rowid: int, p: Probe) -> tuple[Any, ...] | None:
    """The parsed company name kept beside the keys, so a scan need not parse again."""
    if p.parts is None:
        return None
    parts, alt = p.parts, p.parts.alt
    return (rowid, parts.core, parts.words, ",".join(sorted(parts.places)), parts.branch,
            parts.legal, p.uscc, alt and alt.core, alt and alt.words,
            alt and ",".join(sorted(alt.places)))


DOC_COLUMNS = "core, words, places, branch, legal, uscc, alt_core, alt_words, alt_places"


def parts_of_doc(doc: tuple[Any, ...]) -> NameParts:
    """NameParts from a dedupe_doc row's DOC_COLUMNS."""
    core, words, places, branch, legal, _uscc, alt_core, alt_words, alt_places = doc

    def make(core: str, words: str, places: str | None, alt: NameParts | None) -> NameParts:
        return NameParts(core=core, words=words,
                         places=frozenset(filter(None, (places or "").split(","))),
                         legal=legal or "", branch=branch,
                         latin=_LATIN.search(core) is not None, alt=alt)

    alt = make(alt_core, alt_words, alt_places, None) if alt_core else None
    return make(core, words, places, alt)


def entity_numbers(store: Store) -> dict[str, int]:
    return {name: store.repo(name).number for name in ENTITIES}


def rowid_range(number: int) -> tuple[int, int]:
    return number << RID_BITS, ((number + 1) << RID_BITS) - 1


def pending(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM dedupe_dirty").fetchone()[0])


def refresh(store: Store, *, chunk: int = REFRESH_CHUNK, max_rows: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Bring the keys up to date: first the search backlog (a bulk import's records get
    search documents, which queues them here), then the queue, `chunk` records per short
    write transaction. Returns how many records were keyed."""
    conn = store.conn
    if conn.execute("SELECT 1 FROM search_backlog LIMIT 1").fetchone() is not None:
        store.index_backlog(max_rows=max_rows)
    if conn.execute("SELECT 1 FROM dedupe_dirty LIMIT 1").fetchone() is None:
        return 0
    total = pending(store)
    if max_rows is not None:
        chunk = max(1, min(chunk, max_rows))
    by_number = {n: name for name, n in entity_numbers(store).items()}
    done = 0
    while max_rows is None or done < max_rows:
        with store.write() as w:
            rowids = [r[0] for r in w.conn.execute(
                "SELECT rowid FROM dedupe_dirty ORDER BY rowid LIMIT ?", (chunk,))]
            if not rowids:
                break
            _rekey(store, w.conn, rowids, by_number)
            w.conn.execute("DELETE FROM dedupe_dirty WHERE rowid <= ?", (rowids[-1],))
        done += len(rowids)
        if progress:
            progress(done, total)
    return done


def _rekey(store: Store, conn: sqlite3.Connection, rowids: list[int],
           by_number: dict[int, str]) -> None:
    marks = ",".join("?" * len(rowids))
    conn.execute(f"DELETE FROM dedupe_key WHERE rowid IN ({marks})", rowids)
    conn.execute(f"DELETE FROM dedupe_doc WHERE rowid IN ({marks})", rowids)
    keys: list[tuple[str, int]] = []
    docs: list[tuple[Any, ...]] = []
    for rowid, p in live_probes(store, rowids, by_number, conn):
        keys.extend((k, rowid) for k in keys_of(p))
        doc = doc_row(rowid, p)
        if doc:
            docs.append(doc)
    conn.executemany("INSERT OR IGNORE INTO dedupe_key (key, rowid) VALUES (?, ?)", keys)
    conn.executemany(
        f"INSERT INTO dedupe_doc (rowid, {DOC_COLUMNS}) VALUES ({', '.join('?' * 10)})", docs)


def live_probes(store: Store, rowids: Iterable[int], by_number: dict[int, str],
                conn: sqlite3.Connection | None = None) -> Iterator[tuple[int, Probe]]:
    """(rowid, probe) of each live record among `rowids` (other entities skipped)."""
    conn = conn or store.conn
    groups: dict[int, list[int]] = {}
    for rowid in rowids:
        if rowid >> RID_BITS in by_number:
            groups.setdefault(rowid >> RID_BITS, []).append(rowid & _RID_MASK)
    for number, rids in groups.items():
        name = by_number[number]
        ent = store.repo(name).entity
        for start in range(0, len(rids), 900):
            part = rids[start:start + 900]
            for row in conn.execute(f'SELECT * FROM "{name}" WHERE deleted = 0 AND rid IN '
                                    f'({",".join("?" * len(part))})', part):
                yield (number << RID_BITS) | row["rid"], probe(name, from_row(ent, row))


def lookup(store: Store, keys: Iterable[str], limit_per_key: int) -> set[int]:
    out: set[int] = set()
    for key in keys:
        out.update(r[0] for r in store.conn.execute(
            "SELECT rowid FROM dedupe_key WHERE key = ? LIMIT ?", (key, limit_per_key)))
    return out

