"""Export and import at a million accounts (issue 16).

    python -m benchmarks.export_import --json [--accounts N] [--import-rows N] [--dir DIR]
                                       [--rebuild] [--seed N]

Builds (once, cached under DIR) a book of N accounts the fast way: the store's bulk
import (Repository.import_many), the search index and the duplicate keys built in this
process. Then, each in a fresh child process so its memory is its own:
- `export_csv_rows_per_s` and `export_xlsx_rows_per_s`: the whole entity through
  desktop.exchange.exporter.export (the CLI's and the app's path, audit entry included);
- `export_peak_rss_mb`: the larger of the two exports' peak resident memory above the
  child's baseline just before the export (modules loaded, store open);
- `import_csv_rows_per_s`: a CSV of --import-rows accounts (a third of them probable
  duplicates of accounts in the book, written another way) imported with the duplicate
  check on (skip), into a copy of the book; the index builder process builds the new
  rows' search documents beside it (its wait is `import_index_wait_s`, not counted).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import emit, log

_LEGAL = ("有限公司", "有限责任公司", "股份有限公司")


def _every(step: int, what: str) -> Any:
    def report(done: int, total: int = 0) -> None:
        if done % step == 0:
            log(f"  {what} {done}/{total or '?'}")
    return report


def build(profile: Path, n: int) -> dict[str, float]:
    from desktop.dedupe import index
    from desktop.demo import DemoData
    from desktop.store import Store

    shutil.rmtree(profile, ignore_errors=True)
    store = Store.open(profile)
    t = time.perf_counter()
    store.repo("account").import_many(
        DemoData(seed=16).accounts(n), index=False,
        progress=_every(200_000, "accounts"))
    import_s = time.perf_counter() - t
    t = time.perf_counter()
    store.index_backlog(chunk=5000, progress=_every(200_000, "indexed"))
    index_s = time.perf_counter() - t
    t = time.perf_counter()
    index.refresh(store, progress=_every(200_000, "keyed"))
    keys_s = time.perf_counter() - t
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.execute("ANALYZE")
    store.close()
    log(f"built {n} accounts: import {import_s:.0f} s, search index {index_s:.0f} s, "
        f"duplicate keys {keys_s:.0f} s")
    return {"build_import_s": import_s, "build_index_s": index_s, "build_dedupe_keys_s": keys_s}


def variant(name: str, rng: random.Random) -> str:
    """The name as another rep would type it: the city in brackets or another legal form."""
    for form in sorted(_LEGAL, key=len, reverse=True):
        if name.endswith(form):
            stem = name[: -len(form)]
            if rng.random() < 0.5 and len(stem) > 4:
                return f"{stem[2:]}（{stem[:2]}）{rng.choice(_LEGAL)}"
            return stem + rng.choice(_LEGAL)
    return name.upper()


def import_file(profile: Path, path: Path, n: int, seed: int | None = None) -> None:
    """The import's file; the same `seed` makes the same file from the same book (for
    A/B runs of two commits: the file's content moves the figure by ~10%)."""
    from desktop.demo import DemoData
    from desktop.store import Store

    rng = random.Random(int(time.time()) if seed is None else seed)
    with Store.open(profile) as store:
        top = store.conn.execute("SELECT max(rid) FROM account").fetchone()[0] or 0
        rids = [rng.randrange(top) for _ in range(n // 3)] if top else []
        existing = [r[0] for r in store.conn.execute(
            "SELECT name FROM account WHERE rid IN (SELECT value FROM json_each(?))",
            (json.dumps(rids),))]
    fresh = DemoData(seed=rng.randrange(1 << 30)).accounts(n)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "统一社会信用代码", "行业", "地区", "阶段", "电话", "标签"])
        for i, rec in enumerate(fresh):
            name = variant(existing[i // 3], rng) if i % 3 == 0 and i // 3 < len(existing) \
                else f"{rec['name']}{rng.randrange(10**6)}"
            w.writerow([name, rec.get("uscc") or "", rec["industry"], rec["region"],
                        rec["lifecycle"], rec["phone"], ",".join(rec["tags"] or [])])


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _reset_peak() -> float:
    """The resident memory now, with the peak (VmHWM) reset to it (Linux clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _rss_mb() -> float:
    return _status_mb("VmHWM")


def child(mode: str, profile: Path, out: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    import xlsxwriter  # noqa: F401

    import desktop.exchange.exporter
    import desktop.exchange.importer  # noqa: F401
    from desktop.store import Store

    store = Store.open(profile)
    if mode == "import":
        from desktop.dedupe import index
        from desktop.store.textindex import load_readings

        index.refresh(store)
        # the profile's pinyin tables file, as a profile in use has it (its index builder
        # leaves it): the copy of the book holds only store.db, so without this the
        # import built the tables from pypinyin's dictionaries inside its timed part
        load_readings(profile)
    rows = store.conn.execute("SELECT count(*) FROM account WHERE deleted = 0").fetchone()[0]
    base = _reset_peak()
    t = time.perf_counter()
    if mode in ("csv", "xlsx"):
        from desktop.exchange.exporter import export

        result = export(store, "account", out, fmt=mode)
        took = time.perf_counter() - t
        data = {"rows": result.rows, "seconds": took, "rss_above_base_mb": _rss_mb() - base,
                "book": rows, "file_mb": out.stat().st_size / 2**20}
    else:
        from desktop.exchange.importer import run_import
        from desktop.store.indexer import build_in_background, close_workers

        r = run_import(store, out, "account", wait_index=False)
        took = time.perf_counter() - t
        t = time.perf_counter()
        worker = build_in_background(store)
        if worker is not None:
            worker.wait_idle(store)
        close_workers()
        data = {"rows": r.rows, "seconds": took, "created": r.created,
                "skipped_duplicates": r.skipped_duplicates, "invalid": r.invalid,
                "index_wait_s": time.perf_counter() - t, "book": rows}
    store.close()
    return data


def run_child(mode: str, profile: Path, out: Path) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "benchmarks.export_import", "--child", mode,
                           "--profile", str(profile), "--out", str(out)],
                          cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--import-rows", type=int, default=30_000)
    ap.add_argument("--seed", type=int, help="the import file's seed (default: the time)")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/fieldcrm-bench-exchange"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=["csv", "xlsx", "import"], help=argparse.SUPPRESS)
    ap.add_argument("--profile", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.profile, args.out)))
        return
    profile = args.dir / f"book-{args.accounts}"
    metrics: dict[str, float] = {}
    if args.rebuild or not (profile / "store.db").exists():
        metrics.update(build(profile, args.accounts))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        peak = 0.0
        for fmt in ("csv", "xlsx"):
            got = run_child(fmt, profile, work / f"accounts.{fmt}")
            log(f"export {fmt}: {got}")
            metrics[f"export_{fmt}_rows_per_s"] = got["rows"] / got["seconds"]
            metrics[f"export_{fmt}_rss_mb"] = got["rss_above_base_mb"]
            metrics[f"export_{fmt}_file_mb"] = got["file_mb"]
            peak = max(peak, got["rss_above_base_mb"])
            (work / f"accounts.{fmt}").unlink()
        metrics["export_peak_rss_mb"] = peak
        # the import changes the book: into a copy of it
        copy = work / "copy"
        copy.mkdir()
        shutil.copyfile(profile / "store.db", copy / "store.db")
        source = work / "import.csv"
        import_file(copy, source, args.import_rows, args.seed)
        got = run_child("import", copy, source)
        log(f"import: {got}")
        metrics["import_csv_rows_per_s"] = got["rows"] / got["seconds"]
        metrics["import_created"] = got["created"]
        metrics["import_skipped_duplicates"] = got["skipped_duplicates"]
        metrics["import_invalid"] = got["invalid"]
        metrics["import_index_wait_s"] = got["index_wait_s"]
        metrics["accounts"] = float(got["book"])
    emit(metrics, args.json)


if __name__ == "__main__":
    main()
