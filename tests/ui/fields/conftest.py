"""The custom field UI tests talk to a real server (SQLite, in a thread) and put the
process-wide schema back after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.schema import reset_field_defs
from server.fields import forget_installed
from tests.sync.conftest import server  # noqa: F401  (fixture)


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture(autouse=True)
def _fresh_schema() -> Iterator[None]:
    reset_field_defs()
    forget_installed()
    yield
    reset_field_defs()
    forget_installed()
