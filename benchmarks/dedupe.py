"""Duplicate-check benchmark at a million accounts and a million contacts.

    python -m benchmarks.dedupe --json [--accounts N] [--contacts N] [--dir DIR] [--rebuild]

Builds the book with the store benchmark's builder (benchmarks.store.build: the real
import path) in its own profile under DIR, keys it once (dedupe_index_s), then measures:
a check while typing (names from the book written another way, and phone numbers:
dedupe_check_p95_ms), the whole-book scan of `duplicates list` for accounts and for
contacts (dedupe_scan_s, their sum), and merges of two accounts with their contacts
(merge_ms_p95). The write-time cost of the key queue is measured A/B, back to back in
fresh stores: import with its search index, with the dedupe triggers and without them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks._util import emit, log, pct, peak_rss_mb, timed_ms
from benchmarks.store import build
from desktop.dedupe import index
from desktop.dedupe.merge import merge
from desktop.dedupe.service import check, scan
from desktop.demo import DemoData
from desktop.store import Store

_LEGAL = ("有限公司", "有限责任公司", "股份有限公司")


def variant(name: str, rng: random.Random) -> str:
    """The name as another rep might type it: the city in brackets, another legal form,
    full-width or upper-case letters."""
    for form in sorted(_LEGAL, key=len, reverse=True):
        if name.endswith(form):
            stem = name[: -len(form)]
            if rng.random() < 0.5 and len(stem) > 4:
                return f"{stem[2:]}（{stem[:2]}）{rng.choice(_LEGAL)}"
            return stem + rng.choice(_LEGAL)
    return name.upper() if rng.random() < 0.5 else name.replace(" ", "  ") + "."


def queue_cost(n: int = 50_000, runs: int = 3) -> dict[str, float]:
    """Import + search index of `n` accounts in a fresh store, with the dedupe queue
    triggers (as shipped) and with them dropped (as before), alternating runs."""
    rows = list(DemoData(seed=3).accounts(n))
    rates: dict[bool, list[float]] = {True: [], False: []}
    key_rates = []
    for _ in range(runs):
        for with_queue in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                s = Store.open(Path(tmp))
                if not with_queue:
                    for trig in ("dedupe_doc_ai", "dedupe_doc_ad", "dedupe_contact_account"):
                        s.conn.execute(f"DROP TRIGGER {trig}")
                t = time.perf_counter()
                s.repo("account").import_many(rows, index=True)
                rates[with_queue].append(n / (time.perf_counter() - t))
                if with_queue:
                    t = time.perf_counter()
                    index.refresh(s)
                    key_rates.append(n / (time.perf_counter() - t))
                s.close()
    return {"import_indexed_rows_per_s_with_dedupe_queue": statistics.median(rates[True]),
            "import_indexed_rows_per_s_without_dedupe_queue": statistics.median(rates[False]),
            "dedupe_key_rows_per_s": statistics.median(key_rates)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/fieldcrm-bench"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--checks", type=int, default=300)
    ap.add_argument("--merges", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    # Its own profile: merges change the book, and the store benchmark's must stay as built.
    profile = args.dir / f"dedupe-{args.accounts}-{args.contacts}"
    metrics: dict[str, float] = {}
    if args.rebuild or not (profile / "store.db").exists():
        import shutil

        shutil.rmtree(profile, ignore_errors=True)
        metrics.update(build(profile, args.accounts, args.contacts))
    metrics.update(queue_cost())
    store = Store.open(profile)
    t = time.perf_counter()
    keyed = index.refresh(store, progress=lambda d, n: d % 200_000 == 0 and log(f"  keyed {d}/{n}"))
    if keyed:
        metrics["dedupe_index_s"] = time.perf_counter() - t
        log(f"keyed {keyed} records in {metrics['dedupe_index_s']:.1f} s")
    store.conn.execute("ANALYZE")

    rng = random.Random(15)
    rows = store.conn.execute(
        "SELECT name, phone FROM account WHERE rid IN "
        "(SELECT abs(random()) % (SELECT max(rid) FROM account) "
        "FROM account LIMIT ?) AND deleted = 0", (args.checks,)).fetchall()
    probes = [{"name": variant(r[0], rng)} if i % 3
              else {"name": rng.choice(["新客户", "Acme"]), "phone": r[1]}
              for i, r in enumerate(rows)]
    [check(store, "account", p) for p in probes[:20]]  # warm the page cache a little
    samples, found = [], 0
    for p in probes:
        t = time.perf_counter()
        hits = check(store, "account", p)
        samples.append((time.perf_counter() - t) * 1000)
        found += bool(hits)
    metrics["dedupe_check_p50_ms"] = pct(samples, 50)
    metrics["dedupe_check_p95_ms"] = pct(samples, 95)
    metrics["dedupe_check_found_rate"] = found / len(probes)
    contacts = store.conn.execute(
        "SELECT name, phones, email, account_id FROM contact WHERE rid % 4999 = 0 LIMIT ?",
        (100,)).fetchall()
    csamples = [timed_ms(lambda c=c: check(store, "contact", {
        "name": c[0], "phones": c[1] and __import__("json").loads(c[1]), "email": c[2],
        "account_id": c[3]}))
        for c in contacts]
    metrics["dedupe_check_contact_p95_ms"] = pct(csamples, 95)

    scan_total = 0.0
    for entity in ("account", "contact"):
        t = time.perf_counter()
        result = scan(store, entity,
                      progress=lambda stage, d, n: d % 100_000 == 0 and log(f"  {stage} {d}/{n}"))
        took = time.perf_counter() - t
        scan_total += took
        metrics[f"dedupe_scan_{entity}_s"] = took
        metrics[f"dedupe_scan_{entity}_pairs"] = float(len(result.pairs))
        metrics[f"dedupe_scan_{entity}_skipped_groups"] = float(result.skipped_groups)
        log(f"scan {entity}: {len(result.pairs)} pairs in {took:.1f} s")
    metrics["dedupe_scan_s"] = scan_total

    # merges: accounts that have contacts (the builder gives the first 100k about ten each)
    ids = [r[0] for r in store.conn.execute(
        "SELECT id FROM account WHERE deleted = 0 AND rid <= 100000 ORDER BY random() LIMIT ?",
        (args.merges * 2,))]
    merges = [timed_ms(lambda k=k, d=d: merge(store, "account", k, d))
              for k, d in zip(ids[::2], ids[1::2], strict=False)]
    metrics["merge_ms_p50"] = pct(merges, 50)
    metrics["merge_ms_p95"] = pct(merges, 95)
    metrics["accounts"] = float(store.repo("account").count())
    metrics["contacts"] = float(store.repo("contact").count())
    metrics["peak_rss_mb"] = peak_rss_mb()
    store.close()
    emit(metrics, args.json)


if __name__ == "__main__":
    main()
