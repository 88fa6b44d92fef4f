"""Custom field benchmark (issue 24).

    python -m benchmarks.fields --json [--accounts N] [--values N] [--pull-rows N] [--dir DIR]

- add_field_ms: an admin's new field reaching a laptop store of N accounts (default 1M):
  the definition written and installed, its column added (no row rewritten); median of 5
  fields. Also add_field_wal_frames: pages the addition wrote (a rewrite would be ~all).
- type_change_s: `change_type` text -> date on the server (SQLite) over `--values` stored
  values (default 1M), 3% of them not dates (kept aside); with the preview's time.
- pull_rules_ratio: a rep's initial sync (rows/s until every row landed) with 20
  visibility rules in force (hidden and masked fields of accounts, contacts, deals and
  activities) divided by the same without rules, same server and book of `--pull-rows`
  accounts and contacts (default 200,000), best of 3 each (alternating); target >= 0.8.
  Rows/s count the book's rows (a row pulled twice counts once).

The store of N accounts is built once through the real import path and kept in DIR.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks._util import emit, log, peak_rss_mb
from desktop.schema import reset_field_defs
from desktop.store import Store
from desktop.store.fielddefs import add_definition


def build_store(profile: Path, n: int) -> None:
    if (profile / "store.db").exists():
        return
    log(f"importing {n} accounts into {profile}")
    store = Store.open(profile)
    store.repo("account").import_many(
        ({"name": f"上海客户{i:07d}有限公司", "region": "上海", "industry": "制造"}
         for i in range(n)), index=False,
        progress=lambda k: k % 200_000 == 0 and log(f"  {k}"))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def add_field_ms(profile: Path, runs: int = 5) -> dict[str, Any]:
    reset_field_defs()
    store = Store.open(profile)
    times: list[float] = []
    frames: list[int] = []
    stamp = int(time.time())
    for i in range(runs):
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        t = time.perf_counter()
        add_definition(store, {"entity": "account", "name": f"bench_{stamp}_{i}", "type": "text",
                               "label_zh": f"测试字段{i}"})
        times.append((time.perf_counter() - t) * 1000)
        frames.append(int(store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]))
    rows = int(store.conn.execute("SELECT count(*) FROM account").fetchone()[0])
    store.close()
    reset_field_defs()
    return {"add_field_ms": statistics.median(times), "add_field_max_ms": max(times),
            "add_field_wal_frames": max(frames), "store_accounts": rows}


def type_change_s(root: Path, n: int) -> dict[str, Any]:
    from server import fields
    from server.db import open_database

    engine = open_database(f"sqlite:///{root / 'server.db'}")
    fields.add_field(engine, "account", "visit", "text")
    log(f"writing {n} server records with a text value")
    stamp = "1790000000000-0000-benchdevice"
    with engine.begin() as conn:
        rows = []
        for i in range(n):
            value = f"下周{i}" if i % 33 == 0 else f"2026/{1 + i % 12}/{1 + i % 28}"
            doc = {"name": {"value": f"客户{i}", "hlc": stamp}, "owner": {"value": "rita",
                   "hlc": stamp}, "cf_visit": {"value": value, "hlc": stamp}}
            rows.append(("account", f"{i:036d}", "rita", "rita", orjson.dumps(doc).decode(),
                         i + 10, "benchdevice", "2026-01-01T00:00:00Z"))
            if len(rows) == 100_000:
                conn.exec_driver_sql("INSERT INTO records (entity, record_id, owner, created_by, "
                                     "fields, version, origin_device, updated_at) VALUES "
                                     "(?, ?, ?, ?, ?, ?, ?, ?)", rows)
                rows = []
        if rows:
            conn.exec_driver_sql("INSERT INTO records (entity, record_id, owner, created_by, "
                                 "fields, version, origin_device, updated_at) VALUES "
                                 "(?, ?, ?, ?, ?, ?, ?, ?)", rows)
    t = time.perf_counter()
    preview = fields.preview_type_change(engine, "account", "visit", "date")
    preview_s = time.perf_counter() - t
    t = time.perf_counter()
    done = fields.change_type(engine, "account", "visit", "date")
    change_s = time.perf_counter() - t
    assert done["values"] == n and done["kept_aside"] == preview["unconvertible"]
    engine.dispose()
    reset_field_defs()
    return {"type_change_s": change_s, "type_change_preview_s": preview_s,
            "type_change_values": n, "type_change_kept_aside": done["kept_aside"]}


# 20 rules: fields only directors read, the others hidden or masked (desktop.visibility)
BENCH_RULES = {"rules": [
    {"entity": e, "field": f, "readable_by": ["director"], "others": how}
    for e, f, how in [
        ("account", "uscc", "hidden"), ("account", "industry", "hidden"),
        ("account", "region", "masked"), ("account", "address", "masked"),
        ("account", "lifecycle", "hidden"), ("account", "tags", "hidden"),
        ("account", "phone", "masked"), ("account", "cf_source", "hidden"),
        ("account", "cf_employees", "hidden"), ("contact", "title", "hidden"),
        ("contact", "phones", "masked"), ("contact", "email", "masked"),
        ("contact", "wechat", "hidden"), ("deal", "amount", "hidden"),
        ("deal", "signed_amount", "hidden"), ("deal", "cf_competitor", "hidden"),
        ("deal", "close_date", "masked"), ("deal", "currency", "hidden"),
        ("activity", "body", "hidden"), ("activity", "outcome", "masked")]]}


def pull_rules_ratio(root: Path, rows: int) -> dict[str, Any]:
    """Initial sync rows/s of a rep with BENCH_RULES in force / without, one server."""
    import keyring

    from benchmarks import sync as bs
    from server import visibility
    from tests.servers import start_server

    keyring.set_keyring(bs._memory_keyring())  # the run's tokens never touch the OS keyring
    srv = start_server(root / "srv-pull")
    try:
        from server.admin import add_user

        add_user(srv.engine, "boss", "manager", bs.PASSWORD, teams=["north"])
        for o in bs.OWNERS:
            add_user(srv.engine, o, "rep", bs.PASSWORD, teams=["north"])
        book = list(bs.make_rows(rows // 2, rows - rows // 2))
        log(f"loading {len(book)} rows")
        bs.load_server(srv.url, book)
        engine = srv.engine
        rates: dict[str, list[float]] = {"without": [], "with": []}
        for attempt in range(3):
            for mode in ("without", "with"):
                visibility.replace_rules(engine, BENCH_RULES if mode == "with" else {"rules": []})
                profile = root / f"pull-{mode}-{attempt}"
                bs.login_profile(profile, srv.url, bs.OWNERS[attempt])
                landed, _searchable, pulled = bs.initial_sync(profile)
                # Rows of the book per second: a row pulled twice counts once.
                assert pulled >= len(book), (pulled, len(book))
                rates[mode].append(len(book) / landed)
                log(f"initial sync {mode} rules: {len(book) / landed:,.0f} rows/s "
                    f"({pulled} rows pulled)")
    finally:
        srv.close()
    best = {m: max(v) for m, v in rates.items()}
    return {"pull_rules_ratio": best["with"] / best["without"],
            "pull_rows_s_without_rules": best["without"], "pull_rows_s_with_rules": best["with"],
            "pull_rules": len(BENCH_RULES["rules"]), "pull_rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--values", type=int, default=1_000_000)
    ap.add_argument("--pull-rows", type=int, default=200_000)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="fieldcrm-bench-fields-"))
    root.mkdir(parents=True, exist_ok=True)
    profile = root / f"store-{args.accounts}"
    build_store(profile, args.accounts)
    metrics: dict[str, Any] = {}
    metrics.update(add_field_ms(profile))
    with tempfile.TemporaryDirectory(dir=root) as srv:
        metrics.update(type_change_s(Path(srv), args.values))
    metrics.update(pull_rules_ratio(root, args.pull_rows))
    metrics["peak_rss_mb"] = peak_rss_mb()
    emit(metrics, args.json)


if __name__ == "__main__":
    main()
