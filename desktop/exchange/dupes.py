"""The duplicate check of an import: the matcher of desktop.dedupe (the same keys,
scores and vetoes as `dedupe.service.check`), arranged for thousands of rows in a row.

A check while typing reads, for each key of the record, the records that share it and
their parsed names; an import asks the same questions for every row, and rows share
keys (a brand's first characters, a city's pinyin): here what was read is kept for the
rest of the import (bounded), raw cursors skip the row objects, and the brands only
near by their edges are sorted out by one rapidfuzz cdist per row before the rest of
any name is read and parsed. Accounts only; contacts use `dedupe.service.check` as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
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
_PREFILTER_SLACK = 15  # as dedupe.service: a short brand gains points as a whole name
CACHE_KEYS = 200_000  # keys remembered (then forgotten all at once)
CACHE_DOCS = 400_000  # parsed names remembered


class AccountMatcher:
    def __init__(self, store: Store, threshold: float) -> None:
        self.store = store
        self.threshold = threshold
        self.cur = store.conn.cursor()
        self.cur.row_factory = None
        self.number = store.repo("account").number
        self.keys: dict[str, tuple[int, ...]] = {}
        self.cores: dict[int, str | None] = {}  # brands as read from dedupe_doc
        self.docs: dict[int, tuple[NameParts, str | None]] = {}  # parsed, when compared

    def _rows_of(self, keys: set[str]) -> dict[str, tuple[int, ...]]:
        out: dict[str, tuple[int, ...]] = {}
        missing = []
        for k in keys:
            got = self.keys.get(k)
            if got is None:
                missing.append(k)
            else:
                out[k] = got
        if len(self.keys) > CACHE_KEYS:
            self.keys.clear()
        for k in missing:
            rows = tuple(r[0] for r in self.cur.execute(
                "SELECT rowid FROM dedupe_key WHERE key = ? LIMIT ?", (k, KEY_CANDIDATES)))
            self.keys[k] = out[k] = rows
        return out

    def _read(self, rowids: list[int]) -> None:
        """Read the brands of these records (kept for the rest of the import); the rest
        of a name is read and parsed only when it is compared in full (`_parsed`): most
        candidates are dropped by the prefilter on their brand alone."""
        missing = [r for r in rowids if r not in self.cores]
        if len(self.cores) > CACHE_DOCS:
            self.cores.clear()
            self.docs.clear()
        for start in range(0, len(missing), 900):
            part = missing[start:start + 900]
            self.cores.update(dict.fromkeys(part))
            self.cores.update(self.cur.execute(
                f"SELECT rowid, core FROM dedupe_doc "
                f"WHERE rowid IN ({','.join('?' * len(part))})", part))

    def _parsed(self, rowid: int) -> tuple[NameParts, str | None] | None:
        got = self.docs.get(rowid)
        if got is None:
            doc = self.cur.execute(f"SELECT {index.DOC_COLUMNS} FROM dedupe_doc WHERE rowid = ?",
                                   (rowid,)).fetchone()
            if doc is None:  # re-keyed since its brand was read: it is compared next time
                return None
            got = self.docs[rowid] = (index.parts_of_doc(doc), doc[5])
        return got

    def find(self, me: Probe, keys: set[str]) -> dict[str, Any] | None:
        """The best probable duplicate of `me` in the book, as a candidate
        ({"id", "name", "score", "reasons"}), or None."""
        kinds: dict[int, set[str]] = {}
        for key, rows in self._rows_of(keys).items():
            kind = key[8]  # "account:<kind>:..."
            for rowid in rows:
                kinds.setdefault(rowid, set()).add(kind)
        if not kinds:
            return None
        matches: dict[int, tuple[float, set[str]]] = {}
        for rowid, k in kinds.items():
            exact = {_EXACT_KINDS[x] for x in k if x in _EXACT_KINDS}
            if exact:
                matches[rowid] = (100.0, exact)
        named = [r for r, k in kinds.items() if k & _NAME_KINDS]
        if named and me.parts is not None:
            self._read(named)
            cores = self.cores
            named = [r for r in named if cores.get(r) is not None]
            edge_only = [r for r in named if not kinds[r] - _EDGE_KINDS]
            if edge_only:
                near = process.cdist(
                    [me.parts.core], [cores[r] for r in edge_only],
                    scorer=fuzz.ratio, score_cutoff=self.threshold - _PREFILTER_SLACK,
                    dtype=np.uint8)[0]
                dropped = {r for r, s in zip(edge_only, near, strict=True) if not s}
                named = [r for r in named if r not in dropped]
            for rowid in named:
                parsed = self._parsed(rowid)
                if parsed is None:
                    continue
                parts, uscc = parsed
                codes_differ = bool(me.uscc and uscc and me.uscc != uscc)
                score = company_name_score(me.parts, parts, codes_differ=codes_differ)
                if score >= self.threshold:
                    old = matches.get(rowid, (0.0, set()))
                    matches[rowid] = (max(old[0], score), old[1] | {"name"})
        if not matches:
            return None
        mask = (1 << index.RID_BITS) - 1
        ranked = sorted(matches.items(), key=lambda m: (-(100.0 if m[1][1] - {"name"}
                                                           else m[1][0]), m[0]))
        for rowid, (score, reasons) in ranked:
            row = self.cur.execute("SELECT id, name FROM account WHERE rid = ? AND deleted = 0",
                                   (rowid & mask,)).fetchone()
            if row is not None:
                ordered = [r for r in REASONS if r in reasons]
                return {"id": row[0], "name": row[1] or "", "reasons": ordered,
                        "score": score if ordered == ["name"] else 100.0}
        return None

    def close(self) -> None:
        self.cur.close()
