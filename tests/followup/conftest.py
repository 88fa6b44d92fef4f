"""Follow-up test fixtures: a store whose record clock is the injected test clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.followup.clock import FakeClock
from desktop.followup.scheduler import Scheduler
from desktop.followup.settings import FollowupSettings
from desktop.store import Store
from desktop.store.hlc import HybridClock

T0 = dt.datetime(2026, 6, 10, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


def open_store(profile: Path, clock: FakeClock, user: str = "alice") -> Store:
    store = Store.open(profile)
    store.clock = HybridClock(store.device_id, None,
                              now_ms=lambda: int(clock.now().timestamp() * 1000))
    store.set_user(user)
    return store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0, "Asia/Shanghai")


@pytest.fixture
def fstore(profile: Path, clock: FakeClock) -> Iterator[Store]:
    s = open_store(profile, clock)
    yield s
    s.close()


def make_scheduler(store: Store, clock: FakeClock, **settings: object) -> Scheduler:
    sched = Scheduler(store, clock, FollowupSettings(**settings))  # type: ignore[arg-type]
    store.on_change(sched.on_changes)
    return sched


def at(clock: FakeClock, **delta: float) -> str:
    return (clock.now() + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")
