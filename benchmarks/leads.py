"""Leads on the server (server.leads): assignment at intake and the escalation pass, with
N open leads already in the database.

    python -m benchmarks.leads --json [--open N] [--backend sqlite|postgresql]

Loads N open leads over 7 reps (each assigned an hour ago, so none is due), then:
  lead_assign_p95_ms   one intake's server work (validate, replay check, rate window,
                       duplicate flag, rules, weighted round-robin, write), p95 of 200
  escalation_pass_s    one escalation pass, when 1% of the open leads (those assigned 20
                       minutes before the others, past the 15-minute SLA) are due a reminder
  escalation_due       how many the pass handled
  lead_to_device_p95_ms  POST /api/leads to a real server (a subprocess) -> the lead
                       committed in the assigned rep's store by the live sync engine (SSE),
                       p95 of --trips (the rep is the only one the rule names)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

import orjson

from benchmarks._util import emit, log, pct, timed_ms
from desktop.leads.rules import iso
from server import leads
from server import tables as t
from server.admin import add_user
from server.db import open_database, write_tx
from tests.servers import create_pg_database, drop_pg_database

REPS = ("r1", "r2", "r3", "r4", "r5", "r6", "r7")
RULES = {"rules": [{"name": "all", "team": "north"}],
         "reps": [{"username": r, "weight": 1 + i % 3, "open_limit": 10**7}
                  for i, r in enumerate(REPS)]}
CHUNK = 5000


def _load(engine: object, n: int, now: dt.datetime) -> None:
    assert hasattr(engine, "dialect")
    stamp = f"{int(now.timestamp() * 1000) - 3_600_000:013d}-0000-server"
    early = iso(now - dt.timedelta(minutes=20))
    normal = iso(now)
    with write_tx(engine) as conn:  # type: ignore[arg-type]
        version = int(conn.execute(t.counter.select()).one()[1])
        for start in range(0, n, CHUNK):
            recs, states = [], []
            for i in range(start, min(n, start + CHUNK)):
                owner = REPS[i % len(REPS)]
                assigned = early if i % 100 == 0 else normal
                values = {"name": f"客户{i}", "phone": f"+86139{i:08d}", "status": "assigned",
                          "owner": owner, "assigned_at": assigned, "assigned_rule": "all"}
                doc = orjson.dumps({k: {"value": v, "hlc": stamp}
                                    for k, v in values.items()}).decode()
                version += 1
                rid = f"0190b2a4-0000-7000-8000-{i:012d}"
                recs.append({"entity": "lead", "record_id": rid, "owner": owner,
                             "created_by": "bench", "fields": doc, "version": version,
                             "origin_device": None, "updated_at": normal})
                due = dt.datetime.fromisoformat(assigned.replace("Z", "+00:00")) + (
                    dt.timedelta(minutes=15))
                states.append({"record_id": rid, "owner": owner, "open": True,
                               "due_at": iso(due)})
            conn.execute(t.records.insert(), recs)
            conn.execute(t.lead_state.insert(), states)
        conn.execute(t.counter.update().values(version=version))


def run(url: str, n: int) -> dict[str, float]:
    engine = open_database(url)
    try:
        for r in REPS:
            add_user(engine, r, "rep", "pw-bench", ("north",))
        add_user(engine, "boss", "manager", "pw-bench", ("north",))
        leads.load_rules(engine, RULES)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        t0 = time.perf_counter()
        _load(engine, n, now)
        log(f"loaded {n} open leads in {time.perf_counter() - t0:.1f} s")
        samples = []
        for i in range(200):
            body = {"external_id": f"bench-{i}", "name": f"新客户{i}",
                    "phone": f"1370000{i:04d}", "region": "north"}
            samples.append(timed_ms(lambda b=body: leads.intake(engine, "web", 10**6, b)))
        t0 = time.perf_counter()
        out = leads.tick(engine, now)
        pass_s = time.perf_counter() - t0
        log(f"pass: {out}")
        return {"lead_assign_p95_ms": round(pct(samples, 95), 2),
                "escalation_pass_s": round(pass_s, 3), "escalation_due": out["due"],
                "open_leads": n}
    finally:
        engine.dispose()


def lead_to_device(tmp: Path, url: str | None, trips: int) -> float:
    """p95 ms from intake to the lead in the assigned rep's store, live."""
    import threading

    import httpx

    from desktop.store import Store
    from desktop.sync import session
    from desktop.sync.engine import SyncEngine
    from tests.servers import start_server

    srv = start_server(tmp / "live-srv", url)
    try:
        add_user(srv.engine, "solo", "rep", "pw-bench", ("north",))
        leads.load_rules(srv.engine, {"rules": [{"name": "solo", "reps": ["solo"]}]})
        key = leads.add_api_key(srv.engine, "web", per_minute=10**6)
        profile = tmp / "solo-device"
        session.login(profile, srv.url, "solo", "pw-bench")
        arrived: dict[str, float] = {}
        got = threading.Event()
        want = [""]

        def on_change(_ch: object) -> None:  # on the engine's thread, after its commit
            with Store.open(profile) as store:
                row = store.conn.execute("SELECT id FROM lead WHERE external_id = ?",
                                         (want[0],)).fetchone()
            if row and want[0] not in arrived:
                arrived[want[0]] = time.perf_counter()
                got.set()

        engine = SyncEngine(profile, on_change=on_change)
        engine.start()
        lat: list[float] = []
        try:
            deadline = time.monotonic() + 20
            while not engine.status().live and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)
            with httpx.Client(base_url=srv.url, timeout=10) as http:
                for i in range(trips):
                    want[0] = f"live-{i}"
                    got.clear()
                    t0 = time.perf_counter()
                    r = http.post("/api/leads", headers={"X-Api-Key": key}, json={
                        "external_id": want[0], "name": f"实时{i}",
                        "phone": f"1360000{i:04d}"})
                    assert r.status_code == 201, r.text
                    if got.wait(5):
                        lat.append((arrived[want[0]] - t0) * 1000)
                    time.sleep(0.02)
        finally:
            engine.stop()
            engine.close()
        if len(lat) < trips:
            log(f"{trips - len(lat)} of {trips} leads did not arrive within 5 s")
        return round(pct(sorted(lat), 95), 1) if lat else float("nan")
    finally:
        srv.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--trips", type=int, default=50, help="intakes timed to the device")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    import keyring

    from tests.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "postgresql":
            url = create_pg_database("fieldcrm_bench_leads")
            try:
                metrics = run(url, args.open)
            finally:
                drop_pg_database(url)
            live = create_pg_database("fieldcrm_bench_leads_live")
            try:
                metrics["lead_to_device_p95_ms"] = lead_to_device(Path(tmp), live, args.trips)
            finally:
                drop_pg_database(live)
        else:
            metrics = run(f"sqlite:///{Path(tmp) / 'server.db'}", args.open)
            metrics["lead_to_device_p95_ms"] = lead_to_device(Path(tmp), None, args.trips)
    emit({f"{k}_{args.backend}" if k != "open_leads" else k: v for k, v in metrics.items()},
         args.json)


if __name__ == "__main__":
    main()
