"""Duplicate checks the app, the command line and the sync engine share: one record
against the book (`check`, while a rep types), and the whole book (`scan`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz, process

from desktop.dedupe import index
from desktop.dedupe.match import (
    DEFAULT_THRESHOLD,
    ENTITIES,
    REASONS,
    company_name_score,
    compare,
    probe,
)
from desktop.errors import ValidationError

if TYPE_CHECKING:
    from desktop.store.store import Store

CHECK_LIMIT = 10  # candidates shown while typing
KEY_CANDIDATES = 200  # records read per key in a check: a brand shared by thousands is cut here
SCAN_GROUP_LIMIT = 250  # records sharing one key that a scan compares pairwise
_EXACT_KINDS = {"p": "phone", "u": "uscc", "m": "email", "a": "name"}
_NAME_KINDS = ("n", "b", "e", "t", "y")
# cdist compares bare brands; the score also judges a short brand as part of its whole
# name (match._CN_NAME_REST), which lifts a 2-3 character brand by up to ~12 points.
_PREFILTER_SLACK = 15

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    score: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "score": self.score, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    a_name: str
    b_name: str
    score: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "a_name": self.a_name, "b_name": self.b_name,
                "score": self.score, "reasons": list(self.reasons)}


@dataclass
class ScanResult:
    pairs: list[Pair]
    skipped_groups: int  # keys shared by more than SCAN_GROUP_LIMIT records (not compared)


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise ValidationError(f"Duplicates are checked for accounts and contacts, not '{entity}'.")
    return entity


def check(store: Store, entity: str, values: Mapping[str, Any], *,
          threshold: float = DEFAULT_THRESHOLD, exclude_id: str | None = None,
          limit: int = CHECK_LIMIT) -> list[Candidate]:
    """Saved records that are probably the record `values` describes, best first."""
    _entity(entity)
    index.refresh(store)
    me = probe(entity, values)
    rowids = index.lookup(store, index.keys_of(me), KEY_CANDIDATES)
    found: list[Candidate] = []
    numbers = {n: name for name, n in index.entity_numbers(store).items()
               if name == entity}
    for rowid, other in index.live_probes(store, rowids, numbers):
        match = compare(me, other, threshold)
        if match is None:
            continue
        rid = rowid & ((1 << index.RID_BITS) - 1)
        row = store.conn.execute(f'SELECT id FROM "{entity}" WHERE rid = ?', (rid,)).fetchone()
        if row["id"] == exclude_id:
            continue
        found.append(Candidate(row["id"], other.name, match.score, match.reasons))
    found.sort(key=lambda c: (-c.score, c.name, c.id))
    return found[:limit]


Signature = tuple[str, str | None, str | None]  # places, places of the other reading, branch


def _places(text: str | None) -> set[str]:
    return set(filter(None, (text or "").split(",")))


def _signature_compatible(a: Signature, b: Signature) -> bool:
    """Could any reading of the two names pass the place and branch vetoes of
    match.company_name_score? Decided once per group of records, not per pair."""
    if a[2] != b[2]:
        return False
    for pa in {a[0], a[1] if a[1] is not None else a[0]}:
        for pb in {b[0], b[1] if b[1] is not None else b[0]}:
            sa, sb = _places(pa), _places(pb)
            if not sa or not sb or sa & sb:
                return True
    return False


class _PairBook:
    """Pairs found so far: (rowid, rowid) -> [name score, reasons]."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[int, int], list[Any]] = {}

    def add(self, x: int, y: int, reason: str, score: float = 100.0) -> None:
        key = (x, y) if x < y else (y, x)
        entry = self.pairs.setdefault(key, [0.0, set()])
        entry[1].add(reason)
        if reason == "name":
            entry[0] = max(entry[0], score)


# A member of a key's group in a scan: (key, rowid, *index.DOC_COLUMNS)
_ROWID, _CORE, _PLACES, _BRANCH, _USCC, _ALT_PLACES = 1, 2, 4, 5, 7, 10


def _name_group(book: _PairBook, members: list[tuple[Any, ...]], threshold: float,
                kind: str) -> None:
    """Compare one key's records by brand. Records are grouped by (places, branch), the
    vetoes are decided per pair of groups; within compatible groups, records sharing
    the exact brand (`n`), its words (`t`) or its pinyin (`y`) are all scored, the others (`b`, `e`) only
    when rapidfuzz's cdist puts the two brands above the threshold."""
    groups: dict[Signature, list[tuple[Any, ...]]] = {}
    for m in members:
        groups.setdefault((m[_PLACES] or "", m[_ALT_PLACES], m[_BRANCH]), []).append(m)
    sigs = list(groups)
    for i, s1 in enumerate(sigs):
        for s2 in sigs[i:]:
            if not _signature_compatible(s1, s2):
                continue
            g1, g2 = groups[s1], groups[s2]
            if kind in ("n", "t", "y"):
                hits: Iterable[tuple[int, int]] = ((x, y) for x in range(len(g1)) for y in range(len(g2)))
            else:
                scores = process.cdist([m[_CORE] for m in g1], [m[_CORE] for m in g2],
                                       scorer=fuzz.ratio, score_cutoff=threshold - _PREFILTER_SLACK,
                                       dtype=np.uint8)
                hits = zip(*np.nonzero(scores), strict=True)
            for x, y in hits:
                a, b = g1[x], g2[y]
                if a[_ROWID] == b[_ROWID] or (s1 == s2 and x >= y):
                    continue
                codes_differ = bool(a[_USCC] and b[_USCC] and a[_USCC] != b[_USCC])
                score = company_name_score(index.parts_of_doc(a[2:]), index.parts_of_doc(b[2:]),
                                           codes_differ=codes_differ)
                if score >= threshold:
                    book.add(a[_ROWID], b[_ROWID], "name", score)


def scan(store: Store, entity: str, *, threshold: float = DEFAULT_THRESHOLD,
         progress: Progress | None = None) -> ScanResult:
    """Every probable duplicate pair in the book. Records are compared only with those
    sharing a key (desktop.dedupe.index), so the work grows with the groups, not with
    the square of the book."""
    _entity(entity)
    index.refresh(store, progress=(lambda d, n: progress("index", d, n)) if progress else None)
    book = _PairBook()
    lo, hi = f"{entity}:", f"{entity};"
    total = int(store.conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM dedupe_key WHERE key > ? AND key < ? "
        "GROUP BY key HAVING count(*) > 1)", (lo, hi)).fetchone()[0])
    skipped = int(store.conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM dedupe_key WHERE key > ? AND key < ? "
        "GROUP BY key HAVING count(*) > ?)", (lo, hi, SCAN_GROUP_LIMIT)).fetchone()[0])
    rows = store.conn.execute(
        "WITH shared AS (SELECT key FROM dedupe_key WHERE key > ? AND key < ? "
        "GROUP BY key HAVING count(*) BETWEEN 2 AND ?) "
        f"SELECT k.key, k.rowid, {', '.join('d.' + c for c in index.DOC_COLUMNS.split(', '))} "
        "FROM shared JOIN dedupe_key k ON k.key = shared.key "
        "LEFT JOIN dedupe_doc d ON d.rowid = k.rowid ORDER BY k.key",
        (lo, hi, SCAN_GROUP_LIMIT))
    current: str | None = None
    members: list[tuple[Any, ...]] = []
    done = 0

    def close_group() -> None:
        nonlocal done
        if current is None:
            return
        kind = current[len(lo)]
        if kind in _EXACT_KINDS:
            reason = _EXACT_KINDS[kind]
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    book.add(a[1], b[1], reason)
        elif kind in _NAME_KINDS:
            _name_group(book, [m for m in members if m[_CORE]], threshold, kind)
        done += 1
        if progress and done % 5000 == 0:
            progress("compare", done, total)

    for row in rows:
        if row[0] != current:
            close_group()
            current, members = row[0], []
        members.append(tuple(row))
    close_group()
    if progress:
        progress("compare", total, total)
    return ScanResult(_named_pairs(store, entity, book), skipped)


def _named_pairs(store: Store, entity: str, book: _PairBook) -> list[Pair]:
    mask = (1 << index.RID_BITS) - 1
    rids = sorted({r & mask for pair in book.pairs for r in pair})
    title = store.repo(entity).entity.title_field
    names: dict[int, tuple[str, str]] = {}
    for start in range(0, len(rids), 900):
        part = rids[start:start + 900]
        for row in store.conn.execute(
                f'SELECT rid, id, "{title}" FROM "{entity}" WHERE deleted = 0 AND rid IN '
                f'({",".join("?" * len(part))})', part):
            names[row[0]] = (row[1], row[2] or "")
    out = []
    for (x, y), (name_score, reasons) in book.pairs.items():
        a, b = names.get(x & mask), names.get(y & mask)
        if a is None or b is None:
            continue
        ordered = tuple(r for r in REASONS if r in reasons)
        score = name_score if ordered == ("name",) else 100.0
        out.append(Pair(a[0], b[0], a[1], b[1], round(score, 1), ordered))
    out.sort(key=lambda p: (-p.score, p.a, p.b))
    return out
