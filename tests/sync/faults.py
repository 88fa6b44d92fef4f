"""Fault injection for the sync tests: a transport that loses replies after the server
handled the request, and a small TCP proxy that delays, resets or swallows traffic."""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Callable

import httpx


class LoseReplies(httpx.BaseTransport):
    """Forward each request to the real server; for the ones `lose` picks, drop the
    reply after the server has answered (it committed; the client never hears)."""

    def __init__(self, lose: Callable[[httpx.Request], bool]) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.lost: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if self.lose(request):
            resp.read()
            resp.close()
            self.lost.append(request.url.path)
            raise httpx.ReadError("connection lost before the reply arrived", request=request)
        return resp

    def close(self) -> None:
        self.inner.close()


class FaultProxy:
    """TCP proxy on a free loopback port in front of `target` ("127.0.0.1", port).

    mode: "pass" | "delay" (each chunk waits `delay_s`) | "reset" (connections are reset
    with RST as soon as the request arrives) | "blackhole" (accepts, reads, never answers).
    The mode applies to connections opened after it is set."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "pass"
        self.delay_s = 0.05
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.drop_all()

    def drop_all(self) -> None:
        for c in list(self._conns):
            with contextlib.suppress(OSError):
                c.close()
        self._conns.clear()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(2)
        self.drop_all()
        time.sleep(0.6)  # let handler threads see the stop flag and close their sockets
        self.drop_all()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(client)
            threading.Thread(target=self._handle, args=(client, self.mode), daemon=True).start()

    def _handle(self, client: socket.socket, mode: str) -> None:
        if mode == "blackhole":
            with contextlib.suppress(OSError):
                client.settimeout(0.5)
                while not self._stop.is_set():
                    try:
                        if not client.recv(65536):
                            break
                    except TimeoutError:
                        continue
            with contextlib.suppress(OSError):
                client.close()
            return
        if mode == "reset":
            with contextlib.suppress(OSError):
                client.recv(65536)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        if self._stop.is_set():
            upstream.close()
            client.close()
            return
        self._conns.append(upstream)
        pair = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select(list(pair), [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if mode == "delay":
                        time.sleep(self.delay_s)
                    pair[s].sendall(data)
        except OSError:
            return
        finally:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.close()
