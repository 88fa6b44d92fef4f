"""What the per-request observer costs: request id, Prometheus metrics and the JSON access
line (server.logs.RequestObserver), against the same ASGI app without it.

    python -m benchmarks.server_observe --json [--requests N]

In-process, no sockets: a minimal ASGI app that answers 200 with a small body is called
N times bare and N times wrapped, with the access log on (JSON, written to /dev/null) and
off. Prints one JSON object:
  observe_us_per_request_json_log   the wrapper's added time per request, JSON access line
  observe_us_per_request_no_log     the same with the access log off (metrics, request id)
  bare_us_per_request               the bare app's time (the floor it is compared with)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

from benchmarks._util import emit, log
from server import logs
from server.metrics import Metrics

SCOPE: dict[str, Any] = {
    "type": "http", "method": "GET", "path": "/v1/pull", "query_string": b"cursor=0",
    "headers": [(b"host", b"x"), (b"authorization", b"Bearer secret")],
    "client": ("127.0.0.1", 5000), "state": {"fieldcrm_who": "alice/laptop-1"},
}


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"changes": []}'})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_m: Any) -> None:
    return None


async def _run(target: Any, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        await target(dict(SCOPE), _receive, _send)
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--requests", type=int, default=50_000)
    args = ap.parse_args()
    wrapped = logs.RequestObserver(app, Metrics())
    with open("/dev/null", "w") as sink:
        logs.configure("json", "warning", access=True)
        logging.getLogger().handlers[0].stream = sink  # type: ignore[attr-defined]
        asyncio.run(_run(wrapped, 2000))  # warm-up
        bare = min(asyncio.run(_run(app, args.requests)) for _ in range(3))
        with_log = min(asyncio.run(_run(wrapped, args.requests)) for _ in range(3))
        logs.configure("json", "warning", access=False)
        no_log = min(asyncio.run(_run(wrapped, args.requests)) for _ in range(3))
    log(f"bare {bare:.2f} us, +json log {with_log - bare:.2f} us, +no log {no_log - bare:.2f} us")
    emit({"bare_us_per_request": bare, "observe_us_per_request_json_log": with_log - bare,
          "observe_us_per_request_no_log": no_log - bare}, args.json)


if __name__ == "__main__":
    main()
