"""Contract OCR accuracy and speed over generated, distorted contract photos.

    python -m benchmarks.contract_ocr --json [--samples 30] [--seed 1000]

Prints one JSON object: field_accuracy_best (the engine `auto` picks),
field_accuracy_tesseract, seconds_per_page_best, seconds_per_page_tesseract,
peak_rss_mb, plus the sample count and the fields each engine got wrong most.
Progress goes to stderr. Targets: best >= 0.95, tesseract >= 0.85, <= 3 s/page.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def run(samples: int, seed: int) -> dict[str, Any]:
    from desktop.capture.contract import capture_contract
    from desktop.capture.ocr import get_engine
    from tests.capture.contract_samples import FIELDS_ALL, field_matches, make_sample

    best = get_engine("auto")
    engines = {"best": best, "tesseract": get_engine("tesseract")}
    metrics: dict[str, Any] = {"samples": samples, "best_engine": best.name}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(samples):
            s = make_sample(seed + i)
            files.append((s.write(Path(tmp)), s.truth, s.name))
        for label, engine in engines.items():
            right = total = 0
            seconds = 0.0
            wrong: Counter[str] = Counter()
            for path, truth, name in files:
                t0 = time.perf_counter()
                result = capture_contract([path], engine)
                seconds += time.perf_counter() - t0
                for field in FIELDS_ALL:
                    total += 1
                    if field_matches(field, result.fields[field].value, truth[field]):
                        right += 1
                    else:
                        wrong[field] += 1
                print(f"{label:>9} {name}: {right}/{total}", file=sys.stderr)
            metrics[f"field_accuracy_{label}"] = round(right / total, 4)
            metrics[f"seconds_per_page_{label}"] = round(seconds / len(files), 3)
            metrics[f"misses_{label}"] = dict(wrong.most_common())
    metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contract_ocr")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args(argv)
    metrics = run(args.samples, args.seed)
    if args.json:
        print(json.dumps(metrics))
    else:
        for k, v in metrics.items():
            print(f"{k:>28}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
