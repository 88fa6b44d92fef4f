"""A hypothesis state machine: three replicas of one user edit the same records while
the network drops requests, loses replies after the server committed, and delivers
requests twice; replicas sync in random order, in small pages. At the end every replica
and the server hold the same data, and every field holds the value of the newest edit
made anywhere (so no acknowledged edit is lost and none is applied twice)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from desktop.errors import SyncError
from desktop.sync.engine import SyncEngine
from tests.sync.conftest import PASSWORD, Device, Server, snapshot

N_RECORDS = 3
FIELDS = ("industry", "region", "address")
_users = itertools.count(1)


class Faulty(httpx.BaseTransport):
    """Real loopback transport with one scheduled fault for the next request."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.fault = "none"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/auth/"):
            # Token refresh is not retried safely by design of the server (a replayed
            # refresh token ends the session): see test_sync_access for that case.
            return self.inner.handle_request(request)
        fault, self.fault = self.fault, "none"
        if fault == "drop":
            raise httpx.ConnectError("dropped", request=request)
        if fault == "duplicate":
            first = self.inner.handle_request(request)
            first.read()
            first.close()
        resp = self.inner.handle_request(request)
        if fault == "lose_reply":
            resp.read()
            resp.close()
            raise httpx.ReadError("reply lost", request=request)
        return resp


def make_machine(server: Server) -> type[RuleBasedStateMachine]:
    class Replicas(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            self.tmp = Path(tempfile.mkdtemp(prefix="sync-sm-"))
            self.user = f"u{next(_users)}"
            server.user(self.user)
            self.transports = [Faulty() for _ in range(3)]
            self.devices = [Device(self.tmp / f"r{i}", server.url, self.transports[i])
                            for i in range(3)]
            for d in self.devices:
                d.login(self.user)
            self.engines = [SyncEngine(d.profile, transport=t, live=False, push_batch=3,
                                       pull_page=2)
                            for d, t in zip(self.devices, self.transports, strict=True)]
            first = self.devices[0]
            self.ids = [first.repo("account").create({"name": f"记录{i}"})["id"]
                        for i in range(N_RECORDS)]
            # (id, field) -> (stamp, value)
            self.latest: dict[tuple[str, str], tuple[str, Any]] = {}
            self.counter = 0

        def teardown(self) -> None:
            for e in getattr(self, "engines", []):
                e.close()
            for d in getattr(self, "devices", []):
                d.close()
            for t in getattr(self, "transports", []):
                t.inner.close()
            shutil.rmtree(getattr(self, "tmp", "/nonexistent"), ignore_errors=True)

        def _known(self, r: int, rec: int) -> bool:
            return self.devices[r].store.conn.execute(
                "SELECT 1 FROM account WHERE id = ?", (self.ids[rec],)).fetchone() is not None

        def _note(self, r: int, rid: str, fname: str, value: Any) -> None:
            row = self.devices[r].store.conn.execute(
                "SELECT _clocks FROM account WHERE id = ?", (rid,)).fetchone()
            import json

            stamp = json.loads(row[0])[fname]
            old = self.latest.get((rid, fname))
            if old is None or stamp > old[0]:
                self.latest[(rid, fname)] = (stamp, value)

        @rule(r=st.integers(0, 2), rec=st.integers(0, N_RECORDS - 1), f=st.sampled_from(FIELDS))
        def edit(self, r: int, rec: int, f: str) -> None:
            if not self._known(r, rec):
                return
            self.counter += 1
            value = f"{f}-{r}-{self.counter}"
            rid = self.ids[rec]
            if self.devices[r].repo("account").get(rid, include_deleted=True)["deleted"]:
                self.devices[r].repo("account").restore(rid)
                self._note(r, rid, "deleted", False)
            self.devices[r].repo("account").update(rid, {f: value})
            self._note(r, rid, f, value)

        @rule(r=st.integers(0, 2), rec=st.integers(0, N_RECORDS - 1), delete=st.booleans())
        def tombstone(self, r: int, rec: int, delete: bool) -> None:
            if not self._known(r, rec):
                return
            repo = self.devices[r].repo("account")
            rid = self.ids[rec]
            if repo.get(rid, include_deleted=True)["deleted"] == delete:
                return
            (repo.delete if delete else repo.restore)(rid)
            self._note(r, rid, "deleted", delete)

        @rule(r=st.integers(0, 2),
              fault=st.sampled_from(["none", "none", "drop", "lose_reply", "duplicate"]))
        def sync(self, r: int, fault: str) -> None:
            self.transports[r].fault = fault
            try:
                self.engines[r].sync_once()
            except SyncError:
                assert fault in ("drop", "lose_reply")

        @precondition(lambda self: hasattr(self, "devices"))
        @invariant()
        def no_entry_is_lost_locally(self) -> None:
            for d in self.devices:
                assert d.store.journal.counts()["parked"] == 0

        def check_converged(self) -> None:
            for _ in range(2):
                for e in self.engines:
                    e.sync_once()
            snaps = [snapshot(d.store, ("account",)) for d in self.devices]
            assert snaps[0] == snaps[1] == snaps[2]
            fresh = Device(self.tmp / "fresh", server.url)
            fresh.login(self.user, PASSWORD)
            fresh.sync()
            assert snapshot(fresh.store, ("account",)) == snaps[0]  # the server agrees
            fresh.close()
            for (rid, fname), (_, value) in self.latest.items():
                assert snaps[0][f"account/{rid}"][fname] == value, (rid, fname)

    class Checked(Replicas):
        def teardown(self) -> None:
            try:
                if hasattr(self, "devices"):
                    self.check_converged()
            finally:
                Replicas.teardown(self)

    return Checked


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_replicas_converge_under_faults(server: Server, backend: str) -> None:
    machine = make_machine(server)
    runner = machine.TestCase
    runner.settings = settings(max_examples=25 if backend == "sqlite" else 12,
                               stateful_step_count=25,
                               deadline=None, derandomize=False,
                               suppress_health_check=list(HealthCheck))
    runner().runTest()
