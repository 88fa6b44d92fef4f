"""Probable duplicates as the server sees them: the whole team's book, not one laptop's.

Devices check their own store (desktop.dedupe); a rep's laptop holds only what its user
may see, so two reps who each create the same customer never see each other's record.
The server sees every record: it keys each account and contact that changed (the same
blocking keys and the same `compare` as the devices, so both agree on what a duplicate
is) and keeps the pairs it finds. A manager, or an outside system, lists the pairs whose
two records they may both see.

The push path is not slowed: records are checked afterwards, in short transactions, in
the order of their versions, each transaction sized to take about 50 ms (`Checker.BATCH_S`;
a cursor in `settings`; versions are handed out in commit
order, see server.push, so none is skipped). `catch_up` runs from a background thread of
the server while no push or pull is being served (a first sync of 300,000 rows must not
share the process with it), and before each listing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from rapidfuzz import fuzz

from desktop.dedupe.index import keys_of
from desktop.dedupe.match import DEFAULT_THRESHOLD, ENTITIES, Probe, compare, probe
from desktop.schema import DELETED, MERGED_INTO, SHARED_OWNER
from server import tables as t
from server.access import visible_owners
from server.auth import Principal
from server.db import is_sqlite, read_tx, write_tx
from server.errors import now_iso

log = logging.getLogger(__name__)

CURSOR_KEY = "dedupe_cursor"
BATCH = 200  # records keyed per write transaction: a push waits at most for one batch
KEY_CANDIDATES = 200  # records read per shared key: a key shared by thousands is cut here
MIN_THRESHOLD = 50.0
_EDGE_KINDS = frozenset({"b", "e"})
# The bare brands' ratio may be this far below the threshold: the full score also judges a
# short brand as part of its whole name (desktop.dedupe.service uses the same slack).
_PREFILTER_SLACK = 15


@dataclass(frozen=True)
class ServerPair:
    entity: str
    a: str
    b: str
    a_name: str
    b_name: str
    score: float
    reasons: tuple[str, ...]
    found_at: str

    def as_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "a": self.a, "b": self.b, "a_name": self.a_name,
                "b_name": self.b_name, "score": self.score, "reasons": list(self.reasons),
                "found_at": self.found_at}


def _values(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: w.get("value") for k, w in fields.items() if isinstance(w, dict)}


def _live(values: Mapping[str, Any]) -> bool:
    return not values.get(DELETED) and not values.get(MERGED_INTO)


def thresholds(conn: sa.Connection) -> dict[str, float]:
    """Per entity, the name similarity of the admin's active duplicate rule (the newest
    one when several are), else the customers' 92%."""
    out = dict.fromkeys(ENTITIES, DEFAULT_THRESHOLD)
    newest: dict[str, str] = {}
    for fields, updated in conn.execute(
            sa.select(t.records.c.fields, t.records.c.updated_at)
            .where(t.records.c.entity == "dedupe_rule")):
        v = _values(orjson.loads(fields))
        entity, value = v.get("entity"), v.get("threshold")
        if entity not in out or v.get(DELETED) or v.get("active") is False:
            continue
        if entity in newest and newest[entity] > updated:
            continue
        newest[entity] = updated
        if isinstance(value, (int, float)):
            out[entity] = max(MIN_THRESHOLD, min(100.0, float(value)))
    return out


def _cursor(conn: sa.Connection, *, lock: bool) -> int:
    query = sa.select(t.settings.c.value).where(t.settings.c.key == CURSOR_KEY)
    if lock and not is_sqlite(conn.engine):
        query = query.with_for_update()  # one checker at a time across server processes
    value = conn.execute(query).scalar()
    if value is None:  # seeded by migration 0005; only a hand-emptied settings table lacks it
        conn.execute(t.settings.insert().values(key=CURSOR_KEY, value="0"))
        return 0
    top = conn.execute(sa.select(t.counter.c.version).where(t.counter.c.id == 1)).scalar()
    if int(value) > int(top or 0):  # the records were emptied or restored from a backup
        return 0
    return int(value)


def pending(engine: sa.Engine) -> int:
    """Accounts and contacts changed since the last check."""
    with read_tx(engine) as conn:
        cursor = _cursor_read(conn)
        return int(conn.execute(
            sa.select(sa.func.count()).select_from(t.records)
            .where(t.records.c.version > cursor, t.records.c.entity.in_(ENTITIES))).scalar_one())


def _cursor_read(conn: sa.Connection) -> int:
    value = conn.execute(
        sa.select(t.settings.c.value).where(t.settings.c.key == CURSOR_KEY)).scalar()
    return int(value) if value is not None else 0


def catch_up(engine: sa.Engine, *, max_rows: int | None = None) -> int:
    """Key and check the accounts and contacts changed since the last call, BATCH per
    transaction, at most `max_rows` (None: all). Returns how many were checked."""
    done = 0
    while max_rows is None or done < max_rows:
        n = _one_batch(engine, BATCH if max_rows is None else min(BATCH, max_rows - done))
        if n == 0:
            break
        done += n
    return done


def _one_batch(engine: sa.Engine, limit: int) -> int:
    with write_tx(engine) as conn:
        cursor = _cursor(conn, lock=True)
        rows = conn.execute(
            sa.select(t.records.c.entity, t.records.c.record_id, t.records.c.fields,
                      t.records.c.version)
            .where(t.records.c.version > cursor, t.records.c.entity.in_(ENTITIES))
            .order_by(t.records.c.version).limit(limit)).all()
        if not rows:
            return 0
        limits = thresholds(conn)
        batch: dict[str, dict[str, Any]] = {}
        for entity, record_id, fields, _version in rows:
            batch.setdefault(entity, {})[record_id] = _values(orjson.loads(fields))
        for entity, records in batch.items():
            _check(conn, entity, records, limits[entity])
        conn.execute(t.settings.update().where(t.settings.c.key == CURSOR_KEY)
                     .values(value=str(int(rows[-1][3]))))
        return len(rows)


class _Sql:
    """Plain DBAPI statements: a batch runs a few per record, and SQLAlchemy's
    expression building cost ~10x the query itself here."""

    def __init__(self, conn: sa.Connection) -> None:
        self.mark = "?" if is_sqlite(conn.engine) else "%s"
        self.cursor = conn.connection.cursor()  # the transaction's own DBAPI connection

    def __call__(self, sql: str, params: Any = ()) -> list[Any]:
        sql = sql.replace("?", self.mark)
        if isinstance(params, list):
            self.cursor.executemany(sql, params)
            return []
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall()) if self.cursor.description else []

    def marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)


def _check(conn: sa.Connection, entity: str, records: dict[str, dict[str, Any]],
           threshold: float) -> None:
    """Re-key these records of one entity and replace their pairs with what they match now."""
    sql = _Sql(conn)
    ids = sorted(records)
    for part in _chunks(ids):
        sql(f"DELETE FROM dedupe_keys WHERE entity = ? AND record_id IN ({sql.marks(len(part))})",
            (entity, *part))
    probes = {rid: probe(entity, v) for rid, v in records.items() if _live(v)}
    keys = {rid: sorted(keys_of(pr)) for rid, pr in probes.items()}
    key_rows = [(entity, k, rid) for rid, ks in keys.items() for k in ks]
    if key_rows:
        sql("INSERT INTO dedupe_keys (entity, key, record_id) VALUES (?, ?, ?)", key_rows)
    wanted: dict[str, dict[str, set[str]]] = {}  # record -> candidate -> key kinds shared
    for rid, ks in keys.items():
        found: dict[str, set[str]] = {}
        for key in ks:
            kind = key[len(entity) + 1]
            for (other_id,) in sql(
                    "SELECT record_id FROM dedupe_keys WHERE entity = ? AND key = ? LIMIT ?",
                    (entity, key, KEY_CANDIDATES + 1)):
                found.setdefault(other_id, set()).add(kind)
        found.pop(rid, None)
        wanted[rid] = found
    others = dict(_probes(sql, entity, set().union(*wanted.values()) - probes.keys()))
    others.update(probes)
    pairs: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}
    for rid, found in wanted.items():
        mine = probes[rid]
        for other_id, kinds in found.items():
            other = others.get(other_id)
            if other is None or (kinds <= _EDGE_KINDS and not _near(mine, other, threshold)):
                continue
            match = _compare(mine, other, threshold)
            if match:
                pair = (rid, other_id) if rid < other_id else (other_id, rid)
                pairs[pair] = max(pairs.get(pair, match), match)
    # The pairs of these records are what was just found: a changed phone or name ends one.
    dismissed: set[tuple[str, str]] = set()
    for part in _chunks(ids):
        m = sql.marks(len(part))
        for side in ("a", "b"):
            dismissed.update((a, b) for a, b in sql(
                f"SELECT a, b FROM dedupe_pairs WHERE entity = ? AND dismissed = ? "
                f"AND {side} IN ({m})", (entity, True, *part)))
            sql(f"DELETE FROM dedupe_pairs WHERE entity = ? AND dismissed = ? AND {side} IN ({m})",
                (entity, False, *part))
    now = now_iso()
    fresh = [(entity, a, b, score, json.dumps(list(why)), False, now)
             for (a, b), (score, why) in pairs.items() if (a, b) not in dismissed]
    if fresh:
        sql("INSERT INTO dedupe_pairs (entity, a, b, score, reasons, dismissed, found_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", fresh)
    kept = [(score, json.dumps(list(why)), entity, a, b)
            for (a, b), (score, why) in pairs.items() if (a, b) in dismissed]
    if kept:
        sql("UPDATE dedupe_pairs SET score = ?, reasons = ? WHERE entity = ? AND a = ? AND b = ?",
            kept)


def _near(a: Probe, b: Probe, threshold: float) -> bool:
    """Sharing only the first or last characters of a brand (a hot key in a big book): as
    the devices do (desktop.dedupe.service), a fast ratio of the bare brands decides
    whether the full comparison is worth making."""
    if not (a.parts and b.parts):
        return True
    cutoff = threshold - _PREFILTER_SLACK
    return any(fuzz.ratio(x.core, y.core, score_cutoff=cutoff)
               for x in a.parts.readings() for y in b.parts.readings())


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _compare(a: Probe, b: Probe, threshold: float) -> tuple[float, tuple[str, ...]] | None:
    match = compare(a, b, threshold)
    if match is None:
        return None
    reasons = match.reasons
    if a.entity == "contact" and "name" in reasons and (
            not a.account_id or a.account_id != b.account_id):
        reasons = tuple(r for r in reasons if r != "name")  # a name is only alike in one account
        if not reasons:
            return None
        return 100.0, reasons
    return match.score, reasons


_PROBE_CACHE: OrderedDict[tuple[str, str, int], Probe | None] = OrderedDict()
PROBE_CACHE_SIZE = 20_000  # records met again and again as candidates are parsed once


def _probes(sql: _Sql, entity: str, ids: Iterable[str]) -> Iterable[tuple[str, Probe]]:
    cache = _PROBE_CACHE
    for part in _chunks(sorted(ids)):
        for record_id, version in sql(
                f"SELECT record_id, version FROM records WHERE entity = ? "
                f"AND record_id IN ({sql.marks(len(part))})", (entity, *part)):
            key = (entity, record_id, int(version))
            if key in cache:
                cache.move_to_end(key)
                hit = cache[key]
                if hit is not None:
                    yield record_id, hit
                continue
            (fields,) = sql("SELECT fields FROM records WHERE entity = ? AND record_id = ?",
                            (entity, record_id))[0]
            values = _values(orjson.loads(fields))
            made = probe(entity, values) if _live(values) else None
            cache[key] = made
            if len(cache) > PROBE_CACHE_SIZE:
                cache.popitem(last=False)
            if made is not None:
                yield record_id, made


def list_pairs(engine: sa.Engine, p: Principal | None, entity: str, *, limit: int,
               include_dismissed: bool = False) -> tuple[list[ServerPair], int]:
    """The pairs whose two records `p` may both see (None: the server's administrator,
    every pair), best first, and how many records are still waiting to be checked (0:
    the list is complete)."""
    catch_up(engine, max_rows=5 * BATCH)
    waiting = pending(engine)
    with read_tx(engine) as conn:
        visible = visible_owners(conn, p) if p is not None else None
        ra, rb, pr = t.records.alias("ra"), t.records.alias("rb"), t.dedupe_pairs
        query = (sa.select(pr.c.a, pr.c.b, ra.c.fields, rb.c.fields, pr.c.score, pr.c.reasons,
                           pr.c.found_at)
                 .join(ra, (ra.c.entity == pr.c.entity) & (ra.c.record_id == pr.c.a))
                 .join(rb, (rb.c.entity == pr.c.entity) & (rb.c.record_id == pr.c.b))
                 .where(pr.c.entity == entity)
                 .order_by(pr.c.score.desc(), pr.c.a, pr.c.b).limit(limit))
        if not include_dismissed:
            query = query.where(pr.c.dismissed.is_(False))
        if visible is not None:
            owners = sorted(visible | {SHARED_OWNER})
            query = query.where(ra.c.owner.in_(owners), rb.c.owner.in_(owners))
        out = []
        for a, b, fa, fb, score, reasons, found in conn.execute(query):
            va, vb = _values(orjson.loads(fa)), _values(orjson.loads(fb))
            if not (_live(va) and _live(vb)):
                continue  # deleted or merged since it was checked; the next check drops it
            out.append(ServerPair(entity, a, b, str(va.get("name") or ""),
                                  str(vb.get("name") or ""), float(score),
                                  tuple(json.loads(reasons)), found))
    return out, waiting


def dismiss(engine: sa.Engine, p: Principal, entity: str, a: str, b: str) -> bool:
    """Mark a pair "not a duplicate" for everyone (a manager's decision); False when no
    such pair exists that `p` may see both records of."""
    a, b = sorted((a, b))
    with write_tx(engine) as conn:
        visible = visible_owners(conn, p)
        owners = dict(conn.execute(
            sa.select(t.records.c.record_id, t.records.c.owner)
            .where(t.records.c.entity == entity, t.records.c.record_id.in_([a, b]))).all())
        if len(owners) != 2 or (visible is not None and not all(
                o in visible or o == SHARED_OWNER for o in owners.values())):
            return False
        result = conn.execute(
            t.dedupe_pairs.update()
            .where(t.dedupe_pairs.c.entity == entity, t.dedupe_pairs.c.a == a,
                   t.dedupe_pairs.c.b == b)
            .values(dismissed=True))
        return bool(result.rowcount)


class Checker:
    """Checks changed records in the background, a few seconds after they arrive, in
    the pauses between pushes and pulls (`busy()` is called by each)."""

    QUIET_S = 1.0  # no push or pull for this long: the checker may take a batch
    # A batch holds the write lock and, in this process, mostly the GIL: a push or pull
    # that arrives meanwhile waits for it. At a big book one batch of BATCH records cost
    # seconds (its keys are shared by hundreds), and the first push after a quiet spell
    # waited that long; the batch is sized to take about this long instead.
    BATCH_S = 0.05

    def __init__(self, engine: sa.Engine, interval_s: float) -> None:
        self.engine, self.interval_s = engine, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_busy = 0.0

    def busy(self) -> None:
        self._last_busy = time.monotonic()

    def _quiet(self) -> bool:
        return time.monotonic() - self._last_busy >= self.QUIET_S

    def start(self) -> None:
        if self.interval_s <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="dedupe-checker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        size = BATCH
        # The batches write through the driver's own cursor (server.duplicates._Sql), so
        # its errors arrive unwrapped: a deadlock with another writer, the database down.
        dbapi = self.engine.dialect.dbapi
        transient = (sa.exc.SQLAlchemyError, *((dbapi.Error,) if dbapi is not None else ()))
        while not self._stop.wait(self.interval_s):
            try:
                while not self._stop.is_set() and self._quiet():
                    t0 = time.perf_counter()
                    if not _one_batch(self.engine, size):
                        break
                    size = next_batch_size(size, time.perf_counter() - t0, self.BATCH_S)
            except transient as exc:  # rolled back: the same records are checked next time
                log.warning("duplicate check paused: %s", exc)


def next_batch_size(size: int, took_s: float, target_s: float) -> int:
    """The size of the next batch, so that it takes about `target_s`: scaled down at
    once when a batch ran long, doubled (up to BATCH) when it ran under half the time."""
    if took_s > target_s:
        return max(1, int(size * target_s / took_s))
    if took_s < target_s / 2:
        return min(BATCH, size * 2)
    return size
