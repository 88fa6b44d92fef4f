"""Build (or reuse) the Linux one-folder bundle of FieldCRM for tests and benchmarks.

The bundle is cached OUTSIDE the repository, under
    $FIELDCRM_FROZEN_CACHE or ~/.cache/fieldcrm-frozen/<key>/FieldCRM
where <key> is a sha256 of everything that goes into it: uv.lock, pyproject.toml, every
file under build_spec/, desktop/ and resources/ (tracked or not, as PyInstaller sees
them), the Python version and the installed distributions. An identical tree is not
rebuilt; older cache entries are pruned (the newest KEEP stay).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build_spec" / "fieldcrm.spec"
INPUT_DIRS = ("build_spec", "desktop", "resources")
INPUT_FILES = ("uv.lock", "pyproject.toml")
APP = "FieldCRM"
EXECUTABLE = "fieldcrm"
KEEP = 2
LOG_TAIL_LINES = 60
BUILD_TIMEOUT_S = 1500


class FrozenBuildError(Exception):
    """PyInstaller failed; the message holds the tail of its log."""


def cache_root() -> Path:
    env = os.environ.get("FIELDCRM_FROZEN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "fieldcrm-frozen"


def _input_files() -> list[Path]:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
         "--", *INPUT_DIRS], capture_output=True, check=True).stdout.decode()
    files = {ROOT / p for p in out.split("\0") if p}
    files |= {ROOT / f for f in INPUT_FILES}
    return sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts)


def build_key() -> str:
    h = hashlib.sha256()
    h.update(f"{sys.version}|{sys.platform}|{os.uname().machine}\n".encode())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    h.update("\n".join(dists).encode())
    for path in _input_files():
        h.update(b"\0" + str(path.relative_to(ROOT)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _prune(root: Path, keep_key: str) -> None:
    entries = sorted((p for p in root.iterdir() if p.is_dir() and p.name != keep_key
                      and (p / APP).is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def ensure_bundle(log: Callable[[str], None] = print) -> tuple[Path, float | None]:
    """The bundle folder (dist/FieldCRM) for this tree, and the build time in seconds
    (None when it came from the cache). Raises FrozenBuildError with the log tail."""
    key = build_key()
    root = cache_root()
    entry = root / key
    bundle = entry / APP
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time on this machine
        if (bundle / EXECUTABLE).is_file() and (entry / "complete").is_file():
            os.utime(entry)
            return bundle, None
        shutil.rmtree(entry, ignore_errors=True)
        work = entry / "work"
        dist = entry / "dist"
        log_path = entry / "pyinstaller.log"
        entry.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items()
               if k not in {"PYTHONPATH", "PYTHONHOME", "FIELDCRM_TESSERACT_DIR",
                            "FIELDCRM_VOSK_MODEL_DIRS", "FIELDCRM_EXCLUDE_MODULES",
                            "QT_QPA_PLATFORM"}}
        log(f"building the frozen app into {entry} (log: {log_path})")
        started = time.monotonic()
        with open(log_path, "w") as out:
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                     "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                    timeout=BUILD_TIMEOUT_S)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = -1
                out.write(f"\n[frozen_build] PyInstaller did not finish in {BUILD_TIMEOUT_S} s\n")
        seconds = time.monotonic() - started
        if code != 0 or not (dist / APP / EXECUTABLE).is_file():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
            raise FrozenBuildError(
                f"PyInstaller failed (exit {code}) after {seconds:.0f} s; last lines of "
                f"{log_path}:\n{tail}")
        (dist / APP).rename(bundle)
        shutil.rmtree(dist, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)  # the bundle is all we reuse
        (entry / "build_seconds").write_text(f"{seconds:.1f}\n")
        (entry / "complete").write_text(key + "\n")
        _prune(root, key)
        return bundle, seconds


def bundle_size_bytes(bundle: Path, skip: tuple[str, ...] = ("vosk-models",)) -> int:
    """Bytes in the bundle, without the top-level folders in `skip` (speech models)."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(bundle):
        rel = Path(dirpath).relative_to(bundle).parts
        if any(part in skip for part in rel[:2]):
            continue
        for f in filenames:
            p = Path(dirpath) / f
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def frozen_env() -> dict[str, str]:
    """Environment for running the frozen app here: nothing of the dev venv leaks in,
    Qt offscreen, and the in-memory keyring (this machine has no Secret Service)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "FIELDCRM_PROFILE"}}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHON_KEYRING_BACKEND"] = "desktop.smoke.SmokeTestKeyring"
    return env
