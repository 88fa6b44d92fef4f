"""The server's duplicate check (server.duplicates): how fast it keys and checks what
reps pushed, and how fast a manager's list comes back.

    python -m benchmarks.dedupe_server --json [--accounts N] [--backend sqlite|postgresql]

Pushes N demo accounts (one in ten a variant spelling of another, as a second rep would
type it) through the real push path into a fresh server database, then measures:
  server_check_rows_per_s   catch_up over all of them (keys, candidates, compare, pairs)
  server_pairs              pairs found
  server_list_ms            GET /v1/duplicates' work for a manager (nothing left to check)
  push_entries_per_s        the same push path, for reference (the check is not in it)
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from benchmarks._util import emit, log, timed_ms
from benchmarks.dedupe import variant
from desktop.demo import DemoData
from desktop.schema import Role
from server import duplicates
from server.admin import add_user
from server.auth import Principal
from server.db import open_database
from server.push import Entry, apply_push
from tests.servers import create_pg_database, drop_pg_database

BATCH = 2000


def _entries(n: int, device: str) -> list[list[Entry]]:
    rng = random.Random(7)
    names = [a["name"] for a in DemoData(seed=11).accounts(n)]
    out: list[list[Entry]] = []
    batch: list[Entry] = []
    for i in range(n):
        name = variant(names[rng.randrange(i)], rng) if i and i % 10 == 0 else names[i]
        stamp = f"{1_732_250_000_000 + i:013d}-0000-{device}"
        fields = {"name": (name, stamp, None), "owner": ("rep", stamp, None)}
        batch.append(Entry(device, i + 1, "account", f"0190b2a4-0000-7000-8000-{i:012d}", fields))
        if len(batch) == BATCH:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


def run(url: str, n: int) -> dict[str, float]:
    engine = open_database(url)
    try:
        add_user(engine, "rep", "rep", "pw-bench", ("north",))
        add_user(engine, "boss", "manager", "pw-bench", ("north",))
        rep = Principal("u-rep", "rep", Role.REP, "bench-dev", ("north",))
        boss = Principal("u-boss", "boss", Role.MANAGER, "boss-dev", ("north",))
        batches = _entries(n, rep.device_id)
        t = time.perf_counter()
        for b in batches:
            apply_push(engine, rep, b, lambda _v: None)
        push_s = time.perf_counter() - t
        log(f"pushed {n} in {push_s:.1f} s")
        t = time.perf_counter()
        checked = duplicates.catch_up(engine)
        check_s = time.perf_counter() - t
        log(f"checked {checked} in {check_s:.1f} s")
        pairs: list[duplicates.ServerPair] = []

        def listing() -> None:
            pairs[:] = duplicates.list_pairs(engine, boss, "account", limit=1000)[0]

        list_ms = min(timed_ms(listing) for _ in range(3))
        return {"push_entries_per_s": round(n / push_s),
                "server_check_rows_per_s": round(checked / check_s),
                "server_pairs": len(pairs), "server_list_ms": round(list_ms, 1)}
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    if args.backend == "postgresql":
        url = create_pg_database("fieldcrm_bench_dedupe")
        try:
            metrics = run(url, args.accounts)
        finally:
            drop_pg_database(url)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            metrics = run(f"sqlite:///{Path(tmp) / 'server.db'}", args.accounts)
    emit({f"{k}_{args.backend}": v for k, v in metrics.items()}, args.json)


if __name__ == "__main__":
    main()
