"""A small real HTTP "ERP" on loopback for the tests of the API for systems: it receives
webhooks (and checks their signatures) and can be killed and started again on its port."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Erp:
    """Webhook receiver. `received`: every request in arrival order (duplicates too);
    `bad_signatures` counts requests whose signature did not verify. `die_after`: after
    this many requests it drops the next one without answering and stops listening (a
    kill mid-delivery)."""

    def __init__(self, secret: str, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.die_after: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        erp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ts = self.headers.get("X-FieldCRM-Timestamp", "")
                want = "sha256=" + hmac.new(erp.secret.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                with erp._lock:
                    if not hmac.compare_digest(want, self.headers.get("X-FieldCRM-Signature", "")):
                        erp.bad_signatures += 1
                    doc = json.loads(body)
                    doc["_delivery_header"] = self.headers.get("X-FieldCRM-Delivery")
                    erp.received.append(doc)
                    dying = erp.die_after is not None and len(erp.received) > erp.die_after
                if dying:  # received, but the answer never leaves: the sender must retry
                    erp.die_after = None
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    threading.Thread(target=erp.stop, daemon=True).start()
                    return
                self.send_response(204)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def running(self) -> bool:
        return self._server is not None

    def unique(self) -> list[dict[str, Any]]:
        """Each delivery once (by its id), in the order first received."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for doc in self.received:
                if doc["delivery_id"] not in seen:
                    seen.add(doc["delivery_id"])
                    out.append(doc)
        return out
