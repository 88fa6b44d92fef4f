"""Fault injection for the sync tests: a transport that loses replies after the server
handled the request, and a small TCP proxy that delays, resets or swallows traffic, or
gives chosen requests a fate (`FATES`): cut the request part-way, cut the response
part-way, stall the request body, stall the response."""

from __future__ import annotations

import contextlib
import re
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


# Fates for single requests (FaultProxy.fate):
#   cut_request     the head and `cut_bytes` of the body reach the server, then both sides close
#   cut_response    the whole request reaches the server; the client gets the response head
#                   and `cut_bytes` of its body, then both sides close
#   stall_request   the head and `cut_bytes` of the body reach the server, then nothing more
#                   (the client's socket stays open); what the server answers is recorded
#   stall_response  the whole request reaches the server; its response is never forwarded
FATES = ("cut_request", "cut_response", "stall_request", "stall_response")


class FaultProxy:
    """TCP proxy on a free loopback port in front of `target` ("127.0.0.1", port).

    mode: "pass" | "delay" (each chunk waits `delay_s`) | "reset" (connections are reset
    with RST as soon as the request arrives) | "blackhole" (accepts, reads, never answers)
    | "fate" (see `fate`). The mode applies to connections opened after it is set."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "pass"
        self.delay_s = 0.05
        self._fate = ""
        self._fate_path = re.compile("")
        self._fate_method = ""
        self.fates_left = 0
        self.cut_bytes = 100
        self.fated: list[str] = []  # "METHOD /path" of each request given its fate
        self.stall_answers: list[bytes] = []  # what the server answered a stalled body
        self.heads: list[bytes] = []  # the head of every request seen in "fate" mode
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._handlers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.drop_all()

    def fate(self, fate: str, path: str, *, method: str = "", times: int = 1,
             cut_bytes: int = 100) -> None:
        """Give the next `times` requests whose path matches the regex `path` (and
        `method`, if given) this fate; every other request passes. Each request then
        goes on its own connection (the proxy asks the server to close after it), so
        every one is seen here."""
        assert fate in FATES, fate
        self._fate, self._fate_path, self._fate_method = fate, re.compile(path), method
        self.fates_left, self.cut_bytes = times, cut_bytes
        self.set_mode("fate")

    def drop_all(self) -> None:
        for c in list(self._conns):
            # shutdown, not only close: it wakes a handler blocked in recv on this socket
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                c.close()
        self._conns.clear()

    def close(self) -> None:
        self._stop.set()
        # close() alone does not wake a thread blocked in accept() on Linux; shutdown does
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(2)
        self.drop_all()
        deadline = time.monotonic() + 2
        for h in self._handlers:  # each closes its upstream socket on the way out
            h.join(max(0.0, deadline - time.monotonic()))
        self.drop_all()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(client)
            handler = threading.Thread(target=self._handle, args=(client, self.mode), daemon=True)
            self._handlers.append(handler)
            handler.start()

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
        if mode == "fate":
            self._handle_fate(client)
            return
        if mode == "reset":
            with contextlib.suppress(OSError):
                client.recv(65536)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            return
        upstream = self._connect(client)
        if upstream is not None:
            self._relay(client, upstream, mode)

    def _connect(self, client: socket.socket) -> socket.socket | None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return None
        if self._stop.is_set():
            upstream.close()
            client.close()
            return None
        upstream.settimeout(None)
        self._conns.append(upstream)
        return upstream

    def _relay(self, client: socket.socket, upstream: socket.socket, mode: str) -> None:
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

    # ------------------------------------------------------------ fates
    def _handle_fate(self, client: socket.socket) -> None:
        head, rest = _read_head(client)
        if head is None:
            with contextlib.suppress(OSError):
                client.close()
            return
        method, path, length = _parse_head(head)
        self.heads.append(head)
        fate = ""
        if (self.fates_left > 0 and self._fate_path.search(path)
                and (not self._fate_method or method == self._fate_method)):
            self.fates_left -= 1
            fate = self._fate
            self.fated.append(f"{method} {path}")
        upstream = self._connect(client)
        if upstream is None:
            return
        try:
            if not fate:
                upstream.sendall(_with_connection_close(head) + rest)
                self._relay(client, upstream, "pass")
                return
            if fate in ("cut_request", "stall_request"):
                body = rest + _read_at_least(client, max(0, self.cut_bytes - len(rest)))
                upstream.sendall(head + body[: self.cut_bytes])
                if fate == "stall_request":
                    self.stall_answers.append(_read_until_closed(upstream, self._stop))
                else:
                    time.sleep(0.3)  # the link dies after these bytes reached the server
                return
            body = rest + _read_at_least(client, max(0, length - len(rest)))
            upstream.sendall(head + body)
            if fate == "stall_response":
                _hold(client, upstream, self._stop)
                return
            resp_head, resp_rest = _read_head(upstream)
            if resp_head is not None:
                client.sendall(resp_head + resp_rest[: self.cut_bytes])
        except OSError:
            return
        finally:
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.close()


def _read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
    """(head up to and including the blank line, bytes read after it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            data = sock.recv(65536)
        except OSError:
            return None, b""
        if not data:
            return None, b""
        buf += data
    end = buf.index(b"\r\n\r\n") + 4
    return buf[:end], buf[end:]


def _parse_head(head: bytes) -> tuple[str, str, int]:
    lines = head.decode("latin-1").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return method, target.split("?", 1)[0], length


def _with_connection_close(head: bytes) -> bytes:
    lines = [ln for ln in head[:-4].split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


def _read_at_least(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    return buf


def _read_until_closed(sock: socket.socket, stop: threading.Event, limit_s: float = 30.0) -> bytes:
    """Everything `sock` sends until it closes (or `limit_s`, or the proxy stops)."""
    buf = b""
    deadline = time.monotonic() + limit_s
    sock.settimeout(0.2)
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not data:
            break
        buf += data
    return buf


def _hold(client: socket.socket, upstream: socket.socket, stop: threading.Event,
          limit_s: float = 30.0) -> None:
    """Swallow what the server sends until either side closes (or `limit_s`)."""
    deadline = time.monotonic() + limit_s
    while not stop.is_set() and time.monotonic() < deadline:
        ready, _, _ = select.select([client, upstream], [], [], 0.2)
        for s in ready:
            try:
                if not s.recv(65536):
                    return
            except OSError:
                return
