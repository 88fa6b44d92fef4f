"""Helpers for tests and benchmarks (server and client): start real servers on free
loopback ports, make throwaway PostgreSQL databases, log in.

They live in the tests tree, not in the `server` package, so they never ship: the wheel
and the PyInstaller bundle carry no test code, and the benchmarks already take their
helpers from here (tests.memory_keyring, tests.capture.*).

    from tests.servers import start_server, start_server_thread

    srv = start_server(tmp_path / "srv")                    # uvicorn subprocess, SQLite
    srv = start_server(tmp_path / "srv", database_url=pg)   # ... on PostgreSQL
    srv.url  -> "http://127.0.0.1:PORT";  srv.engine -> SQLAlchemy engine on its database
    add_user(srv.engine, "alice", "rep", "pw", teams=["north"])   # server.admin
    srv.kill()  (SIGKILL) / srv.stop() / srv.restart()

    with start_server_thread(tmp_path / "srv") as srv: ...  # in-process uvicorn thread

Set FIELDCRM_ARGON2_PROFILE=test in the test process to make password hashing cheap.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa

from server.cli import LISTENING
from server.config import Settings
from server.db import open_database

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_START_HINT = ("PostgreSQL is not running on 127.0.0.1:5432; start it with "
                 "`pg_ctlcluster --skip-systemctl-redirect 15 main start`")
REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerStartError(RuntimeError):
    pass


def create_pg_database(prefix: str = "fieldcrm_test") -> str:
    """Create an empty database on the local PostgreSQL; returns its SQLAlchemy URL.
    Raises RuntimeError naming the command to start PostgreSQL when it is down."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"{PG_START_HINT} ({exc})") from exc
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class LiveServer:
    """A `fieldcrm-server run` subprocess on a free loopback port."""

    data_dir: Path
    database_url: str | None
    env: dict[str, str]
    url: str = ""
    process: subprocess.Popen[str] | None = None
    args: tuple[str, ...] = ()  # more `fieldcrm-server run` options
    command: tuple[str, ...] = ()  # an installed `fieldcrm-server`; default: this tree's
    _engine: sa.Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = open_database(Settings(self.data_dir, self.database_url).url)
        return self._engine

    def start(self, port: int = 0, timeout: float = 30.0) -> LiveServer:
        cmd = [*(self.command or (sys.executable, "-m", "server.cli")), "run",
               "--data", str(self.data_dir), "--port", str(port)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        cmd += self.args
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "server.log").open("a")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                        env={**os.environ, **self.env},
                                        cwd=self.data_dir if self.command else REPO_ROOT)
        log.close()
        line = _read_line(self.process, timeout)
        if not line.startswith(LISTENING):
            self.kill()
            raise ServerStartError(
                f"server did not start: {line!r}; see {self.data_dir / 'server.log'}")
        self.url = line[len(LISTENING):].strip()
        threading.Thread(target=_drain, args=(self.process,), daemon=True).start()
        return self

    def restart(self) -> LiveServer:
        """Start again on the same port (after kill/stop)."""
        port = int(self.url.rsplit(":", 1)[1])
        self.stop()
        return self.start(port)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process:
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process:
            self.process.wait(10)
            if self.process.stdout:
                self.process.stdout.close()

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    out: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.readline())

    th = threading.Thread(target=read, daemon=True)
    th.start()
    th.join(timeout)
    return out[0] if out else ""


def _drain(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ValueError, OSError):
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass


def start_server(data_dir: Path, database_url: str | None = None,
                 env: Mapping[str, str] | None = None, port: int = 0,
                 args: tuple[str, ...] = (), command: tuple[str, ...] = ()) -> LiveServer:
    """Start `fieldcrm-server run` in a subprocess on 127.0.0.1 (a free port unless
    `port`); returns once it accepts connections. Call `.close()` when done. `command`:
    an installed server's executable, run outside this tree."""
    return LiveServer(data_dir, database_url, dict(env or {}), args=args,
                      command=command).start(port)


@dataclass
class ThreadServer:
    url: str
    app: Any
    _server: Any
    _thread: threading.Thread

    @property
    def engine(self) -> sa.Engine:
        engine: sa.Engine = self.app.state.engine
        return engine

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@contextlib.contextmanager
def serve_app_in_thread(app: Any) -> Iterator[ThreadServer]:
    """Serve an app (from `server.app.create_app`) with uvicorn in a thread of this
    process on a free loopback port."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise ServerStartError("in-process server did not start")
        time.sleep(0.005)
    ts = ThreadServer(f"http://127.0.0.1:{port}", app, server, thread)
    try:
        yield ts
    finally:
        ts.close()
        sock.close()


@contextlib.contextmanager
def start_server_thread(data_dir: Path, database_url: str | None = None) -> Iterator[ThreadServer]:
    """Open the database, build the app and serve it in a thread (see above)."""
    from server.app import create_app

    app = create_app(Settings(data_dir, database_url))
    try:
        with serve_app_in_thread(app) as ts:
            yield ts
    finally:
        app.state.engine.dispose()


def login(url: str, username: str, password: str, device_id: str) -> dict[str, Any]:
    """Log in over HTTP; returns the TokenPair JSON."""
    r = httpx.post(f"{url}/v1/auth/login", json={"username": username, "password": password,
                                                  "device_id": device_id}, timeout=10)
    r.raise_for_status()
    tokens: dict[str, Any] = r.json()
    return tokens
