"""Frozen app benchmark: bundle size and start-up time of the PyInstaller build.

    python -m benchmarks.frozen --json [--runs N]

Builds the Linux one-folder bundle, or reuses the cached build of this exact tree
(tests/packaging/frozen_build.py, cache outside the repo), makes the Linux release from it
(build_spec/linux/make_tarball.py, the .tar.xz a rep downloads), then measures:
  download_mb            the release archive (xz --level, default 9 as released; minutes
                         on 2 cores; --level 0 for a quick look) (target <= 200)
  installed_mib          what it unpacks to, MiB (target <= 450)
  cold_start_s           = frozen_start_s (target <= 2)
  bundle_mb              size of dist/FieldCRM without speech models, MB
  bundle_top_mb          the largest entries of _internal/ (MB), biggest first
  frozen_start_s         process start to main window shown, bundle files evicted from
                         the page cache first (posix_fadvise DONTNEED: "cold" for the
                         app's own files; system libraries stay cached) (target <= 2)
  frozen_start_warm_s    the same, median of --runs warm starts
  frozen_first_page_s    process start to the first page of accounts on screen (cold run)
  build_s                PyInstaller time when this run built the bundle (else absent)
Start-up uses the app's own probe (FIELDCRM_STARTUP_PROBE=1, desktop/ui/app.py): it
prints window_shown_ms and first_page_ms (from run_app's start) and shown_at, the
wall-clock time the window was shown, then quits. Process start to window = shown_at -
the wall-clock time just before the process was started (older probes without shown_at:
time the probe line arrives - (first_page_ms - window_shown_ms)).
Runs offscreen on a fresh profile.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import emit, evict, log
from tests.packaging.frozen_build import (
    EXECUTABLE,
    ROOT,
    bundle_size_bytes,
    ensure_bundle,
    frozen_env,
)

PROBE_TIMEOUT_S = 120
TOP_ENTRIES = 12
SPEECH_MODELS = "vosk-models"  # left out of every size, as in bundle_mb


def start_once(bundle: Path) -> dict[str, float]:
    env = frozen_env()
    env["FIELDCRM_STARTUP_PROBE"] = "1"
    with tempfile.TemporaryDirectory(prefix="fieldcrm-bench-") as tmp:
        t0 = time.perf_counter()
        launched_at = time.time()
        proc = subprocess.Popen([str(bundle / EXECUTABLE), "--profile", str(Path(tmp) / "p")],
                                cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        marks: dict[str, Any] | None = None
        arrived = 0.0
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.lstrip().startswith("{") and "window_shown_ms" in line:
                arrived = time.perf_counter() - t0
                marks = json.loads(line)
                break
        try:
            proc.wait(timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if marks is None:
        raise RuntimeError(f"the frozen app printed no start-up probe (exit {proc.returncode})")
    if "shown_at" in marks:  # wall-clock moment run_app showed the window
        window_s = float(marks["shown_at"]) - launched_at
    else:
        window_s = arrived - (marks["first_page_ms"] - marks["window_shown_ms"]) / 1000
    return {"window_s": window_s, "first_page_s": arrived,
            "in_app_window_s": marks["window_shown_ms"] / 1000}


def top_entries(bundle: Path, n: int = TOP_ENTRIES) -> dict[str, float]:
    """The n largest files or folders directly in _internal/, in MB."""
    internal = bundle / "_internal"
    sizes = {entry.name: bundle_size_bytes(entry) if entry.is_dir() else entry.stat().st_size
             for entry in internal.iterdir() if not entry.is_symlink()}
    biggest = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:n]
    return {name: round(size / 1e6, 1) for name, size in biggest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="warm starts to take the median of")
    parser.add_argument("--level", type=int, default=9, choices=range(10),
                        help="xz level of the release archive (9, as released, takes minutes)")
    args = parser.parse_args()

    bundle, build_s = ensure_bundle(log=log)
    log(f"bundle {bundle} ({'cached' if build_s is None else f'built in {build_s:.0f} s'})")
    metrics: dict[str, Any] = {"bundle_mb": bundle_size_bytes(bundle) / 1e6}
    metrics["bundle_top_mb"] = top_entries(bundle)
    with tempfile.TemporaryDirectory(prefix="fieldcrm-release-") as out:
        log(f"making the release archive (xz -{args.level})")
        made = subprocess.run(
            [sys.executable, str(ROOT / "build_spec" / "linux" / "make_tarball.py"), "--bundle",
             str(bundle), "--out", out, "--level", str(args.level), "--json"],
            capture_output=True, text=True, check=True)
        release = json.loads(made.stdout)
    metrics["download_mb"] = release["download_mb"]
    metrics["installed_mib"] = release["installed_mib"]
    metrics["release_archive_s"] = release["seconds"]
    log(f"evicted {evict(bundle)} bundle files from the page cache; cold start")
    cold = start_once(bundle)
    metrics["frozen_start_s"] = metrics["cold_start_s"] = cold["window_s"]
    metrics["frozen_first_page_s"] = cold["first_page_s"]
    metrics["frozen_in_app_window_s"] = cold["in_app_window_s"]
    warm = [start_once(bundle)["window_s"] for _ in range(max(1, args.runs))]
    metrics["frozen_start_warm_s"] = statistics.median(warm)
    if build_s is not None:
        metrics["build_s"] = build_s
    metrics["cpus"] = os.cpu_count() or 0
    emit(metrics, args.json)


if __name__ == "__main__":
    main()
