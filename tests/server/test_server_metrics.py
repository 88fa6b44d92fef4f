"""Prometheus metrics (server.metrics) on real loopback servers: requests by route
template and status, pushed and pulled rows, live streams, the duplicate-check backlog,
and two worker processes on one PostgreSQL each answering for itself."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from conftest import PASSWORD, Api, reset_pg, rid
from prometheus_client.parser import text_string_to_metric_families

from server.admin import add_user
from tests.servers import LiveServer, login


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(f"{url}/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_rows_streams_and_backlog_are_counted(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    before = scrape(api.url)
    a, b = rid(), rid()
    s.push(s.entry("account", a, {"name": "Acme"}), s.entry("account", b, {"name": "Beta"}))
    s.push(s.entry("account", a, {"name": "Acme"}, seq=1))  # a retry: duplicate
    s.push(s.entry("nonsense", rid(), {"name": "x"}))  # rejected
    assert len(s.pull()["changes"]) == 2
    api.client.get("/v1/blobs/not-a-sha", headers=s.headers)
    api.client.get("/no/such/path/42")
    after = scrape(api.url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("fieldcrm_http_requests_total", method="POST", route="/v1/push",
                 status="200") == 3
    assert delta("fieldcrm_http_requests_total", method="GET", route="/v1/pull",
                 status="200") == 1
    assert delta("fieldcrm_http_requests_total", method="GET", route="/v1/blobs/{sha256}",
                 status="404") == 1
    assert delta("fieldcrm_http_requests_total", method="GET", route="unmatched",
                 status="404") == 1
    assert delta("fieldcrm_http_request_duration_seconds_count", method="POST",
                 route="/v1/push") == 3
    assert delta("fieldcrm_push_entries_total", status="applied") == 2
    assert delta("fieldcrm_push_entries_total", status="duplicate") == 1
    assert delta("fieldcrm_push_entries_total", status="rejected") == 1
    assert delta("fieldcrm_pull_records_total") == 2
    assert value(after, "fieldcrm_dedupe_backlog") >= 0
    assert not any("no/such" in str(k) for k in after)  # raw paths never become labels

    # a live stream is counted while it is open
    opened = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with httpx.Client(timeout=10) as c, c.stream(
                "GET", f"{api.url}/v1/events", headers=s.headers) as r:
            assert r.status_code == 200
            opened.set()
            stop.wait(10)

    th = threading.Thread(target=listen)
    th.start()
    assert opened.wait(5)
    deadline = time.monotonic() + 5
    while value(scrape(api.url), "fieldcrm_live_streams") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert value(scrape(api.url), "fieldcrm_live_streams") == 1
    stop.set()
    th.join(10)
    deadline = time.monotonic() + 5
    while value(scrape(api.url), "fieldcrm_live_streams") > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert value(scrape(api.url), "fieldcrm_live_streams") == 0


def test_each_worker_process_answers_for_itself(pg_url: str, pg_engine: sa.Engine,
                                                 tmp_path: Path) -> None:
    """Several workers on one PostgreSQL: each /metrics counts its own requests, and the
    sum over the scraped workers is the whole (docs/server.md, "Metrics")."""
    reset_pg(pg_engine)
    add_user(pg_engine, "alice", "rep", PASSWORD)
    workers = [LiveServer(tmp_path / n, pg_url, {}) for n in ("a", "b")]
    starters = [threading.Thread(target=w.start) for w in workers]
    for th in starters:
        th.start()
    for th in starters:
        th.join()
    try:
        pushes = {0: 3, 1: 2}
        for i, w in enumerate(workers):
            tokens = login(w.url, "alice", PASSWORD, f"dev-{i}")
            for seq in range(1, pushes[i] + 1):
                entry = {"device_id": f"dev-{i}", "seq": seq, "entity": "account",
                         "record_id": rid(), "fields": {"name": {
                             "value": "N", "hlc": f"{1_732_250_000_000 + seq:013d}-0000-dev-{i}"}}}
                r = httpx.post(f"{w.url}/v1/push", json={"entries": [entry]}, timeout=10,
                               headers={"Authorization": f"Bearer {tokens['access_token']}"})
                assert r.status_code == 200, r.text
        seen = [value(scrape(w.url), "fieldcrm_push_entries_total", status="applied")
                for w in workers]
        assert seen == [3, 2]
    finally:
        for w in workers:
            w.close()
