"""Server-side sync throughput: push ingest, initial pull, 20 concurrent pushers.

    python -m benchmarks.sync_server --json [--backend sqlite|postgresql|both] [--rows N]

A real `fieldcrm-server run` subprocess on a loopback port (SQLite file, or a throwaway
PostgreSQL database on 127.0.0.1:5432); clients are httpx threads in this process
sending pre-encoded batches of 500 entries. Prints one JSON object on stdout:
  push_entries_per_s_<backend>              one client, batches of 500 new records
  pull_rows_per_s_<backend>                 initial pull of everything, pages of 2000
  server_entries_per_s_20_clients_<backend> 20 clients pushing at once
  server_entries_per_s_20_clients           the same for the first backend run
  *_per_server_cpu_s_<backend>               the same per CPU second of the server process
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from server.admin import add_user
from tests.servers import create_pg_database, drop_pg_database, login, start_server

BATCH = 500
PASSWORD = "bench-password"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def server_cpu_s(srv: Any) -> float:
    """CPU seconds (user + system) the server process has used so far (Linux)."""
    fields = Path(f"/proc/{srv.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def batches(device: str, n: int, start_id: int) -> list[bytes]:
    out = []
    seq = 0
    for b in range(0, n, BATCH):
        entries = []
        for i in range(b, min(n, b + BATCH)):
            seq += 1
            stamp = f"{1_732_250_000_000 + seq:013d}-0000-{device}"
            rec = f"0190b2a4-0000-7000-8000-{start_id + i:012d}"
            entries.append({"device_id": device, "seq": seq, "entity": "account", "record_id": rec,
                            "fields": {k: {"value": v, "hlc": stamp} for k, v in {
                                "name": f"客户 {start_id + i} 有限公司", "region": "华东",
                                "industry": "manufacturing", "lifecycle": "customer",
                                "address": f"上海市浦东新区 {i} 号",
                                "tags": ["vip", "2026"]}.items()}})
        out.append(json.dumps({"entries": entries}, ensure_ascii=False).encode())
    return out


def push_all(url: str, token: str, bodies: list[bytes]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(timeout=120) as c:
        for body in bodies:
            r = c.post(f"{url}/v1/push", content=body, headers=headers)
            r.raise_for_status()
            if any(x["status"] != "applied" for x in r.json()["results"]):
                raise RuntimeError("an entry was not applied")


def pull_all(url: str, token: str) -> int:
    rows = 0
    cursor = 0
    with httpx.Client(timeout=120) as c:
        while True:
            r = c.get(f"{url}/v1/pull", params={"cursor": cursor, "limit": 2000},
                      headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            page = r.json()
            rows += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                return rows


def run_backend(backend: str, rows: int, per_client: int, workdir: Path) -> dict[str, float]:
    url = create_pg_database("fieldcrm_bench") if backend == "postgresql" else None
    srv = start_server(workdir / backend, url)
    try:
        add_user(srv.engine, "admin", "admin", PASSWORD)
        for i in range(20):
            add_user(srv.engine, f"rep{i}", "rep", PASSWORD, [f"team{i % 2}"])
        admin = login(srv.url, "admin", PASSWORD, "bench-admin")
        bodies = batches("bench-admin", rows, 0)
        log(f"[{backend}] push {rows} entries, one client")
        t0, c0 = time.perf_counter(), server_cpu_s(srv)
        push_all(srv.url, admin["access_token"], bodies)
        push_rate = rows / (time.perf_counter() - t0)
        push_cpu = rows / max(1e-6, server_cpu_s(srv) - c0)
        log(f"[{backend}] initial pull")
        t0, c0 = time.perf_counter(), server_cpu_s(srv)
        pulled = pull_all(srv.url, admin["access_token"])
        pull_rate = pulled / (time.perf_counter() - t0)
        pull_cpu = pulled / max(1e-6, server_cpu_s(srv) - c0)
        assert pulled == rows, (pulled, rows)
        log(f"[{backend}] 20 clients x {per_client} entries")
        tokens = [login(srv.url, f"rep{i}", PASSWORD, f"bench-rep{i}")["access_token"]
                  for i in range(20)]
        work = [batches(f"bench-rep{i}", per_client, rows + (i + 1) * 1_000_000) for i in range(20)]
        threads = [threading.Thread(target=push_all, args=(srv.url, tokens[i], work[i]))
                   for i in range(20)]
        t0, c0 = time.perf_counter(), server_cpu_s(srv)
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        many_rate = 20 * per_client / (time.perf_counter() - t0)
        many_cpu = 20 * per_client / max(1e-6, server_cpu_s(srv) - c0)
        return {f"push_entries_per_s_{backend}": round(push_rate),
                f"pull_rows_per_s_{backend}": round(pull_rate),
                f"server_entries_per_s_20_clients_{backend}": round(many_rate),
                # Per CPU second of the server process: less sensitive to a loaded machine
                # (excludes the PostgreSQL server's own CPU).
                f"push_entries_per_server_cpu_s_{backend}": round(push_cpu),
                f"pull_rows_per_server_cpu_s_{backend}": round(pull_cpu),
                f"entries_per_server_cpu_s_20_clients_{backend}": round(many_cpu)}
    finally:
        srv.close()
        if url:
            drop_pg_database(url)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--rows", type=int, default=20_000, help="entries of the single-client push")
    ap.add_argument("--per-client", type=int, default=2_000, help="entries per client of the 20")
    args = ap.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fieldcrm-bench-") as tmp:
        for b in backends:
            metrics.update(run_backend(b, args.rows, args.per_client, Path(tmp)))
    metrics["server_entries_per_s_20_clients"] = (
        metrics[f"server_entries_per_s_20_clients_{backends[0]}"])
    metrics["cores"] = os.cpu_count()
    metrics["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(metrics) if args.json else json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
