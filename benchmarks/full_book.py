"""A manager's whole region on one laptop: `python -m benchmarks.store --json --full-book`.

A real `fieldcrm-server` (SQLite, loopback) is loaded with 1,000,000 accounts, 1,000,000
contacts, 2,000,000 activities (a fifth of them open tasks, some due today) and 300,000
deals, owned by 50 reps of the manager's team and the manager (a 51st share, so the
manager's agenda has its own tasks among the reps') (`--scale 0.05` for a quick run: every
count times 0.05). Then a fresh device of the manager makes its first sync in a process
of its own, as the app would, with the index builder's process beside it:

  full_book_sync_s         first sync until the last search document exists
  full_book_landed_s       ... until the last row and the cursor were committed
  full_book_rows_per_s     rows / full_book_sync_s
  peak_rss_mb              the larger peak resident memory of the syncing process and of
                           the index builder's (each reported too: sync_rss_mb, builder_rss_mb)
  open_ms                  opening the store (best of 5, warm)
  list_first_page_ms_<e>   the first page (200) of each list, warm
  search_<kind>_p95_ms     Chinese substring, phone digits, pinyin (one untimed pass first)
  agenda_ms                the Today view's agenda (desktop.followup.today.today_data),
                           after the follow-up full pass the app runs at start
                           (followup_full_pass_s; reminder_rows, most of them the reps')
  sync_cpu_us_per_row, builder_cpu_us_per_row   CPU time of the syncing process (pull,
                           apply) and of the builder per row: less noisy than wall time

Progress goes to stderr. Loading the server is not timed (it is the server's job, done
long before the manager's laptop arrives). On the shared 2-core machine the server, the
sync and the builder share the cores, so every number is an upper bound of what a
laptop with its server elsewhere would take.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._util import log, pct, timed_ms

FULL = {"account": 1_000_000, "contact": 1_000_000, "activity": 2_000_000, "deal": 300_000}
ORDER = ("account", "contact", "deal", "activity")  # referenced records first
_PREFIX = {"account": 1, "contact": 2, "deal": 3, "activity": 4}
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
MANAGER = "boss"  # the user benchmarks.sync.start makes, who syncs the book


def record_id(entity: str, i: int) -> str:
    """A stable id per (entity, index): references need no table of ids in memory."""
    return str(uuid.UUID(int=(_PREFIX[entity] << 100) | (i + 1), version=4))


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def book_rows(counts: dict[str, int], seed: int = 26) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(entity, record id, values) of the whole book, generated as it is pushed."""
    from benchmarks.sync import (
        CITIES,
        CORES,
        GIVEN,
        INDUSTRIES,
        LIFECYCLE,
        MOBILE,
        OWNERS,
        STREETS,
        SUFFIXES,
        SURNAMES,
        TITLES,
    )

    r = random.Random(seed)
    owners = [*OWNERS, MANAGER]
    n_acc = max(1, counts["account"])
    for i in range(counts["account"]):
        city, area, districts = r.choice(CITIES)
        ind = r.choice(INDUSTRIES)
        yield "account", record_id("account", i), {
            "name": city.replace("市", "") + r.choice(CORES) + ind[0] + r.choice(SUFFIXES),
            "industry": ind[1], "region": city,
            "phone": f"+86{area[1:]}{r.randint(2, 6)}{r.randint(0, 9999999):07d}",
            "address": f"{city}{r.choice(districts)}{r.choice(STREETS)}{r.randint(1, 999)}号",
            "owner": r.choice(owners), "lifecycle": r.choice(LIFECYCLE)}
    for i in range(counts["contact"]):
        s, g = r.choice(SURNAMES), r.choice(GIVEN)
        yield "contact", record_id("contact", i), {
            "name": s[0] + g[0], "title": r.choice(TITLES),
            "phones": [f"+86{r.choice(MOBILE)}{r.randint(0, 99999999):08d}"],
            "email": f"{g[1]}.{s[1]}{r.randint(1, 99)}@qq.com",
            "account_id": record_id("account", r.randrange(n_acc)), "owner": r.choice(owners)}
    stages = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    for i in range(counts["deal"]):
        yield "deal", record_id("deal", i), {
            "title": r.choice(["年度采购", "设备升级", "ERP 项目", "Fleet renewal"]) + f" {i}",
            "account_id": record_id("account", r.randrange(n_acc)),
            "amount": r.randrange(5, 500) * 10_000, "currency": "CNY",
            "stage": r.choice(stages), "owner": r.choice(owners)}
    n_deal = max(1, counts["deal"])
    for i in range(counts["activity"]):
        kind = ("task", "call", "visit", "note", "call")[i % 5]
        when = NOW + dt.timedelta(minutes=r.randrange(-60 * 24 * 180, 60 * 24 * 30))
        values: dict[str, Any] = {
            "kind": kind, "subject": r.choice(["回访客户", "报价跟进", "合同评审", "上门拜访"]),
            "account_id": record_id("account", r.randrange(n_acc)),
            "deal_id": record_id("deal", r.randrange(n_deal)), "owner": r.choice(owners)}
        if kind == "task":
            values["due_at"] = _iso(when)
            if when < NOW - dt.timedelta(days=3):
                values["done_at"] = _iso(when)
        else:
            values["done_at"] = _iso(min(when, NOW))
        yield "activity", record_id("activity", i), values


def load(url: str, counts: dict[str, int]) -> float:
    """Push the book from a loader device (no local store); returns seconds."""
    from benchmarks.sync import client_for, stamp

    c = client_for(url, MANAGER, "loader")
    t0 = time.perf_counter()
    hlc = stamp(int(time.time() * 1000) - 3_600_000, 0, "loader")
    total, batch = sum(counts.values()), []
    for seq, (entity, rid, values) in enumerate(book_rows(counts), start=1):
        batch.append({"device_id": "loader", "seq": seq, "entity": entity, "record_id": rid,
                      "fields": {f: {"value": v, "hlc": hlc} for f, v in values.items()}})
        if len(batch) == 5000 or seq == total:
            res = c.push(batch)
            bad = [x for x in res["results"] if x["status"] == "rejected"]
            if bad:
                raise SystemExit(f"server rejected load rows: {bad[:2]}")
            batch = []
            if seq % 200_000 == 0 or seq == total:
                log(f"loaded {seq}/{total} in {time.perf_counter() - t0:.0f} s")
    c.close()
    return time.perf_counter() - t0


def sync_child(profile: str, url: str) -> int:
    """The measured first sync, in a process of its own (its peak memory is the app's):
    prints one JSON object."""
    import resource

    import keyring

    from benchmarks.sync import PASSWORD, _memory_keyring
    from desktop.store import Store, indexer
    from desktop.sync import session
    from desktop.sync.engine import SyncEngine

    keyring.set_keyring(_memory_keyring())
    session.login(Path(profile), url, MANAGER, PASSWORD)
    last = [0.0]

    def progress(p: Any) -> None:
        if time.monotonic() - last[0] > 15:
            last[0] = time.monotonic()
            log(f"first sync {p.done}/{p.total}")

    eng = SyncEngine(Path(profile), live=False, on_progress=progress)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    report = eng.sync_once(wait_for_index=False)
    landed = time.perf_counter() - t0
    eng.close()
    log(f"landed {report.pulled} rows in {landed:.1f} s; waiting for the index builder")
    with Store.open(Path(profile)) as st:
        indexer.worker_for(Path(profile)).wait_idle(st, poll_s=0.02)
        searchable = time.perf_counter() - t0
        assert st.search_backlog() == 0
    indexer.close_workers()  # waits for the builder: its peak memory is in RUSAGE_CHILDREN
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "landed_s": landed, "searchable_s": searchable, "rows": report.pulled,
        "sync_cpu_s": me.ru_utime + me.ru_stime - cpu0.ru_utime - cpu0.ru_stime,
        "builder_cpu_s": kids.ru_utime + kids.ru_stime,
        "sync_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "builder_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
    return 0


def book_queries(store: Any, rng: random.Random, n: int
                 ) -> tuple[list[str], list[str], list[str]]:
    """What a rep types: 2-4 characters of an account's name, "139 1234" of a phone, the
    pinyin or initials of part of a name."""
    from desktop.store.textindex import pinyin_keys

    top = int(store.conn.execute("SELECT max(rid) FROM account").fetchone()[0] or 1)
    rids = [rng.randrange(1, top + 1) for _ in range(n)]
    rows = store.conn.execute(
        "SELECT name, phone FROM account WHERE rid IN (SELECT value FROM json_each(?))",
        (json.dumps(rids),)).fetchall()
    cn, phones, py = [], [], []
    for name, phone in rows:
        k = rng.choice([2, 3, 4])
        i = rng.randrange(0, max(1, len(name) - k))
        cn.append(name[i:i + k])
        if phone:
            phones.append(f"{phone[3:6]} {phone[6:10]}")
        full, initials = pinyin_keys(name[2:8])
        py.append(full[:rng.randrange(5, min(12, len(full)))] if rng.random() < 0.5
                  else initials[:4])
    return cn, phones, py


def measure(profile: Path, n_queries: int) -> dict[str, float]:
    from desktop.followup.service import scheduler_for
    from desktop.followup.today import today_data
    from desktop.store import Store

    out: dict[str, float] = {}
    opens = []
    for _ in range(5):
        t = time.perf_counter()
        store = Store.open(profile)
        opens.append((time.perf_counter() - t) * 1000)
        store.close()
    out["open_ms"] = min(opens)
    store = Store.open(profile)
    for entity in ORDER:
        repo = store.repo(entity)
        repo.page(limit=200)

        def first_page(r: Any = repo) -> Any:
            return r.page(limit=200)

        out[f"list_first_page_ms_{entity}"] = min(timed_ms(first_page) for _ in range(3))
    cn, phone_q, py = book_queries(store, random.Random(5), n_queries)
    for name, qs in (("cn", cn), ("phone", phone_q), ("pinyin", py)):
        for q in qs:
            store.search(q)  # untimed: warms the cache
        samples = [timed_ms(lambda q=q: store.search(q)) for q in qs]  # type: ignore[misc]
        out[f"search_{name}_p95_ms"] = pct(samples, 95) if len(samples) > 1 else float("nan")
        out[f"search_{name}_queries"] = float(len(samples))
        out[f"search_{name}_hit_rate"] = sum(bool(store.search(q)) for q in qs) / max(1, len(qs))
    sched = scheduler_for(store)
    t = time.perf_counter()
    sched.full_pass()  # as the app's start does: reminders for the whole book, mostly others'
    out["followup_full_pass_s"] = time.perf_counter() - t
    out["reminder_rows"] = float(store.conn.execute(
        "SELECT count(*) FROM followup_reminder").fetchone()[0])
    today_data(sched)
    agenda = [timed_ms(lambda: today_data(sched)) for _ in range(5)]
    out["agenda_ms"] = sorted(agenda)[len(agenda) // 2]
    out["agenda_items"] = float(len(today_data(sched).overdue) + len(today_data(sched).due_today))
    for entity in ORDER:
        out[f"rows_{entity}"] = float(store.repo(entity).count())
    out["db_size_mb"] = store.path.stat().st_size / 1e6
    store.close()
    return out


def run(scale: float, n_queries: int, keep: Path | None = None) -> dict[str, Any]:
    from benchmarks.sync import start

    counts = {e: int(n * scale) for e, n in FULL.items()}
    rows = sum(counts.values())
    tmp = Path(tempfile.mkdtemp(prefix="fieldcrm-bench-book-", dir=keep))
    out: dict[str, Any] = {"scale": scale, "rows": rows, "cpus": os.cpu_count(),
                           **{f"book_{e}": n for e, n in counts.items()}}
    srv, _ = start(tmp, False)
    try:
        log(f"loading the server with {rows} rows ({counts})")
        out["server_load_s"] = round(load(srv.url, counts), 1)
        profile = tmp / "manager"
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)}
        log("first sync of the manager's device (a process of its own)")
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.full_book", "--sync-child", str(profile),
             srv.url], capture_output=True, text=True, env=env, cwd=str(root))
        sys.stderr.write(child.stderr[-4000:])
        if child.returncode != 0:
            raise SystemExit(f"the sync process failed (rc={child.returncode})")
        got = json.loads(child.stdout.strip().splitlines()[-1])
        out["full_book_sync_s"] = got["searchable_s"]
        out["full_book_landed_s"] = got["landed_s"]
        out["full_book_rows_per_s"] = got["rows"] / got["searchable_s"]
        out["full_book_landed_rows_per_s"] = got["rows"] / got["landed_s"]
        out["sync_rss_mb"] = got["sync_rss_mb"]
        out["builder_rss_mb"] = got["builder_rss_mb"]
        out["peak_rss_mb"] = max(got["sync_rss_mb"], got["builder_rss_mb"])
        out["synced_rows"] = got["rows"]
        # CPU time per row: what the load of a shared machine does not change much.
        out["sync_cpu_us_per_row"] = got["sync_cpu_s"] / max(1, got["rows"]) * 1e6
        out["builder_cpu_us_per_row"] = got["builder_cpu_s"] / max(1, got["rows"]) * 1e6
        log(f"synced {got['rows']} rows: searchable after {got['searchable_s']:.1f} s; measuring")
        out.update(measure(profile, n_queries))
    finally:
        srv.close()
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sync-child":
        os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")
        sys.exit(sync_child(sys.argv[2], sys.argv[3]))
    raise SystemExit("run through `python -m benchmarks.store --full-book`")
