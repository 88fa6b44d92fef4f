"""Test set-up shared by every test: Qt offscreen before any Qt import, an in-memory
keyring (headless Linux has no default backend), and a fresh profile folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _memory_keyring() -> None:
    import keyring

    from tests.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "profile"


@pytest.fixture
def store(profile: Path):  # type: ignore[no-untyped-def]
    from desktop.store import Store

    s = Store.open(profile)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _stop_index_builders():  # type: ignore[no-untyped-def]
    """Each test's search-index builder processes end with it (desktop.store.indexer)."""
    yield
    from desktop.store.indexer import close_workers

    close_workers()
