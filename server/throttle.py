"""Password guessing is slowed per (user name, client address): after MAX_FAILURES wrong
passwords within WINDOW_S, further attempts are refused with 429 until the oldest
failure leaves the window. The failures live in the database, so every server process
on it counts the same attempts (a write per wrong password, none per right one)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import sqlalchemy as sa

from server import tables as t
from server.db import write_tx
from server.errors import api_error

MAX_FAILURES = 10
WINDOW_S = 300.0


def _key(username: str, address: str) -> str:
    # A digest: any user name fits the column and PostgreSQL text (no NUL), and the
    # table does not keep the names people mistyped.
    return hashlib.sha256(
        f"{username.casefold()}\0{address}".encode("utf-8", "surrogatepass")).hexdigest()


class LoginThrottle:
    def __init__(self, engine: sa.Engine, max_failures: int = MAX_FAILURES,
                 window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.time) -> None:
        # Wall-clock time: the processes sharing the database share no monotonic clock.
        self.engine = engine
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock

    def check(self, username: str, address: str) -> int:
        """Raise 429 when this user name from this address has failed too often; else
        return how many failures are on record (0: a right password needs no cleanup)."""
        now = self.clock()
        f = t.login_failures.c
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(f.failed_at)).where(
                    f.key == _key(username, address), f.failed_at > now - self.window_s)).one()
        if count >= self.max_failures:
            wait = int(self.window_s - (now - oldest)) + 1
            exc = api_error(429, "too_many_attempts",
                            f"Too many wrong passwords; try again in {wait} s.")
            exc.headers = {"Retry-After": str(wait)}
            raise exc
        return int(count)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        f = t.login_failures.c
        with write_tx(self.engine) as conn:
            # Failures past the window count for nothing: drop them (for every key, so a
            # spray of made-up user names cannot grow the table beyond one window).
            conn.execute(t.login_failures.delete().where(f.failed_at <= now - self.window_s))
            conn.execute(t.login_failures.insert().values(
                key=_key(username, address), failed_at=now))

    def succeeded(self, username: str, address: str) -> None:
        """Forget the failures (call it only when `check` found some: it writes)."""
        with write_tx(self.engine) as conn:
            conn.execute(t.login_failures.delete().where(
                t.login_failures.c.key == _key(username, address)))
