"""Structured logs (server.logs) from a real `fieldcrm-server run` process: one JSON
access line per request with route, status, duration, request id, user and device and
no secret; X-Request-ID taken or made and echoed; the text format."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from conftest import PASSWORD

from server.admin import add_user
from tests.servers import login, start_server


def _lines(log: Path, want: int, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = log.read_text().splitlines()
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_json_access_lines_carry_the_request_and_no_secret(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "srv", args=("--log-format", "json"))
    try:
        add_user(srv.engine, "alice", "rep", PASSWORD)
        tokens = login(srv.url, "alice", PASSWORD, "laptop-1")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        entry = {"device_id": "laptop-1", "seq": 1, "entity": "account",
                 "record_id": "0190b2a4-0000-7000-8000-000000000001",
                 "fields": {"name": {"value": "Acme", "hlc": "1732250000001-0000-laptop-1"}}}
        r = httpx.post(f"{srv.url}/v1/push", json={"entries": [entry]},
                       headers={**auth, "X-Request-ID": "trace-42.a_b"}, timeout=10)
        assert r.status_code == 200 and r.headers["x-request-id"] == "trace-42.a_b"
        r = httpx.get(f"{srv.url}/v1/pull", headers={**auth, "X-Request-ID": "no spaces!"},
                      timeout=10)
        made = r.headers["x-request-id"]
        assert made != "no spaces!" and len(made) == 32
        httpx.post(f"{srv.url}/v1/auth/refresh", timeout=10,
                   json={"refresh_token": tokens["refresh_token"], "device_id": "laptop-1"})
        text = "\n".join(_lines(srv.data_dir / "server.log", 5))
    finally:
        srv.close()
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    access = [x for x in records if x["logger"] == "fieldcrm.access"]
    push = next(x for x in access if x["request_id"] == "trace-42.a_b")
    assert push["method"] == "POST" and push["route"] == "/v1/push"
    assert push["status"] == 200 and push["user"] == "alice" and push["device"] == "laptop-1"
    assert push["duration_ms"] > 0 and push["level"] == "info" and push["ts"].endswith("Z")
    pull = next(x for x in access if x["request_id"] == made)
    assert pull["route"] == "/v1/pull" and pull["status"] == 200
    assert any(x["route"] == "/v1/auth/login" and x["user"] is None for x in access)
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in text
    assert "Authorization" not in text and "Bearer" not in text


def test_text_format_and_access_log_off(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "text", args=("--log-format", "text"))
    try:
        assert httpx.get(f"{srv.url}/v1/health", timeout=10).status_code == 200
        lines = _lines(srv.data_dir / "server.log", 1)
    finally:
        srv.close()
    line = next(x for x in lines if "fieldcrm.access" in x)
    assert "GET /v1/health 200" in line and not line.startswith("{")
    quiet = start_server(tmp_path / "quiet", args=("--no-access-log",))
    try:
        assert httpx.get(f"{quiet.url}/v1/health", timeout=10).status_code == 200
        time.sleep(0.3)
        assert "fieldcrm.access" not in (quiet.data_dir / "server.log").read_text()
    finally:
        quiet.close()
