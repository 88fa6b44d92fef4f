"""Sync benchmark: `python -m benchmarks.sync --json [--postgres] [--peer]`.

Against a real `fieldcrm-server` subprocess on loopback (SQLite file, or PostgreSQL with
--postgres), with the data shape of ../shared/peers/pouchdb/bench.sh (Chinese company
accounts and their contacts, 50 owners):

  initial_sync_rows_per_s          fresh device pulls N accounts + M contacts into its store
                                   (records, cursor committed; listed and found by name),
                                   while the index builder process works beside the pull
  searchable_rows_per_s            the same run, until the last search document exists
                                   (pinyin, initials, phone digits); searchable_after_last_row_s
                                   is how long after the last row landed that was
  index_build_rows_per_s           the index builder alone, on a store whose pull left
                                   every record in the search backlog
  initial_sync_without_builder_rows_per_s   that pull (the builder held back)
  pull_cpu_us_per_row / builder_cpu_us_per_row   CPU time per row of the first sync's
                                   pull (this process) and of the builder's process
  raw_insert_rows_per_s            the same rows inserted into plain SQLite tables (baseline)
  duplicate_check_after_first_sync_s   the duplicate check of what the first sync brought
  push_entries_per_s               10,000 local edits (journal entries) pushed
  propagation_p50_ms / _p95_ms     edit on device A -> committed in device B's store (SSE)
  server_entries_per_s_20_clients  20 clients pushing at once

Prints ONE JSON object on stdout; progress goes to stderr. Timings on a shared 2-core
machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

PASSWORD = "bench-password"
PEER = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "pouchdb" / "bench.sh"

CITIES = [("北京市", "010", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区"]),
          ("上海市", "021", ["浦东新区", "徐汇区", "静安区", "闵行区", "长宁区"]),
          ("深圳市", "0755", ["南山区", "福田区", "宝安区", "龙岗区", "罗湖区"]),
          ("广州市", "020", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"]),
          ("杭州市", "0571", ["西湖区", "滨江区", "余杭区", "拱墅区", "上城区"]),
          ("南京市", "025", ["鼓楼区", "玄武区", "建邺区", "江宁区", "秦淮区"]),
          ("成都市", "028", ["武侯区", "锦江区", "青羊区", "成华区", "金牛区"]),
          ("武汉市", "027", ["江汉区", "武昌区", "洪山区", "江岸区", "汉阳区"])]
CORES = ["华信", "联创", "鼎盛", "恒通", "博远", "天成", "瑞丰", "中科", "金桥", "创新", "宏图",
         "东方", "星辰", "汇智", "嘉禾", "永安", "安泰", "海纳", "云帆", "远景", "盛世", "新元"]
INDUSTRIES = [("科技", "软件与信息服务"), ("贸易", "批发零售"), ("实业", "制造业"),
              ("网络", "互联网"), ("医药", "医疗健康"), ("物流", "交通物流"),
              ("建设", "建筑工程"), ("电子", "电子制造")]
SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司", "有限责任公司"]
STREETS = ["科技园路", "人民路", "中山路", "建设路", "解放路", "长江路", "创业大道", "世纪大道"]
SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
            ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
            ("徐", "xu"), ("孙", "sun")]
GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
         ("磊", "lei"), ("强", "qiang"), ("洋", "yang"), ("秀英", "xiuying"),
         ("建华", "jianhua"), ("志强", "zhiqiang")]
TITLES = ["总经理", "副总经理", "销售总监", "采购经理", "技术总监", "IT经理", "财务经理",
          "项目经理"]
LIFECYCLE = ["lead", "prospect", "customer", "customer", "churned"]
SOURCES = ["referral", "exhibition", "web", "cold_call"]
MOBILE = ["135", "136", "137", "138", "139", "150", "151", "152", "186", "187", "188", "189"]
OWNERS = [f"rep{k:02d}" for k in range(1, 51)]


def log(msg: str) -> None:
    print(f"[bench-sync] {msg}", file=sys.stderr, flush=True)


def make_rows(
    n_accounts: int, n_contacts: int, seed: int = 7
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(entity, record id, values) in the peer's shape, mapped onto desktop.schema."""
    r = random.Random(seed)
    acc_ids = [str(uuid.UUID(int=r.getrandbits(128), version=4)) for _ in range(n_accounts)]
    for i in range(n_accounts):
        city, area, districts = r.choice(CITIES)
        ind = r.choice(INDUSTRIES)
        yield "account", acc_ids[i], {
            "name": city.replace("市", "") + r.choice(CORES) + ind[0] + r.choice(SUFFIXES),
            "industry": ind[1], "region": city,
            "phone": f"+86{area[1:]}{r.randint(2, 6)}{r.randint(0, 9999999):07d}",
            "address": f"{city}{r.choice(districts)}{r.choice(STREETS)}{r.randint(1, 999)}号",
            "owner": r.choice(OWNERS), "lifecycle": r.choice(LIFECYCLE),
            "cf_source": r.choice(SOURCES), "cf_employees": r.randint(5, 20000)}
    for _ in range(n_contacts):
        s, g = r.choice(SURNAMES), r.choice(GIVEN)
        yield "contact", str(uuid.UUID(int=r.getrandbits(128), version=4)), {
            "name": s[0] + g[0], "title": r.choice(TITLES),
            "phones": [f"+86{r.choice(MOBILE)}{r.randint(0, 99999999):08d}"],
            "email": f"{g[1]}.{s[1]}{r.randint(1, 99)}@"
                     f"{r.choice(['qq.com', '163.com', '126.com'])}",
            "account_id": r.choice(acc_ids), "owner": r.choice(OWNERS)}


def stamp(ms: int, counter: int, device: str) -> str:
    return f"{ms:013d}-{counter:04x}-{device}"


# ---------------------------------------------------------------- set-up
def start(tmp: Path, postgres: bool) -> tuple[Any, str | None]:
    from tests.servers import create_pg_database, start_server

    url = create_pg_database("fieldcrm_bench") if postgres else None
    srv = start_server(tmp / "srv", url)
    from server.admin import add_user

    add_user(srv.engine, "boss", "manager", PASSWORD, teams=["north"])
    for o in OWNERS:
        add_user(srv.engine, o, "rep", PASSWORD, teams=["north"])
    add_user(srv.engine, "prop", "rep", PASSWORD)
    return srv, url


def client_for(url: str, user: str, device: str) -> Any:
    from desktop.sync.client import SyncClient

    c = SyncClient(url, device)
    c.login(user, PASSWORD)
    return c


def load_server(url: str, rows: list[tuple[str, str, dict[str, Any]]]) -> float:
    """Push every row from a loader device (no local store); returns seconds."""
    c = client_for(url, "boss", "loader")
    t0 = time.perf_counter()
    base = int(time.time() * 1000) - 3_600_000
    batch = 5000
    for k in range(0, len(rows), batch):
        entries = [{"device_id": "loader", "seq": k + j + 1, "entity": ent, "record_id": rid,
                    "fields": {f: {"value": v, "hlc": stamp(base, 0, "loader")}
                               for f, v in vals.items()}}
                   for j, (ent, rid, vals) in enumerate(rows[k:k + batch])]
        res = c.push(entries)
        bad = [x for x in res["results"] if x["status"] == "rejected"]
        if bad:
            raise SystemExit(f"server rejected load rows: {bad[:2]}")
        if (k // batch) % 10 == 0:
            log(f"load {k + len(entries)}/{len(rows)}")
    c.close()
    return time.perf_counter() - t0


def login_profile(profile: Path, url: str, user: str) -> None:
    from desktop.sync import session

    session.login(profile, url, user, PASSWORD)


# ---------------------------------------------------------------- metrics
def raw_insert(tmp: Path, rows: list[tuple[str, str, dict[str, Any]]]) -> float:
    path = tmp / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    cols = {"account": ["name", "industry", "region", "phone", "address", "owner", "lifecycle",
                        "cf_source", "cf_employees"],
            "contact": ["name", "title", "phones", "email", "account_id", "owner"]}
    for ent, cs in cols.items():
        conn.execute(f"CREATE TABLE {ent} (id TEXT PRIMARY KEY, {', '.join(cs)})")
    t0 = time.perf_counter()
    for ent, cs in cols.items():
        sql = f"INSERT INTO {ent} (id, {', '.join(cs)}) VALUES ({', '.join('?' * (len(cs) + 1))})"
        params = ([rid, *(json.dumps(v[c], ensure_ascii=False) if isinstance(v.get(c), list)
                          else v.get(c) for c in cs)] for e, rid, v in rows if e == ent)
        conn.execute("BEGIN")
        conn.executemany(sql, params)
        conn.execute("COMMIT")
    took = time.perf_counter() - t0
    conn.close()
    return len(rows) / took


def _cpu(who: int) -> float:
    import resource

    use = resource.getrusage(who)
    return use.ru_utime + use.ru_stime


def initial_sync(profile: Path, cpu: dict[str, float] | None = None
                 ) -> tuple[float, float, int]:
    """(seconds until every row landed, seconds until every row was searchable, rows);
    `cpu` gets the CPU seconds of this process (the pull) and of the builder's."""
    import resource

    from desktop.store import Store, indexer
    from desktop.sync.engine import SyncEngine

    last = [0.0]

    def progress(p: Any) -> None:
        if time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            log(f"initial sync {p.done}/{p.total}")

    eng = SyncEngine(profile, live=False, on_progress=progress)
    self0, kids0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    report = eng.sync_once(wait_for_index=False)
    landed = time.perf_counter() - t0
    eng.close()
    pull_cpu = _cpu(resource.RUSAGE_SELF) - self0
    with Store.open(profile) as st:
        indexer.worker_for(profile).wait_idle(st, poll_s=0.005)
        searchable = time.perf_counter() - t0
        assert st.search_backlog() == 0
    indexer.close_workers()  # waited for: its CPU time is in RUSAGE_CHILDREN
    if cpu is not None:
        cpu["pull"] = pull_cpu
        cpu["builder"] = _cpu(resource.RUSAGE_CHILDREN) - kids0
    return landed, searchable, report.pulled


def duplicate_check_after_first_sync(profile: Path) -> float:
    """Seconds to check what a first sync brought for probable duplicates (the keys and
    the whole-book scan the engine runs once the rows are indexed). Timed on its own, so
    the push measured next is the push alone (it was counted in it until now)."""
    from desktop.dedupe.pairs import check_arrivals
    from desktop.store import Store

    with Store.open(profile) as st:
        t0 = time.perf_counter()
        check_arrivals(st)
        return time.perf_counter() - t0


def index_build_alone(profile: Path) -> tuple[float, float, int]:
    """Pull with the builder held back, then time the builder process alone on the
    backlog the pull left: (pull seconds, builder seconds, rows)."""
    from desktop.store import Store, indexer
    from desktop.sync.engine import SyncEngine

    held = indexer.build_in_background
    indexer.build_in_background = lambda _store: None  # type: ignore[assignment]
    try:
        eng = SyncEngine(profile, live=False)
        t0 = time.perf_counter()
        eng.sync_once(wait_for_index=False)
        pull_s = time.perf_counter() - t0
        eng.close()
    finally:
        indexer.build_in_background = held  # type: ignore[assignment]
    with Store.open(profile) as st:
        rows = st.search_backlog()
        worker = indexer.worker_for(profile)
        t0 = time.perf_counter()
        worker.poke()
        worker.wait_idle(st, poll_s=0.005)
        took = time.perf_counter() - t0
    indexer.close_workers()
    return pull_s, took, rows


def push_edits(profile: Path, n: int) -> float:
    from desktop.store import Store
    from desktop.sync.engine import SyncEngine

    with Store.open(profile) as st:
        ids = [r[0] for r in st.conn.execute("SELECT id FROM account LIMIT ?", (n,))]
        t0 = time.perf_counter()
        repo = st.repo("account")
        for chunk in range(0, len(ids), 1000):
            with st.write():
                for rid in ids[chunk:chunk + 1000]:
                    repo.update(rid, {"lifecycle": "customer", "address": f"已更新{rid[:8]}"})
        log(f"{len(ids)} local edits in {time.perf_counter() - t0:.1f} s")
    eng = SyncEngine(profile, live=False)  # the default batching, as in the app
    t0 = time.perf_counter()
    report = eng.sync_once()
    took = time.perf_counter() - t0
    eng.close()
    assert report.pushed == len(ids), report
    return len(ids) / took


def propagation(tmp: Path, url: str, n: int) -> tuple[float, float, int]:
    from desktop.store import Store
    from desktop.sync.engine import SyncEngine

    pa, pb = tmp / "prop-a", tmp / "prop-b"
    login_profile(pa, url, "prop")
    login_profile(pb, url, "prop")
    arrived: dict[str, float] = {}
    done = threading.Event()
    want: list[str] = [""]

    def on_change_b(_ch: Any) -> None:
        # runs on B's sync thread right after its commit
        row = eb._store().conn.execute(
            "SELECT industry FROM account WHERE id = ?", (rid,)).fetchone()
        if row and row[0] == want[0] and want[0] not in arrived:
            arrived[want[0]] = time.perf_counter()
            done.set()

    with Store.open(pa) as sa_:
        rid = sa_.repo("account").create({"name": "传播测试"})["id"]
    ea = SyncEngine(pa)
    eb = SyncEngine(pb, on_change=on_change_b)
    ea.start()
    eb.start()
    lat: list[float] = []
    timeouts = 0
    try:
        sa_ = Store.open(pa)
        sa_.on_change(lambda _c: ea.request_sync())
        deadline = time.monotonic() + 20
        while not (ea.status().live and eb.status().live) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        for i in range(n):
            value = f"v{i}"
            want[0] = value
            done.clear()
            t0 = time.perf_counter()
            sa_.repo("account").update(rid, {"industry": value})
            if done.wait(5):
                lat.append((arrived[value] - t0) * 1000)
            else:
                timeouts += 1
            time.sleep(0.01)
        sa_.close()
    finally:
        ea.stop()
        eb.stop()
        ea.close()
        eb.close()
    lat.sort()
    p95 = lat[min(len(lat) - 1, max(0, int(0.95 * len(lat) + 0.999) - 1))] if lat else float("nan")
    return statistics.median(lat) if lat else float("nan"), p95, timeouts


def concurrent_push(url: str, clients: int, per_client: int) -> float:
    cs = [client_for(url, OWNERS[i % len(OWNERS)], f"bench-c{i}") for i in range(clients)]
    base = int(time.time() * 1000)
    batches: list[list[list[dict[str, Any]]]] = []
    for i in range(clients):
        dev = f"bench-c{i}"
        entries = [{"device_id": dev, "seq": j + 1, "entity": "account",
                    "record_id": str(uuid.uuid4()),
                    "fields": {"name": {"value": f"并发{i}-{j}",
                                        "hlc": stamp(base, j % 65000, dev)},
                               "owner": {"value": OWNERS[i % len(OWNERS)],
                                         "hlc": stamp(base, j % 65000, dev)}}}
                   for j in range(per_client)]
        batches.append([entries[k:k + 500] for k in range(0, per_client, 500)])
    barrier = threading.Barrier(clients + 1)

    def run(i: int) -> None:
        barrier.wait()
        for b in batches[i]:
            cs[i].push(b)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    took = time.perf_counter() - t0
    for c in cs:
        c.close()
    return clients * per_client / took


def run_peer() -> dict[str, Any]:
    log(f"running the peer: bash {PEER}")
    out = subprocess.run(["bash", str(PEER)], capture_output=True, text=True, timeout=2700)
    if out.returncode != 0:
        return {"error": f"peer failed (rc={out.returncode}): {out.stderr[-500:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_keyring() -> Any:
    from tests.memory_keyring import MemoryKeyring

    return MemoryKeyring()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object (always on)")
    ap.add_argument("--postgres", action="store_true",
                    help="server on PostgreSQL at 127.0.0.1:5432")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--contacts", type=int, default=200_000)
    ap.add_argument("--push", type=int, default=10_000, help="journal entries to push")
    ap.add_argument("--edits", type=int, default=200, help="edits for propagation latency")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--per-client", type=int, default=2000)
    ap.add_argument("--peer", action="store_true",
                    help="also run the PouchDB peer script (first, alone) and print the ratios")
    ap.add_argument("--no-builder-alone", action="store_true",
                    help="skip index_build_rows_per_s (a second pull of every row)")
    args = ap.parse_args(argv)

    import keyring

    keyring.set_keyring(_memory_keyring())  # the run's tokens never touch the OS keyring
    peer: dict[str, Any] = {}
    if args.peer:  # before our own runs, never beside them: both would share the 2 cores
        peer.update(run_peer())
        log(f"peer: {peer}")
    tmp = Path(tempfile.mkdtemp(prefix="fieldcrm-bench-sync-"))
    out: dict[str, Any] = {"backend": "postgresql" if args.postgres else "sqlite",
                           "rows": args.accounts + args.contacts, "cpus": os.cpu_count()}
    srv, pg = start(tmp, args.postgres)
    try:
        log("generating rows")
        rows = list(make_rows(args.accounts, args.contacts))
        out["raw_insert_rows_per_s"] = round(raw_insert(tmp, rows))
        log(f"raw insert {out['raw_insert_rows_per_s']} rows/s")
        load_s = load_server(srv.url, rows)
        out["server_load_rows_per_s"] = round(len(rows) / load_s)
        log(f"server loaded in {load_s:.1f} s")
        del rows
        dev = tmp / "device-b"
        login_profile(dev, srv.url, "boss")
        cpu: dict[str, float] = {}
        took, searchable, pulled = initial_sync(dev, cpu)
        # CPU time per row (pull and apply in this process; the builder's process): less
        # noisy than the rates on a shared machine.
        out["pull_cpu_us_per_row"] = round(cpu["pull"] / pulled * 1e6, 1)
        out["builder_cpu_us_per_row"] = round(cpu["builder"] / pulled * 1e6, 1)
        out["initial_sync_s"] = round(took, 2)
        out["initial_sync_rows"] = pulled
        out["initial_sync_rows_per_s"] = round(pulled / took)
        out["searchable_s"] = round(searchable, 2)
        out["searchable_rows_per_s"] = round(pulled / searchable)
        out["searchable_after_last_row_s"] = round(searchable - took, 2)
        log(f"initial sync {pulled} rows in {took:.1f} s = {out['initial_sync_rows_per_s']}/s, "
            f"searchable after {searchable:.1f} s = {out['searchable_rows_per_s']}/s")
        if not args.no_builder_alone:
            alone = tmp / "device-c"
            login_profile(alone, srv.url, "boss")
            pull_s, build_s, built = index_build_alone(alone)
            out["index_build_rows_per_s"] = round(built / build_s)
            out["initial_sync_without_builder_rows_per_s"] = round(built / pull_s)
            log(f"index builder alone: {built} rows in {build_s:.1f} s")
            shutil.rmtree(alone, ignore_errors=True)
        out["duplicate_check_after_first_sync_s"] = round(
            duplicate_check_after_first_sync(dev), 2)
        log(f"duplicate check of the first sync: {out['duplicate_check_after_first_sync_s']} s")
        out["push_entries_per_s"] = round(push_edits(dev, args.push))
        log(f"push {out['push_entries_per_s']} entries/s")
        p50, p95, timeouts = propagation(tmp, srv.url, args.edits)
        out["propagation_p50_ms"] = round(p50, 1)
        out["propagation_p95_ms"] = round(p95, 1)
        out["propagation_timeouts"] = timeouts
        log(f"propagation p50 {p50:.1f} ms p95 {p95:.1f} ms")
        out["server_entries_per_s_20_clients"] = round(
            concurrent_push(srv.url, args.clients, args.per_client))
        log(f"20 clients: {out['server_entries_per_s_20_clients']} entries/s")
    finally:
        srv.close()
        if pg:
            from tests.servers import drop_pg_database

            drop_pg_database(pg)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.peer:
        out["peer"] = peer
        for k in ("initial_sync_rows_per_s", "propagation_p50_ms", "propagation_p95_ms"):
            if isinstance(peer.get(k), int | float) and peer[k]:
                out[f"ratio_{k}"] = round(out[k] / peer[k], 2)
        if isinstance(peer.get("push_docs_per_s"), int | float) and peer["push_docs_per_s"]:
            out["ratio_push_entries_per_s"] = round(
                out["push_entries_per_s"] / peer["push_docs_per_s"], 2)
        if (isinstance(peer.get("initial_sync_rows_per_s"), int | float)
                and peer["initial_sync_rows_per_s"]):
            out["ratio_searchable_rows_per_s"] = round(
                out["searchable_rows_per_s"] / peer["initial_sync_rows_per_s"], 2)
        log("ratios to the peer: "
            + ", ".join(f"{k[6:]} {v}x" for k, v in out.items() if k.startswith("ratio_")))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
