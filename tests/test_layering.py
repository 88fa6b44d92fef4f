"""The import-linter contracts in pyproject.toml hold (Qt only in desktop.ui, the store
imports only the schema, the server only schema + protocol)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower() or " 0 broken" in result.stdout.lower()


def test_every_test_folder_is_collected(pytestconfig: pytest.Config) -> None:
    """pytest skips folders named build, dist, venv... by default: a test folder with such
    a name would silently never run in CI. The rule is pytest's own (`norecursedirs`, the
    defaults or the project's), read from this run's configuration."""
    from fnmatch import fnmatch

    tests = Path(__file__).parent
    folders = sorted(p for p in tests.rglob("*") if p.is_dir() and (p / "__init__.py").exists())
    patterns = pytestconfig.getini("norecursedirs")
    skipped = [str(p.relative_to(tests)) for p in folders
               if any(fnmatch(part, pat) for part in p.relative_to(tests).parts
                      for pat in patterns)]
    assert not skipped, f"never collected (norecursedirs {patterns}): {skipped}"
