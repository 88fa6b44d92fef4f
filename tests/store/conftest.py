"""Store test fixtures."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from desktop.store import cipher
from tests.file_keyring import FileKeyring


@pytest.fixture
def file_keyring(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A keyring in a file: a forked child's keys reach its parent (kill -9 tests)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(tmp_path / "keyring.json"))
    cipher._cache.clear()
    yield
    cipher._cache.clear()
    keyring.set_keyring(previous)
