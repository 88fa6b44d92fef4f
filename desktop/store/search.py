"""One search box over accounts and contacts: any part of a Chinese or English name,
pinyin and its initials, phone digits in any formatting, email, WeChat id, credit code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.store.textindex import BIGRAM_END, is_cjk, normalize_query

if TYPE_CHECKING:
    from desktop.store.store import Store

CANDIDATES = 400  # matches ranked per query; a broad query ("公司") is cut here
_PHONEISH = re.compile(r"^[\d\s+()\-.]+$")


@dataclass(frozen=True)
class SearchOutcome:
    """The hits of one query, and whether every record had its search document when it
    ran. While the index builder works (desktop.store.indexer), records without one are
    found by name only, so pinyin, initials and phone digits may miss some."""

    hits: list[SearchHit]
    complete: bool


@dataclass(frozen=True)
class SearchHit:
    entity: str
    id: str
    title: str
    subtitle: str
    score: float


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH for a normalised query, or None when the query is too short for
    the index (single characters), which then uses a bounded scan."""
    if _PHONEISH.match(query) and sum(c.isdigit() for c in query) >= 3:
        digits = re.sub(r"\D", "", query)
        return f"terms : {_fts_string(digits)}"
    if len(query) >= 3:
        parts = [p for p in query.split() if p]
        if all(len(p) >= 3 for p in parts):
            return " AND ".join(_fts_string(p) for p in parts)
        return _fts_string(query)
    if len(query) == 2 and is_cjk(query):
        return f"bi : {_fts_string(query + BIGRAM_END)}"
    return None


# `_score` in SQL, so ranking the candidates and keeping the best `limit` runs in SQLite
# (a broad query has hundreds); tests/store holds the two equal.
_SCORE_SQL = ("(CASE WHEN n = :q THEN 4.0 WHEN substr(n, 1, :qlen) = :q THEN 3.0 "
              "WHEN instr(n, :q) > 0 THEN 2.0 ELSE 1.0 END) + 1.0 / (1 + length(n))")


def search(store: Store, text: str, *, limit: int = 20,
           entities: tuple[str, ...] = ("account", "contact")) -> list[SearchHit]:
    return search_outcome(store, text, limit=limit, entities=entities).hits


def search_outcome(store: Store, text: str, *, limit: int = 20,
                   entities: tuple[str, ...] = ("account", "contact")) -> SearchOutcome:
    query = normalize_query(text)
    complete = store.conn.execute("SELECT 1 FROM search_backlog LIMIT 1").fetchone() is None
    if not query:
        return SearchOutcome([], complete)
    expr = match_expression(query)
    conn = store.conn
    by_number = {store.repo(e).number: store.repo(e) for e in entities}
    params = {"q": query, "qlen": len(query), "limit": limit, "cand": CANDIDATES}
    if expr is not None:
        source = "SELECT rowid FROM search_fts WHERE search_fts MATCH :expr LIMIT :cand"
        params["expr"] = expr
    else:
        source = (r"SELECT rowid FROM search_doc WHERE name LIKE :like ESCAPE '\' "
                  r"OR terms LIKE :like ESCAPE '\' LIMIT :cand")
        params["like"] = "%" + query.replace("%", r"\%").replace("_", r"\_") + "%"
    numbers = ", ".join(str(n) for n in by_number)
    ranked: list[tuple[float, int]] = [(-score, rowid) for rowid, score in conn.execute(
        f"SELECT rowid, {_SCORE_SQL} AS score FROM "
        f"(SELECT rowid, coalesce(name, '') AS n FROM search_doc "
        f"WHERE rowid IN ({source})) WHERE (rowid >> 40) IN ({numbers}) "
        f"ORDER BY score DESC, rowid LIMIT :limit",
        params)]
    unindexed = [] if complete else _unindexed_matches(store, query, by_number)
    if unindexed:
        ranked = sorted(
            ranked + [(-_score(query, name or ""), rowid) for rowid, name in unindexed])[:limit]
    found: dict[int, Any] = {}
    for number in {rowid >> 40 for _, rowid in ranked}:  # one query per entity, not one per hit
        rids = [rowid & _RID_MASK for _, rowid in ranked if rowid >> 40 == number]
        for row in conn.execute(f'SELECT * FROM "{by_number[number].entity.name}" WHERE rid IN '
                                f'({", ".join("?" * len(rids))})', rids):
            found[(number << 40) | row["rid"]] = row
    hits: list[SearchHit] = []
    for neg_score, rowid in ranked:
        repo = by_number[rowid >> 40]
        row = found.get(rowid)
        if row is None or row["deleted"]:
            continue
        hits.append(SearchHit(repo.entity.name, row["id"], row[repo.entity.title_field] or "",
                              _subtitle(repo.entity.name, row), -neg_score))
    return SearchOutcome(hits, complete)


_RID_MASK = (1 << 40) - 1


def _unindexed_matches(
    store: Store, query: str, by_number: dict[int, Any],
) -> list[tuple[int, str]]:
    """Records imported moments ago whose search documents are not built yet: a bounded
    scan by name, so a fresh import is findable at once."""
    like = "%" + query.replace("%", r"\%").replace("_", r"\_") + "%"
    out: list[tuple[int, str]] = []
    for number, repo in by_number.items():
        title = repo.entity.title_field
        for rid, name in store.conn.execute(
                f'SELECT rid, "{title}" FROM "{repo.entity.name}" WHERE rid IN '
                "(SELECT rowid - ? FROM search_backlog WHERE rowid BETWEEN ? AND ?) "
                f'AND lower("{title}") LIKE ? ESCAPE \'\\\' LIMIT ?',
                (number << 40, number << 40, (number << 40) + (1 << 40) - 1, like, CANDIDATES)):
            out.append(((number << 40) | rid, normalize_query(name or "")))
    return out


def _score(query: str, name: str) -> float:
    """Exact name, then name prefix, then name substring, then other fields (pinyin,
    phone, email); shorter names first within a tier."""
    if name == query:
        tier = 4.0
    elif name.startswith(query):
        tier = 3.0
    elif query in name:
        tier = 2.0
    else:
        tier = 1.0
    return tier + 1.0 / (1 + len(name))


def _subtitle(entity: str, row: object) -> str:
    import json

    r = row  # sqlite3.Row
    if entity == "account":
        parts = [r["region"], r["industry"], r["phone"]]  # type: ignore[index]
    else:
        phones = json.loads(r["phones"]) if r["phones"] else []  # type: ignore[index]
        parts = [r["title"], phones[0] if phones else None, r["email"]]  # type: ignore[index]
    return " · ".join(p for p in parts if p)
