"""The API for systems and webhooks (issue 25): change feed, API writes, webhook latency.

    python -m benchmarks.integration --json [--backend sqlite|postgresql|both]
                                     [--rows 200000] [--writes 500] [--changes 2000]

A real `fieldcrm-server run` subprocess on a loopback port (SQLite file, or a throwaway
PostgreSQL database on 127.0.0.1:5432), its webhook worker running as in production.
Prints one JSON object on stdout:
  change_feed_rows_per_s_<backend>   a system following GET /api/v1/account/changes from 0
                                     to the end over --rows accounts (pushed by a device
                                     first), pages of 5,000
  api_write_p95_ms_<backend>         POST /api/v1/deal with an Idempotency-Key, one
                                     client, --writes writes, each answered after commit
                                     (measured first, on a small database)
  webhook_delivery_p95_ms_<backend>  a device pushes 20 new deals every 0.1 s (200
                                     changes/s, --changes in all); from the moment the
                                     push request is sent (before its commit: an upper
                                     bound) to the loopback receiver getting the
                                     `deal.created` delivery
  change_feed_rows_per_s, api_write_p95_ms, webhook_delivery_p95_ms: the first backend's
Targets (issue 25): feed >= 20,000 rows/s, write p95 <= 50 ms, delivery p95 <= 500 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from benchmarks._util import log, pct
from benchmarks.sync_server import PASSWORD, batches, push_all
from server import integrations as ig
from server import webhooks as wh
from server.admin import add_user
from tests.servers import create_pg_database, drop_pg_database, login, start_server

FEED_PAGE = 5000
CHANGES_PER_TICK = 20
TICK_S = 0.1


class Receiver:
    """A loopback webhook endpoint: when each record's delivery arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                doc = json.loads(body)
                recv.arrived.setdefault(doc["record_id"], time.perf_counter())
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def feed_rate(url: str, key: str, expect: int) -> float:
    seen = 0
    cursor = 0
    t0 = time.perf_counter()
    with httpx.Client(timeout=120) as c:
        while True:
            r = c.get(f"{url}/api/v1/account/changes", params={"since": cursor,
                                                               "limit": FEED_PAGE},
                      headers={"X-Integration-Key": key})
            r.raise_for_status()
            page = r.json()
            seen += len(page["changes"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
    if seen != expect:
        raise RuntimeError(f"the feed gave {seen} records, {expect} expected")
    return seen / (time.perf_counter() - t0)


def write_p95(url: str, key: str, n: int) -> float:
    samples = []
    with httpx.Client(timeout=60) as c:
        for i in range(n):
            t0 = time.perf_counter()
            r = c.post(f"{url}/api/v1/deal", json={"fields": {
                "title": f"Payment {i}", "owner": "admin", "collected_amount": 100 + i}},
                headers={"X-Integration-Key": key, "Idempotency-Key": f"bench-{i}"})
            samples.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 201:
                raise RuntimeError(f"write {i}: {r.status_code} {r.text[:200]}")
    return pct(samples, 95)


def deals(device: str, n: int, start_id: int) -> list[dict[str, Any]]:
    """New deals as push entries (deals: the duplicate checker, which reads accounts and
    contacts, stays out of the measurement)."""
    out = []
    for i in range(n):
        stamp = f"{1_732_250_000_000 + i:013d}-0000-{device}"
        out.append({"device_id": device, "seq": i + 1, "entity": "deal",
                    "record_id": f"0190b2a4-0000-7000-8000-{start_id + i:012d}",
                    "fields": {k: {"value": v, "hlc": stamp} for k, v in {
                        "title": f"商机 {i}", "amount": 1000 + i, "stage": "lead"}.items()}})
    return out


def delivery_p95(url: str, token: str, engine: Any, n: int, start_id: int) -> float:
    recv = Receiver()
    try:
        wh.add(engine, "bench", recv.url, ["deal.created"])
        time.sleep(0.5)  # the worker sees the subscription
        entries = deals("bench-dev", n, start_id)
        sent: dict[str, float] = {}
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=60) as c:
            next_tick = time.perf_counter()
            for i in range(0, len(entries), CHANGES_PER_TICK):
                chunk = entries[i:i + CHANGES_PER_TICK]
                now = time.perf_counter()
                if now < next_tick:
                    time.sleep(next_tick - now)
                next_tick += TICK_S
                t0 = time.perf_counter()
                for e in chunk:
                    sent[e["record_id"]] = t0
                r = c.post(f"{url}/v1/push", json={"entries": chunk}, headers=headers)
                r.raise_for_status()
        deadline = time.perf_counter() + 60
        while len(recv.arrived) < len(sent) and time.perf_counter() < deadline:
            time.sleep(0.05)
        if len(recv.arrived) < len(sent):
            raise RuntimeError(f"{len(sent) - len(recv.arrived)} deliveries missing")
        return pct([(recv.arrived[r] - t) * 1000 for r, t in sent.items()], 95)
    finally:
        recv.close()


def run_backend(backend: str, rows: int, writes: int, changes: int,
                workdir: Path) -> dict[str, float]:
    url = create_pg_database("fieldcrm_bench") if backend == "postgresql" else None
    srv = start_server(workdir / backend, url)
    try:
        add_user(srv.engine, "admin", "admin", PASSWORD)
        admin = login(srv.url, "admin", PASSWORD, "bench-admin")
        every = [f"{e}:*" for e in ig.API_ENTITIES]
        key = str(ig.add(srv.engine, "bench", ig.Scopes.parse(every, every), 10**7)["key"])
        log(f"[{backend}] {writes} API writes")
        write = write_p95(srv.url, key, writes)
        log(f"[{backend}] webhooks under 200 changes/s, {changes} changes")
        dev = login(srv.url, "admin", PASSWORD, "bench-dev")
        deliver = delivery_p95(srv.url, dev["access_token"], srv.engine, changes, 10_000_000)
        log(f"[{backend}] {rows} accounts pushed by a device")
        push_all(srv.url, admin["access_token"], batches("bench-admin", rows, 0))
        log(f"[{backend}] change feed from 0")
        rate = feed_rate(srv.url, key, rows)
        return {f"change_feed_rows_per_s_{backend}": round(rate),
                f"api_write_p95_ms_{backend}": round(write, 1),
                f"webhook_delivery_p95_ms_{backend}": round(deliver, 1)}
    finally:
        srv.close()
        if url:
            drop_pg_database(url)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--rows", type=int, default=200_000, help="accounts the feed walks")
    ap.add_argument("--writes", type=int, default=500, help="API writes timed")
    ap.add_argument("--changes", type=int, default=2_000, help="changes at 200/s for webhooks")
    args = ap.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fieldcrm-bench-") as tmp:
        for b in backends:
            metrics.update(run_backend(b, args.rows, args.writes, args.changes, Path(tmp)))
    for name in ("change_feed_rows_per_s", "api_write_p95_ms", "webhook_delivery_p95_ms"):
        metrics[name] = metrics[f"{name}_{backends[0]}"]
    metrics["feed_rows"] = args.rows
    metrics["cores"] = os.cpu_count()
    metrics["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(metrics) if args.json else json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
