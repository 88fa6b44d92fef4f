"""A hypothesis state machine over a real server: an admin changes the visibility rules at
random while a rep, a manager and a director edit the fields they may read and sync in
random order. After everyone syncs, every device holds exactly what its user may read:
readable fields as the server holds them, masked ones masked, hidden ones not at all
(not a byte of them in the profile folder), so all devices agree on what they may all
read."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from desktop.store.visibility import held_policy
from desktop.visibility import HIDDEN, MASKED, mask_text, parse_rules, policy_for
from server import visibility
from tests.sync.conftest import Device, Server

N_RECORDS = 2
FIELDS = ("industry", "region", "address")
ROLES = ("rep", "manager", "director")
# Per field: no rule, or readable by some roles with the others hidden or masked.
CHOICES = [None, (("director",), HIDDEN), (("director",), MASKED),
           (("manager", "director"), HIDDEN), (("manager", "director"), MASKED)]
_runs = itertools.count(1)


def make_machine(server: Server) -> type[RuleBasedStateMachine]:
    class Book(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            self.tmp = Path(tempfile.mkdtemp(prefix="vis-sm-"))
            run = next(_runs)
            self.users = [f"{role[0]}{run}" for role in ROLES]
            for user, role in zip(self.users, ROLES, strict=True):
                server.user(user, role, teams=(f"t{run}",))
            self.devices = [Device(self.tmp / u, server.url) for u in self.users]
            for d, u in zip(self.devices, self.users, strict=True):
                d.login(u)
            boss = self.devices[2]
            self.ids = [boss.repo("account").create(
                {"name": f"客户{i}", **{f: f"{f}-start-{i}" for f in FIELDS}})["id"]
                for i in range(N_RECORDS)]
            boss.sync()
            self.rules: dict[str, Any] = {"rules": []}
            visibility.replace_rules(server.engine, self.rules)
            self.counter = 0

        def teardown(self) -> None:
            for d in getattr(self, "devices", []):
                d.close()
            shutil.rmtree(getattr(self, "tmp", "/nonexistent"), ignore_errors=True)

        @rule(choice=st.lists(st.sampled_from(range(len(CHOICES))), min_size=len(FIELDS),
                              max_size=len(FIELDS)))
        def change_rules(self, choice: list[int]) -> None:
            rules = []
            for f, c in zip(FIELDS, choice, strict=True):
                picked = CHOICES[c]
                if picked is not None:
                    rules.append({"entity": "account", "field": f,
                                  "readable_by": list(picked[0]), "others": picked[1]})
            self.rules = {"rules": rules}
            visibility.replace_rules(server.engine, self.rules)

        @rule(d=st.integers(0, 2), rec=st.integers(0, N_RECORDS - 1),
              f=st.sampled_from(FIELDS))
        def edit(self, d: int, rec: int, f: str) -> None:
            dev = self.devices[d]
            if f in held_policy(dev.store).get("account", {}):
                return  # the app offers no editor for it
            if dev.store.conn.execute("SELECT 1 FROM account WHERE id = ?",
                                      (self.ids[rec],)).fetchone() is None:
                return
            self.counter += 1
            dev.repo("account").update(self.ids[rec], {f: f"{f}-{d}-{self.counter}"})

        @rule(d=st.integers(0, 2))
        def sync(self, d: int) -> None:
            self.devices[d].sync()

        def check(self) -> None:
            for _ in range(2):
                for dev in self.devices:
                    dev.sync()
            truth: dict[str, dict[str, Any]] = {}
            with server.engine.connect() as conn:
                for rid in self.ids:
                    doc = conn.exec_driver_sql(
                        "SELECT fields FROM records WHERE entity = 'account' AND record_id = "
                        + ("?" if server.backend == "sqlite" else "%s"), (rid,)).scalar_one()
                    truth[rid] = {k: w["value"] for k, w in orjson.loads(doc).items()}
            parsed = parse_rules(self.rules)
            for dev, role in zip(self.devices, ROLES, strict=True):
                policy = policy_for(parsed, role).get("account", {})
                assert held_policy(dev.store).get("account", {}) == policy
                dev.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                blob = b"".join(p.read_bytes() for p in dev.profile.rglob("*") if p.is_file())
                for rid in self.ids:
                    held = dev.repo("account").get(rid)
                    for f in FIELDS:
                        value = truth[rid].get(f)
                        how = policy.get(f)
                        if how is None:
                            assert held[f] == value, (role, f)
                        elif how == MASKED:
                            assert held[f] == mask_text(value), (role, f)
                        else:
                            assert held[f] is None, (role, f)
                            assert str(value).encode() not in blob, (role, f, value)

    class Checked(Book):
        def teardown(self) -> None:
            try:
                if hasattr(self, "devices"):
                    self.check()
            finally:
                Book.teardown(self)

    return Checked


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_every_device_holds_exactly_what_its_user_may_read(server: Server, backend: str) -> None:
    machine = make_machine(server)
    runner = machine.TestCase
    runner.settings = settings(max_examples=8 if backend == "sqlite" else 4,
                               stateful_step_count=15, deadline=None, derandomize=True,
                               suppress_health_check=list(HealthCheck))
    runner().runTest()
