"""Duplicate checks the app, the command line and the sync engine share: one record
against the book (`check`, while a rep types), and the whole book (`scan`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from desktop.dedupe import index
from desktop.dedupe.match import (
    DEFAULT_THRESHOLD,
    ENTITIES,
    REASONS,
    Probe,
    brand_score,
    company_name_score,
    compare,
    probe,
)
from desktop.dedupe.names import NameParts
from desktop.errors import ValidationError

if TYPE_CHECKING:
    from desktop.store.store import Store

CHECK_LIMIT = 10  # candidates shown while typing
KEY_CANDIDATES = 200  # records read per key in a check: a brand shared by thousands is cut here
SCAN_GROUP_LIMIT = 250  # records sharing one key that a scan compares pairwise
_EXACT_KINDS = {"p": "phone", "u": "uscc", "m": "email", "a": "name"}
_NAME_KINDS = ("n", "b", "e", "t", "y")
_NAME_KEY_KINDS = frozenset(_NAME_KINDS)
# cdist compares bare brands; the score also judges a short brand as part of its whole
# name (match.CN_NAME_REST), which lifts a 2-3 character brand by up to ~12 points.
_PREFILTER_SLACK = 15

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    score: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "score": self.score,
                "reasons": list(self.reasons)}


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
          limit: int = CHECK_LIMIT, refresh_limit: int | None = None) -> list[Candidate]:
    """Saved records that are probably the record `values` describes, best first.

    Keys not yet built are built first (`refresh_limit` at most: a check while typing
    leaves a big import's backlog to the background). Accounts are scored from the
    parsed names kept beside the keys; an identifier shared is a reason by itself (the
    keys hold normalised values); only the records that match are read."""
    _entity(entity)
    index.refresh(store, max_rows=refresh_limit)
    me = probe(entity, values)
    kinds: dict[int, set[str]] = {}
    for key in index.keys_of(me):
        kind = key[len(entity) + 1]
        for (rowid,) in store.conn.execute(
                "SELECT rowid FROM dedupe_key WHERE key = ? LIMIT ?", (key, KEY_CANDIDATES)):
            kinds.setdefault(rowid, set()).add(kind)
    matches: dict[int, tuple[float, set[str]]] = {}
    if entity == "account":
        _score_accounts(store, me, kinds, threshold, matches)
    else:
        _score_contacts(store, me, kinds, threshold, matches)
    if not matches:
        return []
    mask = (1 << index.RID_BITS) - 1
    title = store.repo(entity).entity.title_field
    rows = store.conn.execute(
        f'SELECT rid, id, "{title}" FROM "{entity}" WHERE deleted = 0 AND rid IN '
        f'({",".join("?" * len(matches))})', [r & mask for r in matches]).fetchall()
    number = store.repo(entity).number << index.RID_BITS
    found = []
    for rid, rec_id, name in rows:
        if rec_id == exclude_id:
            continue
        score, reasons = matches[number | rid]
        ordered = tuple(r for r in REASONS if r in reasons)
        found.append(
            Candidate(rec_id, name or "", score if ordered == ("name",) else 100.0, ordered))
    found.sort(key=lambda c: (-c.score, c.name, c.id))
    return found[:limit]


def _score_accounts(store: Store, me: Probe, kinds: dict[int, set[str]], threshold: float,
                    matches: dict[int, tuple[float, set[str]]]) -> None:
    named = [r for r, k in kinds.items() if k & _NAME_KEY_KINDS]
    for rowid, k in kinds.items():
        exact = {_EXACT_KINDS[x] for x in k if x in _EXACT_KINDS}
        if exact:
            matches[rowid] = (100.0, exact)
    if not named or me.parts is None:
        return
    docs: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(named), 900):
        part = named[start:start + 900]
        docs.update((r[0], tuple(r[1:])) for r in store.conn.execute(
            f"SELECT rowid, {index.DOC_COLUMNS} FROM dedupe_doc "
            f"WHERE rowid IN ({','.join('?' * len(part))})",
            part))
    # brands only near by their first or last characters: rapidfuzz's cdist first
    edge_only = [r for r in named if r in docs and not kinds[r] - {"b", "e"}]
    if edge_only:
        near = process.cdist([me.parts.core], [docs[r][0] for r in edge_only], scorer=fuzz.ratio,
                             score_cutoff=threshold - _PREFILTER_SLACK, dtype=np.uint8)[0]
        dropped = {r for r, s in zip(edge_only, near, strict=True) if not s}
        named = [r for r in named if r not in dropped]
    for rowid in named:
        doc = docs.get(rowid)
        if doc is None:
            continue
        codes_differ = bool(me.uscc and doc[5] and me.uscc != doc[5])
        score = company_name_score(me.parts, index.parts_of_doc(doc), codes_differ=codes_differ)
        if score >= threshold:
            old = matches.get(rowid, (0.0, set()))
            matches[rowid] = (max(old[0], score), old[1] | {"name"})


def _score_contacts(store: Store, me: Probe, kinds: dict[int, set[str]], threshold: float,
                    matches: dict[int, tuple[float, set[str]]]) -> None:
    """Contacts: shared mobiles and emails from the keys; names within the account
    compared in full (an account has few contacts, read by the account_id index)."""
    for rowid, k in kinds.items():
        matches[rowid] = (100.0, {_EXACT_KINDS[x] for x in k if x in _EXACT_KINDS})
    if not me.account_id:
        return
    number = store.repo("contact").number
    rids = [r[0] for r in store.conn.execute(
        "SELECT rid FROM contact WHERE account_id = ? AND deleted = 0 LIMIT ?",
        (me.account_id, KEY_CANDIDATES))]
    for rowid, other in index.live_probes(store, [(number << index.RID_BITS) | r for r in rids],
                                          {number: "contact"}):
        match = compare(me, other, threshold)
        if match is not None and "name" in match.reasons:
            old = matches.get(rowid, (0.0, set()))
            matches[rowid] = (max(old[0], match.score), old[1] | {"name"})


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

    def named(self, x: int, y: int) -> bool:
        entry = self.pairs.get((x, y) if x < y else (y, x))
        return entry is not None and "name" in entry[1]


# A member of a key's group in a scan: (key, rowid, *index.DOC_COLUMNS)
(_ROWID, _CORE, _WORDS, _PLACES, _BRANCH, _LEGAL, _USCC,
 _ALT_CORE, _ALT_WORDS, _ALT_PLACES) = range(1, 11)


class _Reading(NamedTuple):
    """One member as its key read it: the brand (core, words) and its weak parts."""

    rowid: int
    core: str
    words: str
    places: frozenset[str]
    branch: str | None
    legal: str
    uscc: str | None


_PLACE_SETS: dict[str | None, frozenset[str]] = {}


def _place_set(text: str | None) -> frozenset[str]:
    got = _PLACE_SETS.get(text)
    if got is None:
        got = _PLACE_SETS[text] = frozenset(filter(None, (text or "").split(",")))
    return got


def _reading(m: tuple[Any, ...], kind: str, value: str) -> _Reading:
    if m[_ALT_CORE] and ((kind == "n" and m[_CORE] != value) or
                         (kind == "t" and " ".join(sorted(m[_WORDS].split())) != value)):
        return _Reading(m[_ROWID], m[_ALT_CORE], m[_ALT_WORDS], _place_set(m[_ALT_PLACES]),
                        m[_BRANCH], m[_LEGAL] or "", m[_USCC])
    return _Reading(m[_ROWID], m[_CORE], m[_WORDS], _place_set(m[_PLACES]), m[_BRANCH],
                    m[_LEGAL] or "", m[_USCC])


def _name_group(book: _PairBook, members: list[tuple[Any, ...]], threshold: float,
                kind: str, value: str) -> None:
    """Compare one key's records by name. Members are grouped by brand: each pair of
    brands is scored once (for `b`, `e` and `y` keys, after rapidfuzz's cdist has put
    them near enough), and only pairs of records whose brands match have their weak
    parts (places, branch, legal form, credit code) compared."""
    if (kind != "n" and not any(m[_ALT_CORE] for m in members)
            and len({m[_CORE] for m in members}) == 1):
        return  # one brand: its pairs are its `n` group's
    by_core: dict[str, list[_Reading]] = {}
    for m in members:
        r = _reading(m, kind, value)
        by_core.setdefault(r.core, []).append(r)
    cores = list(by_core)
    # Records with the same brand meet in that brand's `n` group; the other groups
    # only add pairs of different brands.
    brand_pairs: list[tuple[int, int, float]] = (
        [(i, i, 100.0) for i in range(len(cores))] if kind == "n" else [])
    if len(cores) > 1 and kind != "n":
        parts = [NameParts(c, by_core[c][0].words, frozenset(), "", None,
                           any("a" <= ch <= "z" for ch in c)) for c in cores]
        if kind in ("y", "t"):  # the same pinyin (homophones) or words (in another order)
            near: Iterable[tuple[int, int]] = (
                (i, j) for i in range(len(cores)) for j in range(i + 1, len(cores)))
        else:
            scores = process.cdist(cores, cores, scorer=fuzz.ratio,
                                   score_cutoff=threshold - _PREFILTER_SLACK, dtype=np.uint8)
            near = ((int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(scores, 1)), strict=True))
        for i, j in near:
            brand = brand_score(parts[i], parts[j])
            if brand >= threshold:
                brand_pairs.append((i, j, brand))
    for i, j, brand in brand_pairs:
        _record_pairs(book, by_core[cores[i]], by_core[cores[j]], i == j, brand, threshold)


def _by_signature(
    readings: list[_Reading],
) -> list[tuple[tuple[frozenset[str], str | None], list[_Reading]]]:
    out: dict[tuple[frozenset[str], str | None], list[_Reading]] = {}
    for r in readings:
        out.setdefault((r.places, r.branch), []).append(r)
    return list(out.items())


def _record_pairs(book: _PairBook, g1: list[_Reading], g2: list[_Reading], same: bool,
                  brand: float, threshold: float) -> None:
    """Pairs of records of two brand groups (or within one) whose weak parts allow them:
    the place and branch vetoes are decided per (places, branch) signature, not per pair
    (a brand in seven cities is seven signatures, and most of its pairs are vetoed)."""
    sigs1 = _by_signature(g1)
    sigs2 = sigs1 if same else _by_signature(g2)
    for x, ((p1, b1), m1) in enumerate(sigs1):
        for y, ((p2, b2), m2) in enumerate(sigs2):
            if (same and y < x) or b1 != b2 or (p1 and p2 and not p1 & p2):
                continue
            within = same and x == y
            for k, a in enumerate(m1):
                for b in (m1[k + 1:] if within else m2):
                    if a.rowid == b.rowid or book.named(a.rowid, b.rowid):
                        continue
                    score = brand - (1.0 if a.legal and b.legal and a.legal != b.legal else 0.0)
                    if a.uscc and b.uscc and a.uscc != b.uscc:
                        score = min(score, 80.0)
                    if score >= threshold:
                        book.add(a.rowid, b.rowid, "name", score)


def scan(store: Store, entity: str, *, threshold: float = DEFAULT_THRESHOLD,
         progress: Progress | None = None) -> ScanResult:
    """Every probable duplicate pair in the book. Records are compared only with those
    sharing a key (desktop.dedupe.index), so the work grows with the groups, not with
    the square of the book."""
    _entity(entity)
    index.refresh(store, progress=(lambda d, n: progress("index", d, n)) if progress else None)
    book = _PairBook()
    lo, hi = f"{entity}:", f"{entity};"
    # The shared keys, counted in one pass over the key index (a temporary table: the
    # progress total, the groups too big to compare, and the join below all read it).
    cur = store.conn.cursor()
    cur.row_factory = None  # plain tuples: millions of rows
    cur.execute("DROP TABLE IF EXISTS temp.dedupe_shared")
    cur.execute("CREATE TEMP TABLE dedupe_shared AS SELECT key, count(*) AS n FROM dedupe_key "
                "WHERE key > ? AND key < ? GROUP BY key HAVING n > 1", (lo, hi))
    total, skipped = (int(v or 0) for v in cur.execute(
        "SELECT count(*), sum(n > ?) FROM temp.dedupe_shared", (SCAN_GROUP_LIMIT,)).fetchone())
    rows = cur.execute(
        f"SELECT k.key, k.rowid, {', '.join('d.' + c for c in index.DOC_COLUMNS.split(', '))} "
        # CROSS JOIN keeps the shared keys the outer loop: each key's rows come
        # together, without sorting millions of rows
        "FROM temp.dedupe_shared s CROSS JOIN dedupe_key k ON k.key = s.key "
        "LEFT JOIN dedupe_doc d ON d.rowid = k.rowid WHERE s.n <= ?",
        (SCAN_GROUP_LIMIT,))
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
            _name_group(book, [m for m in members if m[_CORE]], threshold, kind,
                        current[len(lo) + 2:])
        done += 1
        if progress and done % 5000 == 0:
            progress("compare", done, total)

    for row in rows:
        if row[0] != current:
            close_group()
            current, members = row[0], []
        members.append(row)
    close_group()
    cur.execute("DROP TABLE IF EXISTS temp.dedupe_shared")
    if progress:
        progress("compare", total, total)
    return ScanResult(_named_pairs(store, entity, book), skipped)


def _named_pairs(store: Store, entity: str, book: _PairBook) -> list[Pair]:
    mask = (1 << index.RID_BITS) - 1
    rids = sorted({r & mask for pair in book.pairs for r in pair})
    title = store.repo(entity).entity.title_field
    names: dict[int, tuple[str, str]] = {}
    cur = store.conn.cursor()
    cur.row_factory = None
    if len(rids) > 50_000:  # most of the book: one pass over the table beats lookups
        wanted = set(rids)
        for rid, rec_id, name in cur.execute(
                f'SELECT rid, id, "{title}" FROM "{entity}" WHERE deleted = 0'):
            if rid in wanted:
                names[rid] = (rec_id, name or "")
    for start in range(0, len(rids) if len(rids) <= 50_000 else 0, 900):
        part = rids[start:start + 900]
        for rid, rec_id, name in cur.execute(
                f'SELECT rid, id, "{title}" FROM "{entity}" WHERE deleted = 0 AND rid IN '
                f'({",".join("?" * len(part))})', part):
            names[rid] = (rec_id, name or "")
    out = []
    for (x, y), (name_score, reasons) in book.pairs.items():
        a, b = names.get(x & mask), names.get(y & mask)
        if a is None or b is None:
            continue
        ordered = tuple(r for r in REASONS if r in reasons)
        score = name_score if ordered == ("name",) else 100.0
        if b[0] < a[0]:  # by id, not by local row: every device lists a pair the same way
            a, b = b, a
        out.append(Pair(a[0], b[0], a[1], b[1], round(score, 1), ordered))
    out.sort(key=lambda p: (-p.score, p.a, p.b))
    return out
