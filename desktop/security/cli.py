"""`fieldcrm` sub-commands for data at rest and personal data:

    fieldcrm store status [--json]        is the store encrypted, is its key at hand
    fieldcrm store encrypt [--json]       encrypt the plain store in place (crash-safe)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str) if args.json else text)


def add_subcommands(sub: Any) -> None:
    st = sub.add_parser("store", help="encryption at rest of this profile's store")
    st.add_argument("action", choices=["status", "encrypt"])
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=run_store)


def run_store(args: argparse.Namespace) -> int:
    from desktop.store import cipher

    if args.action == "status":
        info = cipher.status(args.profile)
        state = ("encrypted" if info["encrypted"] else "not encrypted") + (
            "" if info["key_in_keyring"] is not False else " (its key is missing)")
        _emit(args, info, f"{info['store']}: {state}")
        return 0 if info["key_in_keyring"] is not False else 1

    last = [-1]

    def progress(phase: str, done: float) -> None:
        pct = int(done * 100)
        if not args.json and (pct // 10 != last[0] // 10 or done in (0.0, 1.0)):
            print(f"  {phase} {pct}%", file=sys.stderr)
        last[0] = pct

    summary = cipher.encrypt_store(args.profile, progress)
    text = ("the store was already encrypted" if summary["already"] else
            f"store encrypted: {summary['tables']} tables, {summary['rows']} rows "
            f"in {summary['seconds']} s; its key is in the system keyring")
    _emit(args, summary, text)
    return 0
