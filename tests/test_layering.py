"""The import-linter contracts in pyproject.toml hold (Qt only in desktop.ui, the store
imports only the schema, the server only schema + protocol)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower() or " 0 broken" in result.stdout.lower()


def test_every_test_folder_is_collected() -> None:
    """pytest skips folders named build, dist, venv... by default: a test folder with such
    a name would silently never run in CI."""
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).parent
    folders = {p.name for p in tests.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    out = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider",
                          str(tests)], capture_output=True, text=True, cwd=tests.parent).stdout
    collected = {line.split("/")[1] for line in out.splitlines()
                 if line.startswith("tests/") and "/" in line[6:]}
    assert folders <= collected, f"never collected: {sorted(folders - collected)}"
