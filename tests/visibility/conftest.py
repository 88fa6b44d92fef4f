"""Fixtures for the visibility tests: the sync fixtures (a real server over loopback on
SQLite and PostgreSQL, devices) and the process-wide schema put back after every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.schema import reset_field_defs
from server.fields import forget_installed
from tests.sync.conftest import (  # noqa: F401  (fixtures)
    backend,
    devices,
    pg_engine,
    pg_url,
    server,
)


@pytest.fixture(autouse=True)
def _fresh_schema() -> Iterator[None]:
    reset_field_defs()
    forget_installed()
    yield
    reset_field_defs()
    forget_installed()
