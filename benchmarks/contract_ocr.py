"""Contract OCR accuracy and speed over generated, distorted contract photos.

    python -m benchmarks.contract_ocr --json [--samples 12] [--seed 1000]
        [--engine both|best|tesseract] [--classes mixed,hand_shadow,...]

`--samples` pages are drawn for each failure class (tests/capture/contract_samples.CLASSES:
a hand's hard shadow, a finger over a corner, glare, a curved page, JPEG at quality 60, a
1280-pixel photo, a misread place name in a party name) and for "mixed", the random mix of
milder distortions. Prints one JSON object: field_accuracy_best (the engine `auto` picks)
and field_accuracy_tesseract over all pages, seconds_per_page_*, per_class (each class's
field accuracy, seconds a page and misses per engine), cpu_seconds_per_page_* (all
threads; on a shared machine wall time mostly measures the others), load_average,
peak_rss_mb, the sample count and the fields each engine got wrong most. Progress goes to stderr.
Targets: best >= 0.95 in every class, tesseract >= 0.85 on "mixed", <= 3 s/page.
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


def _cpu() -> float:
    """CPU seconds of this process's threads and of finished children (Tesseract)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(samples: int, seed: int, engine: str = "both",
        classes: list[str] | None = None) -> dict[str, Any]:
    from desktop.capture.contract import capture_contract
    from desktop.capture.ocr import get_engine
    from tests.capture.contract_samples import CLASSES, FIELDS_ALL, field_matches, make_sample

    chosen = classes or ["mixed", *CLASSES]
    unknown = [c for c in chosen if c != "mixed" and c not in CLASSES]
    if unknown:
        raise SystemExit(f"unknown class(es) {', '.join(unknown)}: use mixed, "
                         + ", ".join(CLASSES))
    engines = {}
    if engine in ("both", "best"):
        engines["best"] = get_engine("auto")
    if engine in ("both", "tesseract"):
        engines["tesseract"] = get_engine("tesseract")
    metrics: dict[str, Any] = {"samples": samples * len(chosen), "samples_per_class": samples}
    if "best" in engines:
        metrics["best_engine"] = engines["best"].name
    per_class: dict[str, dict[str, Any]] = {c: {} for c in chosen}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        order = ["mixed", *CLASSES]  # a class's pages do not depend on the others chosen
        for cls in chosen:
            for i in range(samples):
                s = make_sample(seed + 100 * order.index(cls) + i,
                                kinds=None if cls == "mixed" else CLASSES[cls])
                files.append((cls, s.write(Path(tmp)), s.truth, s.name))
        for label, eng in engines.items():
            right = total = 0
            seconds = cpu = 0.0
            wrong: Counter[str] = Counter()
            by_class: dict[str, list[float]] = {c: [0, 0, 0.0] for c in chosen}
            class_wrong: dict[str, Counter[str]] = {c: Counter() for c in chosen}
            for cls, path, truth, name in files:
                t0, c0 = time.perf_counter(), _cpu()
                result = capture_contract([path], eng)
                took = time.perf_counter() - t0
                seconds += took
                cpu += _cpu() - c0
                by_class[cls][2] += took
                for field in FIELDS_ALL:
                    total += 1
                    by_class[cls][1] += 1
                    if field_matches(field, result.fields[field].value, truth[field]):
                        right += 1
                        by_class[cls][0] += 1
                    else:
                        wrong[field] += 1
                        class_wrong[cls][field] += 1
                print(f"{label:>9} {cls:>11} {name}: {right}/{total} {took:.2f} s", file=sys.stderr)
            metrics[f"field_accuracy_{label}"] = round(right / total, 4)
            metrics[f"seconds_per_page_{label}"] = round(seconds / len(files), 3)
            metrics[f"cpu_seconds_per_page_{label}"] = round(cpu / len(files), 3)
            metrics[f"misses_{label}"] = dict(wrong.most_common())
            for cls, (r, t, sec) in by_class.items():
                per_class[cls][f"field_accuracy_{label}"] = round(r / max(1, t), 4)
                per_class[cls][f"seconds_per_page_{label}"] = round(sec / samples, 3)
                per_class[cls][f"misses_{label}"] = dict(class_wrong[cls].most_common())
    metrics["per_class"] = per_class
    metrics["load_average"] = round(os.getloadavg()[0], 2)
    metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contract_ocr")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--samples", type=int, default=12, help="pages per class")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--engine", choices=("both", "best", "tesseract"), default="both")
    parser.add_argument("--classes", default="",
                        help="comma-separated classes (default: mixed and every failure class)")
    args = parser.parse_args(argv)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] or None
    metrics = run(args.samples, args.seed, args.engine, classes)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
    else:
        for k, v in metrics.items():
            print(f"{k:>28}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
