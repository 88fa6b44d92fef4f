"""build_spec/requirements-build.txt is uv.lock's runtime set plus PyInstaller, hash-pinned,
and every package in it has a wheel for each release platform (Windows x64, macOS arm64
and x86_64). A lock change without regenerating the file fails here, with the fix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    found = shutil.which("uv") or next(
        (str(p) for p in (ROOT / ".venv-tools" / "bin" / "uv", Path(sys.prefix) / "bin" / "uv")
         if p.is_file()), None)
    assert found, "uv not found (./dev installs it into .venv-tools): needed to export uv.lock"
    return found


def test_build_requirements_match_the_lock_and_cover_every_platform() -> None:
    env = {**os.environ, "PATH": f"{Path(_uv()).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, str(ROOT / "build_spec" / "make_requirements.py"),
                           "--check"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_every_build_requirement_is_hash_pinned() -> None:
    text = (ROOT / "build_spec" / "requirements-build.txt").read_text("utf-8")
    blocks = [b for b in text.split("\n") if b and not b[0].isspace() and not b.startswith("#")]
    assert any(b.startswith("pyinstaller==") for b in blocks)
    for line in blocks:
        assert "==" in line and line.rstrip().endswith("\\"), f"not pinned with hashes: {line}"
