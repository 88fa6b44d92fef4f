"""The duplicate check of an import: the matcher of desktop.dedupe (the same keys,
scores and vetoes as `dedupe.service.check`), arranged for thousands of rows in a row.

A check while typing reads, for each key of the record, the records that share it and
their parsed names; an import asks the same questions for every row, and rows share
keys (a brand's first characters, a city's pinyin): here what was read is kept for the
rest of the import (bounded), raw cursors skip the row objects, and the brands only
near by their edges are sorted out by one rapidfuzz cdist per row before the rest of
any name is read and parsed. Accounts only; contacts use `dedupe.service.check` as it is."""

from __future__ import annotations

from collections.abc import Collection
from itertools import chain
from typing import TYPE_CHECKING, Any, cast

import orjson
from rapidfuzz import fuzz, process

from desktop.dedupe import index
from desktop.dedupe.match import REASONS, Probe, company_name_score
from desktop.dedupe.service import KEY_CANDIDATES

if TYPE_CHECKING:
    from desktop.dedupe.names import NameParts
    from desktop.store.store import Store

_EXACT_KINDS = {"p": "phone", "u": "uscc", "m": "email"}
_NAME_KINDS = frozenset("nbety")
_EDGE_KINDS = frozenset("be")
_STRONG_KINDS = _NAME_KINDS - _EDGE_KINDS
_PREFILTER_SLACK = 15  # as dedupe.service: a short brand gains points as a whole name
CACHE_KEYS = 200_000  # keys remembered (then forgotten all at once)
CACHE_DOCS = 400_000  # parsed names remembered
# a key's rows times its records up to which the prefilter scores pairs one by one:
# cdist's own cost is more than a few pairs' (its uint8 score is nonzero exactly when
# fuzz.ratio reaches the cutoff: 3.6M pairs of the benchmark's brands checked)
_PAIRS_BY_HAND = 12
_BATCH = 5000  # keys or records per statement (a JSON array, not bound variables)


class AccountMatcher:
    def __init__(self, store: Store, threshold: float) -> None:
        self.store = store
        self.threshold = threshold
        self.cur = store.conn.cursor()
        self.cur.row_factory = None
        self.number = store.repo("account").number
        self.keys: dict[str, tuple[int, ...]] = {}
        self.cores: dict[int, str] = {}  # brands as read from dedupe_doc
        self.coreless: set[int] = set()  # read, with no brand (or no dedupe_doc row)
        self.read_all = False  # the brands of every row `find` is asked about are read
        # per row `prefetch` was told about (by id of its probe): the records of its edge
        # keys whose brand is near enough to its own (the prefilter, run per key)
        self.near: dict[int, set[int]] = {}
        self.docs: dict[int, tuple[NameParts, str | None]] = {}  # parsed, when compared
        # per edge key, its records that have a brand and those brands, as the
        # prefilter's cdist takes them (made once per key, not once per chunk)
        self.edge_cores: dict[str, tuple[list[int], list[str]]] = {}
        self.read_keys: set[str] = set()  # name keys whose records' brands are read

    def prefetch(self, probes: list[tuple[Probe, set[str]]]) -> None:
        """Read, for a whole chunk of rows at once, what `find` will ask about them: the
        records of every key (up to KEY_CANDIDATES each, as a check reads them) in one
        statement, then the brands of the records that share a name key with a row."""
        wanted = {k for _, keys in probes for k in keys}
        missing = [k for k in wanted if k not in self.keys]
        if len(self.keys) + len(missing) > CACHE_KEYS:
            self.keys.clear()
            self.edge_cores.clear()
            self.read_keys.clear()
            missing = list(wanted)
        self._fetch_keys(missing)
        # the brands of the records of the chunk's name keys, but of each key once: a
        # brand's last characters (the `e` keys, a few hundred in a book, 200 records
        # each) come back in every chunk
        name_keys = {k for me, keys in probes if me.parts is not None
                     for k in keys if k[8] in _NAME_KINDS}
        new = name_keys - self.read_keys
        named: set[int] = set().union(*map(self.keys.__getitem__, new))
        if len(self.cores) + len(named) > CACHE_DOCS:  # forget now, not inside `_read`
            self._forget_docs()
            new = name_keys
            named = set().union(*map(self.keys.__getitem__, new))
        self._read(named)
        self.read_keys |= new
        self._prefilter(probes)
        self.read_all = True  # until `find` is asked about rows it was not told of

    def _prefilter(self, probes: list[tuple[Probe, set[str]]]) -> None:
        """The prefilter of `find` on the brands of the records that share only a
        brand's edge with a row, for the whole chunk: one rapidfuzz cdist per edge key
        (the rows that have it against its records), not one per row. A pair's score
        does not depend on the batch, so `find` keeps the same records. Then the whole
        names of the records `find` will compare are read and parsed, in one statement
        a 5,000 (not one a row)."""
        import numpy as np  # here: a plain command must not load numpy (test_cli)

        self.near = {}
        users: dict[str, list[Probe]] = {}
        for me, keys in probes:
            if me.parts is not None:
                self.near[id(me)] = set()
                for k in keys:
                    if k[8] in _EDGE_KINDS and self.keys[k]:
                        users.setdefault(k, []).append(me)
        cores = self.cores
        made = self.edge_cores
        ratio = fuzz.ratio
        cutoff = self.threshold - _PREFILTER_SLACK
        for key, mine in users.items():
            got = made.get(key)
            if got is None:
                rows = list(self.keys[key])
                found = list(map(cores.get, rows))  # in C: most records have a brand
                if None in found:
                    kept = [(r, b) for r, b in zip(rows, found, strict=True) if b is not None]
                    rows, found = [r for r, _ in kept], [b for _, b in kept]
                got = made[key] = (rows, cast(list[str], found))
            rows, brands = got
            if not rows:
                continue
            if len(mine) * len(rows) <= _PAIRS_BY_HAND:  # most keys of a brand's start
                for me in mine:
                    core = me.parts.core  # type: ignore[union-attr]
                    near = self.near[id(me)]
                    for r, brand in zip(rows, brands, strict=True):
                        if ratio(core, brand, score_cutoff=cutoff):  # as cdist's nonzero
                            near.add(r)
                continue
            scores = process.cdist(
                [me.parts.core for me in mine],  # type: ignore[union-attr]
                brands, scorer=fuzz.ratio,
                score_cutoff=cutoff, dtype=np.uint8)
            for i, j in zip(*np.nonzero(scores), strict=True):
                self.near[id(mine[i])].add(rows[j])
        # the whole names `find` will compare: these and the brands' records, in one go
        compared: set[int] = set().union(*self.near.values())
        for me, keys in probes:
            if me.parts is not None:
                for k in keys:
                    if k[8] in _STRONG_KINDS:
                        compared.update(self.keys[k])
        self._parse(list(compared - self.coreless))

    def reset(self) -> None:
        """The rows `prefetch` was told about are done."""
        self.read_all = False
        self.near = {}

    def _fetch_keys(self, keys: list[str]) -> None:
        keys = sorted(keys)  # neighbours in the index: fewer of its pages read (-12%)
        for start in range(0, len(keys), _BATCH):
            part = keys[start:start + _BATCH]
            self.keys.update(dict.fromkeys(part, ()))
            for key, rows in self.cur.execute(
                    "SELECT j.value, (SELECT group_concat(rowid) FROM (SELECT rowid FROM "
                    "dedupe_key WHERE key = j.value LIMIT ?)) FROM json_each(?) j",
                    (KEY_CANDIDATES, orjson.dumps(part).decode())):
                if rows:
                    self.keys[key] = tuple(map(int, rows.split(",")))

    def _rows_of(self, keys: set[str]) -> dict[str, tuple[int, ...]]:
        missing = [k for k in keys if k not in self.keys]
        if missing:  # a row `prefetch` was not told about
            if len(self.keys) > CACHE_KEYS:
                self.keys.clear()
                self.edge_cores.clear()
                self.read_keys.clear()
                missing = list(keys)
            self._fetch_keys(missing)
        return {k: self.keys[k] for k in keys}

    def _read(self, rowids: Collection[int]) -> None:
        """Read the brands of these records (kept for the rest of the import); the rest
        of a name is read and parsed only when it is compared in full (`_parse`): most
        candidates are dropped by the prefilter on their brand alone."""
        cores = self.cores
        missing = list(set(rowids).difference(cores).difference(self.coreless))  # in C
        if not missing:
            return
        if len(cores) + len(missing) > CACHE_DOCS:
            self._forget_docs()
            missing = list(rowids)
        for start in range(0, len(missing), _BATCH):
            part = missing[start:start + _BATCH]
            found = dict(self.cur.execute(
                "SELECT rowid, core FROM dedupe_doc WHERE rowid IN "
                "(SELECT value FROM json_each(?)) AND core IS NOT NULL",
                (orjson.dumps(part).decode(),)))
            cores.update(found)
            if len(found) < len(part):
                self.coreless.update(r for r in part if r not in found)

    def _forget_docs(self) -> None:
        self.cores.clear()
        self.docs.clear()
        self.coreless.clear()
        self.edge_cores.clear()
        self.read_keys.clear()

    def _parse(self, rowids: list[int]) -> None:
        """Read and parse the whole names of these records (those the prefilter kept)."""
        missing = [r for r in rowids if r not in self.docs]
        for start in range(0, len(missing), _BATCH):
            part = missing[start:start + _BATCH]
            for doc in self.cur.execute(
                    f"SELECT rowid, {index.DOC_COLUMNS} FROM dedupe_doc WHERE rowid IN "
                    "(SELECT value FROM json_each(?))", (orjson.dumps(part).decode(),)):
                self.docs[doc[0]] = (index.parts_of_doc(doc[1:]), doc[6])

    def find(self, me: Probe, keys: set[str]) -> dict[str, Any] | None:
        """The best probable duplicate of `me` in the book, as a candidate
        ({"id", "name", "score", "reasons"}), or None."""
        exact: dict[int, set[str]] = {}
        strong: set[int] = set()  # sharing a brand, its words or its pinyin
        edges: list[tuple[int, ...]] = []  # the records of its keys of a brand's edges
        other: set[int] = set()  # sharing any key that is not an edge
        for key, rows in self._rows_of(keys).items():
            if not rows:
                continue
            kind = key[8]  # "account:<kind>:..."
            if kind in _EDGE_KINDS:
                edges.append(rows)  # a set of them only when needed (up to 4 x 200)
                continue
            other.update(rows)
            if kind in _EXACT_KINDS:
                reason = _EXACT_KINDS[kind]
                for rowid in rows:
                    exact.setdefault(rowid, set()).add(reason)
            elif kind in _NAME_KINDS:
                strong.update(rows)
        if not exact and not edges and not other:
            return None
        matches: dict[int, tuple[float, set[str]]] = {r: (100.0, k) for r, k in exact.items()}
        if (strong or edges) and me.parts is not None:
            near = self.near.get(id(me)) if self.read_all else None
            if near is not None:  # `prefetch` read them all and ran the prefilter
                # strong | (edge & other): `other` is mostly empty for a new row
                shared = other.intersection(chain.from_iterable(edges)) if other else other
                named = ((strong | shared) - self.coreless) | near
                edge_only = []
            else:
                edge: set[int] = set().union(*edges)
                candidates = strong | edge
                if not self.read_all:
                    self._read(candidates)
                named = candidates - self.coreless
                edge_only = list(edge - other - self.coreless)
            if edge_only:
                import numpy as np  # here: a plain command must not load numpy (test_cli)

                near = process.cdist(
                    [me.parts.core], list(map(self.cores.__getitem__, edge_only)),
                    scorer=fuzz.ratio, score_cutoff=self.threshold - _PREFILTER_SLACK,
                    dtype=np.uint8)[0]
                named.difference_update(np.asarray(edge_only)[near == 0].tolist())
            self._parse(list(named))
            docs = self.docs
            for rowid in named:
                parsed = docs.get(rowid)
                if parsed is None:  # re-keyed since its brand was read: compared next time
                    continue
                parts, uscc = parsed
                codes_differ = bool(me.uscc and uscc and me.uscc != uscc)
                score = company_name_score(me.parts, parts, codes_differ=codes_differ)
                if score >= self.threshold:
                    old = matches.get(rowid, (0.0, set()))
                    matches[rowid] = (max(old[0], score), old[1] | {"name"})
        if not matches:
            return None
        # as dedupe.service.check: the live ones, best first, then by name and id
        mask = (1 << index.RID_BITS) - 1
        best = None
        for rid, rec_id, name in self.cur.execute(
                "SELECT rid, id, name FROM account WHERE deleted = 0 AND rid IN "
                "(SELECT value FROM json_each(?))",
                (orjson.dumps([r & mask for r in matches]).decode(),)):
            score, reasons = matches[(self.number << index.RID_BITS) | rid]
            ordered = [r for r in REASONS if r in reasons]
            candidate = {"id": rec_id, "name": name or "", "reasons": ordered,
                         "score": score if ordered == ["name"] else 100.0}
            rank = (-candidate["score"], candidate["name"], rec_id)
            if best is None or rank < best[0]:
                best = (rank, candidate)
        return None if best is None else best[1]

    def close(self) -> None:
        self.cur.close()
