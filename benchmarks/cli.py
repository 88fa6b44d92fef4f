"""Start-up of whole `fieldcrm` processes, as a script or a rep at a terminal meets it
(issue 20): the median wall time of several runs of each command.

    python -m benchmarks.cli --json [--runs 9] [--accounts 500]

- `cli_help_s`: `fieldcrm --help` (target <= 0.3);
- `cli_account_list_s`: `fieldcrm account list --json` on a profile of --accounts demo
  accounts (target <= 0.4);
- `cli_note_s`: `fieldcrm capture note "TEXT" --json` (target <= 0.5);
- `cli_notes_stdin_per_s`: notes a second through one `capture note` reading stdin.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._util import emit, log

NOTE = "张总说下周二看工厂，预算200万"
NOTES = ["明天下午三点给王经理打电话，报价50到60万", "budget 80k USD, call Anna next Tuesday",
         "对方出价四百四十五万", "meeting on March 24 at 2:30 pm"]


def _fieldcrm() -> list[str]:
    exe = Path(sys.executable).with_name("fieldcrm")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "desktop.cli"]


def median_s(argv: list[str], runs: int, stdin: str | None = None) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--accounts", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cli = _fieldcrm()
    with tempfile.TemporaryDirectory() as tmp:
        profile = ["--profile", str(Path(tmp) / "p")]
        subprocess.run([*cli, *profile, "demo", "--accounts", str(args.accounts)],
                       capture_output=True, check=True)
        metrics = {
            "cli_help_s": median_s([*cli, "--help"], args.runs),
            "cli_account_list_s": median_s([*cli, *profile, "account", "list", "--json"],
                                           args.runs),
            "cli_note_s": median_s([*cli, *profile, "capture", "note", NOTE, "--json"],
                                   args.runs),
        }
        many = "\n".join(NOTES * 250) + "\n"
        took = median_s([*cli, *profile, "capture", "note", "--json"], 3, stdin=many)
        metrics["cli_notes_stdin_per_s"] = len(NOTES) * 250 / took
    log(f"runs {args.runs} each, profile of {args.accounts} demo accounts")
    emit(metrics, args.json)


if __name__ == "__main__":
    main()
