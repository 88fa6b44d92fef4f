"""Frozen app benchmark: bundle size and start-up time of the PyInstaller build.

    python -m benchmarks.frozen --json [--runs N]

Builds the Linux one-folder bundle, or reuses the cached build of this exact tree
(tests/packaging/frozen_build.py, cache outside the repo), then measures:
  bundle_mb              size of dist/FieldCRM without speech models (target <= 200)
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
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import emit, evict, log
from tests.packaging.frozen_build import EXECUTABLE, bundle_size_bytes, ensure_bundle, frozen_env

PROBE_TIMEOUT_S = 120


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="warm starts to take the median of")
    args = parser.parse_args()

    bundle, build_s = ensure_bundle(log=log)
    log(f"bundle {bundle} ({'cached' if build_s is None else f'built in {build_s:.0f} s'})")
    metrics: dict[str, Any] = {"bundle_mb": bundle_size_bytes(bundle) / 1e6}
    log(f"evicted {evict(bundle)} bundle files from the page cache; cold start")
    cold = start_once(bundle)
    metrics["frozen_start_s"] = cold["window_s"]
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
