"""App start on the million-row store: `python -m benchmarks.app_start --json [--dir DIR]`.

Starts `fieldcrm` (desktop.ui.app.run_app, offscreen) in a fresh process on the store
that benchmarks.store built (1,000,000 accounts + 1,000,000 contacts), with the start-up
probe on, and reports when the main window was shown and when the first page of
accounts had loaded. "cold" drops the store's files from the page cache first.

  window_shown_cold_s, first_page_cold_s, window_shown_warm_s, first_page_warm_s
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._util import emit, evict, log

ROOT = Path(__file__).resolve().parents[1]


def start_once(profile: Path) -> dict[str, float]:
    code = ("from pathlib import Path; from desktop.ui.app import run_app; "
            f"raise SystemExit(run_app(Path({str(profile)!r}), [], 'zh'))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FIELDCRM_STARTUP_PROBE="1")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"the app failed to start: {done.stderr[-2000:]}")
    marks = json.loads(next(ln for ln in done.stderr.splitlines() if ln.startswith("{")))
    return {"window_shown_s": marks["window_shown_ms"] / 1000,
            "first_page_s": marks["first_page_ms"] / 1000, "rows": marks["rows"], "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("/tmp/fieldcrm-bench/store-1000000-1000000"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.dir / "store.db").exists():
        raise SystemExit(f"no store at {args.dir}: run `python -m benchmarks.store` first")
    log(f"evicted {evict(args.dir)} store files from the page cache")
    cold = start_once(args.dir)
    start_once(args.dir)
    warm = start_once(args.dir)
    emit({"window_shown_cold_s": round(cold["window_shown_s"], 3),
          "first_page_cold_s": round(cold["first_page_s"], 3),
          "window_shown_warm_s": round(warm["window_shown_s"], 3),
          "first_page_warm_s": round(warm["first_page_s"], 3),
          "first_page_rows": cold["rows"]}, args.json)


if __name__ == "__main__":
    main()
