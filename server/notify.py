"""Live "new version" fan-out.

`Notifier` wakes the SSE streams and long polls of this process. On PostgreSQL a
`PgListener` thread LISTENs on the channel every server process NOTIFYs on at commit,
so an edit pushed to one process wakes clients connected to another. On SQLite (one
process) pushes publish straight to the notifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

import psycopg
import sqlalchemy as sa

log = logging.getLogger(__name__)


class Notifier:
    """The newest version this process knows of; thread-safe `publish`, async `wait`."""

    def __init__(self, version: int = 0) -> None:
        self._version = version
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    @property
    def version(self) -> int:
        return self._version

    def reset(self, version: int) -> None:
        """Forget newer versions (tests that empty the database between cases)."""
        with self._lock:
            self._version = version

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def publish(self, version: int) -> None:
        with self._lock:
            if version <= self._version:
                return
            self._version = version
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop shutting down
                loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        ev, self._event = self._event, asyncio.Event()
        if ev is not None:
            ev.set()

    async def wait_newer(self, version: int, timeout: float) -> int:
        """Wait until a version above `version` is known or `timeout` passes; return the
        newest known version."""
        deadline = time.monotonic() + timeout
        while self._version <= version:
            remaining = deadline - time.monotonic()
            ev = self._event
            if remaining <= 0 or ev is None:
                break
            try:
                await asyncio.wait_for(ev.wait(), remaining)
            except TimeoutError:
                break
        return self._version


class PgListener(threading.Thread):
    """LISTEN on PostgreSQL and publish every notified version; reconnects on errors
    and catches up from the counter after each (re)connect."""

    def __init__(self, url: sa.URL, channel: str, notifier: Notifier) -> None:
        super().__init__(name="fieldcrm-pg-listener", daemon=True)
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.notifier = notifier
        self._stop_event = threading.Event()
        self.ready = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    row = conn.execute("SELECT version FROM counter WHERE id = 1").fetchone()
                    if row:
                        self.notifier.publish(int(row[0]))
                    self.ready.set()
                    while not self._stop_event.is_set():
                        for n in conn.notifies(timeout=0.5):
                            with contextlib.suppress(ValueError):
                                self.notifier.publish(int(n.payload))
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); retrying", exc)
                self._stop_event.wait(1.0)
