"""The sync server's tables in tests: one throwaway PostgreSQL database per test package,
and emptying the tables between tests (both backends)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.servers import PG_START_HINT, create_pg_database, drop_pg_database

TABLES = ("lead_hidden", "lead_claim_days", "lead_state", "lead_rr", "lead_intake", "lead_api_keys",
          "dedupe_pairs", "dedupe_keys", "merged_records", "login_failures", "blob_uploaders",
          "blobs", "processed", "records", "refresh_tokens", "devices", "team_members",
          "user_regions", "users", "teams", "visibility_rules", "regions", "audit_log",
          "integrations", "integration_writes", "external_ids", "webhook_subscriptions",
          "webhook_deliveries", "webhook_worker", "webhook_state")


def pg_database(prefix: str) -> Iterator[str]:
    """A new database for a session fixture; PostgreSQL down fails the tests, never skips."""
    try:
        url = create_pg_database(prefix)
    except RuntimeError as exc:
        pytest.fail(f"{PG_START_HINT}: {exc}")
    yield url
    drop_pg_database(url)


def reset_db(engine: sa.Engine) -> None:
    """Empty every table (fast; the schema and the JWT key stay).

    A live server's background threads (the duplicate checker, planner statistics) may
    hold a table this TRUNCATE needs while waiting for one it already holds; PostgreSQL
    then aborts one of the two. Ours is simply tried again (seen in CI: a deadlock at
    the setup of a test right after a push)."""
    for attempt in range(5):
        try:
            _empty(engine)
            return
        except sa.exc.OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def _empty(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)}"))
        else:
            for table in TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(sa.text("UPDATE counter SET version = 0"))
        conn.execute(sa.text("UPDATE settings SET value = '0' WHERE key = 'dedupe_cursor'"))
