"""`fieldcrm capture contract FILE [FILE ...] [--engine auto|tesseract|rapidocr] [--json]`.

desktop/cli.py calls `add_subcommand(capture_subparsers)`; this module also runs alone:
`python -m desktop.capture.contract_cli FILE ... --json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop.capture.ocr_engines import ENGINES
from desktop.errors import FieldCRMError


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "contract", help="read a contract's key fields from photos or scans",
        description="Read contract number, parties, credit codes, amount, currency and "
                    "signing date from photos (JPEG/PNG/HEIC/TIFF) or PDF scans; the files "
                    "together form one contract, pages in the order given.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--engine", choices=ENGINES, default="auto",
                   help="OCR engine (default: auto, the best one installed)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-accounts", action="store_true",
                   help="do not correct party names against the accounts in the profile")
    p.set_defaults(func=handle)
    return p


def handle(args: argparse.Namespace) -> int:
    """Print the fields; returns the exit status. Raises FieldCRMError (CaptureError) for
    bad input or a missing OCR engine: the caller prints it."""
    from desktop.capture.contract import capture_contract

    def progress(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    result = capture_contract(list(args.files), engine=args.engine, progress=progress)
    profile = getattr(args, "profile", None)
    if profile is not None and not args.no_accounts:
        _reconcile(Path(profile), result)
    data = result.to_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"engine {data['engine']}, {data['pages']} page(s), {data['seconds']:.1f} s")
    for name, r in result.fields.items():
        mark = "  " if not r.flagged else "? "
        value = "-" if r.value is None else r.value
        print(f"{mark}{name:>16}: {value}  ({r.confidence:.2f})")
    for w in data["warnings"]:
        print(f"warning: {w}")
    return 0


def _reconcile(profile: Path, result: Any) -> None:
    """Party names as the profile's accounts have them (contract_save.reconcile_parties);
    a profile without a database yet is left alone (not created)."""
    from desktop.store.store import DB_NAME

    if not (profile / DB_NAME).exists():
        return
    from desktop.capture.contract_save import reconcile_parties
    from desktop.store import Store

    with Store.open(profile) as store:
        reconcile_parties(store, result.fields)
    names = ("party_a_name", "party_b_name")
    result.warnings[:] = [
        w for w in result.warnings
        if not any(w.startswith(n + ": ") and not w.endswith(": not found") for n in names)
    ] + [f"{n}: {result.fields[n].warning}" for n in names if result.fields[n].warning]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldcrm capture")
    add_subcommand(parser.add_subparsers(dest="capture_command", required=True))
    args = parser.parse_args(["contract", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args))
    except FieldCRMError as exc:
        print(f"fieldcrm: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
