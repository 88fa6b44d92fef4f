"""Reports over a big book on the laptop (issue 18).

    python -m benchmarks.reports --json [--scale 1.0] [--dir DIR] [--rebuild] [--runs 5]
                                 [--first-sync]

At --scale 1: 1M accounts, 300k deals, 2M activities, 300k payments, 30k leads, spread
over three years (first writes, activity times, closes, payment dates), half the
activities linked to a random account, the other half to a random deal, built once with
the store's bulk import and cached under DIR. --first-sync: the accounts and deals first
written before 10 days ago arrived then (a manager's first sync: created_at), the rest
were made on the laptop. Each report runs over the default period
(the last 12 weeks, the CLI's default), in CNY with USD and EUR converted, two ways:
  <report>_p95_ms       as the dashboard runs it: figures without the record ids (a click
                        on a cell finds its ids: <report>_drill_p95_ms, the largest cell)
  <report>_ids_p95_ms   as `fieldcrm report --json` and the server run it: with every
                        cell's record ids
  report_p95_ms / report_ids_p95_ms: the slowest report's. Target: ≤ 1,000 ms each.
  <report>_cold_ms      its first run in this process (the runs above follow one warm-up)
  dashboard_open_ms     the Reports tab opened in a running app (offscreen Qt, store open):
                        page built, pipeline run on the store worker, table and bars shown
                        and painted; p95 of --runs (target ≤ 300), first open apart as
                        dashboard_open_cold_ms
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import emit, log, pct

TODAY = dt.date(2026, 12, 6)
SPAN_DAYS = 3 * 365
OWNERS = tuple(f"rep{i:02d}" for i in range(40))
OUTCOMES = ("customer_reply", "quote_sent", "no", "", "已回复")
FIRST_SYNC = (TODAY - dt.timedelta(days=10)).isoformat()  # --first-sync: when the book came


def _day(rng: random.Random) -> dt.date:
    return TODAY - dt.timedelta(days=rng.randrange(SPAN_DAYS))


def _instant(rng: random.Random) -> str:
    d = dt.datetime.combine(_day(rng), dt.time(), tzinfo=dt.UTC) + dt.timedelta(
        seconds=rng.randrange(86400))
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(profile: Path, scale: float, first_sync: bool = False) -> None:
    from desktop.store import Store

    rng = random.Random(18)
    n = {k: max(1, int(v * scale)) for k, v in (("account", 1_000_000), ("deal", 300_000), (
        "activity", 2_000_000), ("payment", 300_000), ("lead", 30_000))}
    shutil.rmtree(profile, ignore_errors=True)
    store = Store.open(profile)
    stages = ("lead", "qualified", "proposal", "negotiation", "legal_review", "won", "lost")
    currencies = ("CNY",) * 8 + ("USD", "EUR")
    log(f"building {n}")
    store.repo("account").import_many(({"name": f"公司{i}", "owner": rng.choice(OWNERS)}
                                       for i in range(n["account"])), index=False)
    store.repo("deal").import_many(
        ({"title": f"商机{i}", "amount": round(rng.uniform(1e3, 5e6), 2),
          "currency": rng.choice(currencies), "stage": rng.choice(stages),
          "close_date": (_day(rng) + dt.timedelta(days=rng.randrange(200))).isoformat(),
          "owner": rng.choice(OWNERS)} for i in range(n["deal"])), index=False)
    store.repo("activity").import_many(
        ({"kind": rng.choice(("call", "visit", "note", "task")), "subject": f"跟进{i}",
          "done_at": _instant(rng), "duration_s": rng.randrange(300),
          "outcome": rng.choice(OUTCOMES), "owner": rng.choice(OWNERS)}
         for i in range(n["activity"])), index=False)
    deal_ids = [r[0] for r in store.conn.execute("SELECT id FROM deal ORDER BY rid")]

    def payments() -> Any:
        # instalments of a deal: each planned, and most of them received a few weeks later
        made = 0
        while made < n["payment"]:
            deal, currency = rng.choice(deal_ids), rng.choice(currencies)
            start = _day(rng)
            for i in range(rng.randint(1, 4)):
                due = start + dt.timedelta(days=30 * i)
                amount = round(rng.uniform(1e3, 1e6), 2)
                yield {"kind": "planned", "amount": amount, "currency": currency,
                       "date": due.isoformat(), "deal_id": deal, "owner": rng.choice(OWNERS)}
                made += 1
                if rng.random() < 0.8:
                    yield {"kind": "received", "amount": amount, "currency": currency,
                           "date": (due + dt.timedelta(days=rng.randrange(60))).isoformat(),
                           "deal_id": deal, "method": "bank_transfer",
                           "owner": rng.choice(OWNERS)}
                    made += 1

    store.repo("payment").import_many(payments(), index=False)
    store.repo("lead").import_many(
        ({"name": f"线索{i}", "owner": rng.choice(OWNERS), "status": "contacted",
          "assigned_at": _instant(rng)} for i in range(n["lead"])), index=False)
    store.repo("fx_rate").import_many(
        [{"currency": c, "valid_from": f"{y}-01-01", "rate": r}
         for y in (2023, 2024, 2025, 2026) for c, r in (("USD", 7.1), ("EUR", 7.8))])
    with store.write() as w:  # spread first writes over three years (imports stamp "now")
        conn = w.conn
        conn.create_function("rnd_instant", 0, lambda: _instant(rng))
        for table in ("account", "deal"):
            conn.execute(f"UPDATE {table} SET created_at = rnd_instant()")
            conn.execute(f"UPDATE {table} SET _clocks = json_quote(printf('%013d-0000-bench', "
                         "CAST(strftime('%s', created_at) AS INTEGER) * 1000))")
            if any(c[1] == "first_write_at" for c in conn.execute(f"PRAGMA table_info({table})")):
                conn.execute(f"UPDATE {table} SET first_write_at = "  # (store step m019)
                             "CAST(strftime('%s', created_at) AS INTEGER) * 1000")
            if first_sync:  # what was first written before the first sync arrived with it
                conn.execute(f"UPDATE {table} SET created_at = max(created_at, ?)",
                             (f"{FIRST_SYNC}T09:00:00Z",))
        conn.execute("UPDATE deal SET stage_changed_at = rnd_instant()")
        conn.execute("UPDATE lead SET first_contact_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                     "assigned_at, '+' || (abs(random()) % 120) || ' minutes') "
                     "WHERE abs(random()) % 10 > 0")
        # a random record per activity: the subquery names the activity, or SQLite runs it
        # once and links every activity to one account and one deal
        conn.execute("UPDATE activity SET account_id = (SELECT id FROM account WHERE rid = "
                     f"1 + (abs(random()) + 0 * activity.rid) % {n['account']}) "
                     "WHERE rid % 2 = 0")
        conn.execute("UPDATE activity SET deal_id = (SELECT id FROM deal WHERE rid = "
                     f"1 + (abs(random()) + 0 * activity.rid) % {n['deal']}) WHERE rid % 2 = 1")
    store.conn.execute("ANALYZE")
    store.close()


def measure(profile: Path, runs: int) -> dict[str, Any]:
    from desktop.followup.clock import FakeClock
    from desktop.reports import NAMES, ReportFilter, cell_ids, run
    from desktop.store import Store

    store = Store.open(profile)
    zone = FakeClock(dt.datetime.now(dt.UTC), "Asia/Shanghai").zone()
    f = ReportFilter(TODAY - dt.timedelta(weeks=12), TODAY, zone=zone)
    lean = dataclasses.replace(f, ids=False)
    out: dict[str, Any] = {}
    for name in NAMES:
        key = name.replace("-", "_")
        t = time.perf_counter()
        run(store, name, lean).to_json()
        out[f"{key}_cold_ms"] = (time.perf_counter() - t) * 1000
        for suffix, flt in (("", lean), ("_ids", f)):
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                report = run(store, name, flt)
                report.to_json()
                samples.append((time.perf_counter() - t) * 1000)
            out[f"{key}{suffix}_p95_ms"] = pct(samples, 95)
        out[f"{key}_cells"] = len(report.cells)
        biggest = max(report.cells, key=lambda c: len(c.ids), default=None)
        if biggest is not None:
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                cell_ids(store, name, lean, biggest.key)
                samples.append((time.perf_counter() - t) * 1000)
            out[f"{key}_drill_p95_ms"] = pct(samples, 95)
    for suffix in ("", "_ids"):
        out[f"report{suffix}_p95_ms"] = max(out[f"{n.replace('-', '_')}{suffix}_p95_ms"]
                                            for n in NAMES)
    store.close()
    return out


def dashboard(profile: Path, runs: int) -> dict[str, float]:
    """Open the Reports tab in a running window, as a user does, `runs` + 1 times."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.ui.app import install_features
    from desktop.ui.common.context import AppContext
    from desktop.ui.common.window import MainWindow
    from desktop.ui.reports.page import ReportsPage

    app = QApplication.instance() or QApplication([])
    ctx = AppContext(profile, lang="zh")
    ctx.start()
    window = MainWindow(ctx)
    install_features(window, ("desktop.ui.records",))
    window.resize(1280, 800)
    window.show()
    deadline = time.monotonic() + 60
    while not ctx.is_ready and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    while ctx.busy and time.monotonic() < deadline:  # the records list's first page
        app.processEvents()
        time.sleep(0.005)
    samples = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        page = ReportsPage(ctx, window)
        window.tabs.addTab(page, "报表")
        window.tabs.setCurrentWidget(page)
        page.reload()
        while page.report is None:
            app.processEvents()
            time.sleep(0.0005)
        page.repaint()
        app.processEvents()
        samples.append((time.perf_counter() - t) * 1000)
        window.tabs.removeTab(window.tabs.indexOf(page))
        page.deleteLater()
        app.processEvents()
    window.close()
    ctx.shutdown()
    return {"dashboard_open_cold_ms": samples[0],
            "dashboard_open_ms": pct(samples[1:], 95)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "fieldcrm-bench")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-dashboard", action="store_true", help="leave out the Qt part")
    ap.add_argument("--first-sync", action="store_true",
                    help="a manager's book: the accounts and deals first written over three "
                         "years arrived by one first sync 10 days ago (created_at)")
    args = ap.parse_args()
    profile = args.dir / f"reports-{args.scale:g}{'-first-sync' if args.first_sync else ''}"
    t = time.perf_counter()
    if args.rebuild or not (profile / "store.db").exists():
        build(profile, args.scale, args.first_sync)
    build_s = time.perf_counter() - t
    metrics = {"scale": args.scale, "first_sync": args.first_sync, "build_s": build_s,
               **measure(profile, args.runs)}
    if not args.no_dashboard:
        metrics.update(dashboard(profile, args.runs))
    emit(metrics, args.json)


if __name__ == "__main__":
    main()
