"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def timed_ms(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def pct(samples: list[float], q: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(metrics: dict[str, Any], as_json: bool) -> None:
    rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics.items()}
    if as_json:
        print(json.dumps(rounded))
    else:
        for k, v in rounded.items():
            print(f"{k:>28}: {v}")


def evict(root: Path) -> int:
    """Drop a file, or every file under a folder, from the OS page cache (posix_fadvise
    DONTNEED after a sync): the next read comes from disk, as after a reboot."""
    paths = [root] if root.is_file() else [Path(d) / f for d, _, fs in os.walk(root) for f in fs]
    n = 0
    for p in paths:
        if p.is_symlink() or not p.is_file():
            continue
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            n += 1
        finally:
            os.close(fd)
    return n
