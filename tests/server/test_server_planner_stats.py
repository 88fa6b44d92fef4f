"""The server keeps PostgreSQL's planner statistics current even with autovacuum off (as
on the CI machines): without them a manager's first-sync page sorted every visible record
on disk. Own database per test, so the tables start never analyzed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conftest import hlc, rid

from server.auth import Principal
from server.db import open_database
from server.planner_stats import BASE_THRESHOLD, PlannerStats
from server.pull import pull_page
from server.push import Entry, apply_push
from tests.pg import pg_database


@pytest.fixture
def pg() -> Iterator[sa.Engine]:
    for url in pg_database("fieldcrm_stats"):
        engine = open_database(url)
        yield engine
        engine.dispose()


def _boss() -> Principal:
    from desktop.schema import Role

    return Principal("u-boss", "boss", Role.ADMIN, "dev-boss", ())


def _push(engine: sa.Engine, n: int, start: int = 1) -> None:
    entries = [Entry("dev-boss", start + i, "account", rid(),
                     {"name": (f"客户{start + i}", hlc(1_700_000_000_000 + i), None)})
               for i in range(n)]
    apply_push(engine, _boss(), entries, lambda _v: None)


def _analyzed(engine: sa.Engine) -> tuple[bool, float]:
    with engine.connect() as conn:
        done = conn.execute(sa.text(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'records'")).scalar_one()
        tuples = conn.execute(sa.text(
            "SELECT reltuples FROM pg_class WHERE relname = 'records'")).scalar_one()
    return bool(done), float(tuples)


def test_a_loaded_never_analyzed_database_is_analyzed_at_start(pg: sa.Engine) -> None:
    _push(pg, 600)
    assert _analyzed(pg) == (False, -1.0)  # autovacuum is off here: PostgreSQL would plan blind
    stats = PlannerStats(pg)
    stats.start()
    stats.join()
    assert _analyzed(pg) == (True, 600.0)


def test_writes_past_the_threshold_trigger_an_analysis(pg: sa.Engine) -> None:
    stats = PlannerStats(pg)
    stats.start()  # empty tables: nothing to do
    stats.join()
    assert _analyzed(pg)[0] is False
    _push(pg, BASE_THRESHOLD)
    stats.wrote(BASE_THRESHOLD)  # not past 50 + 10% of 0
    stats.join()
    assert _analyzed(pg)[0] is False
    _push(pg, 1000, start=BASE_THRESHOLD + 1)
    stats.wrote(1000)
    stats.join()
    assert _analyzed(pg) == (True, 1050.0)
    # Now 10% of 1,050 rows more are needed before the next analysis.
    _push(pg, 100, start=2000)
    stats.wrote(100)
    stats.join()
    assert _analyzed(pg)[1] == 1050.0
    # The pull pages still work the same with statistics in place.
    body, n, _ = pull_page(pg, _boss(), 0, 500, False)
    assert n == 500 and "客户".encode() in body


def test_sqlite_needs_no_statistics(tmp_path: object) -> None:
    engine = open_database(f"sqlite:///{tmp_path}/s.db")
    stats = PlannerStats(engine)
    stats.start()
    stats.wrote(10_000)
    assert stats._thread is None  # SQLite's queries name their index
    engine.dispose()


def test_a_server_shutting_down_drops_the_analysis_still_waiting(pg: sa.Engine) -> None:
    """A test (or a restore) drops the database right after the server stops: the
    analysis waiting for its 10 s turn must not run against it then."""
    stats = PlannerStats(pg)
    _push(pg, 600)
    stats.start()  # never analyzed: analyzes at once
    stats.join()
    _push(pg, 1000, start=601)
    stats.wrote(1000)  # due, but within MIN_INTERVAL_S of the last one: it waits
    assert stats._running
    stats.stop(timeout=2.0)
    assert stats._thread is not None and not stats._thread.is_alive()
    assert not stats._running
    assert _analyzed(pg)[1] == 600.0  # the waiting analysis did not run
