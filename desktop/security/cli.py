"""`fieldcrm` sub-commands for data at rest and personal data:

    fieldcrm store status [--json]        is the store encrypted, is its key at hand
    fieldcrm store encrypt [--json]       encrypt the plain store in place (crash-safe)
    fieldcrm person export CONTACT_ID --out FILE [--json]   everything held about a person
    fieldcrm person erase CONTACT_ID [--json]               erase a person (admin; synced)
        (CONTACT_ID may also be a lead's id)
    fieldcrm lock status|set-pin|clear|unlock [--idle-min N] [--json]   the app lock (PIN on
        stdin for set-pin, clear and unlock)
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
    pe = sub.add_parser("person", help="a person's data (PIPL / GDPR): export or erase it")
    pe.add_argument("action", choices=["export", "erase"])
    pe.add_argument("contact_id", help="the id of a contact or of a lead")
    pe.add_argument("--out", help="export: the JSON file to write")
    pe.add_argument("--json", action="store_true", help="machine-readable output")
    pe.set_defaults(func=run_person)
    lk = sub.add_parser("lock", help="the app lock: a local PIN after idle minutes")
    lk.add_argument("action", choices=["status", "set-pin", "clear", "unlock"])
    lk.add_argument("--idle-min", type=int, help="set-pin: lock after this many idle minutes")
    lk.add_argument("--json", action="store_true", help="machine-readable output")
    lk.set_defaults(func=run_lock)


def run_lock(args: argparse.Namespace) -> int:
    import dataclasses

    from desktop.security import applock
    from desktop.store import Store

    store = Store.open(args.profile)
    try:
        if args.action == "status":
            st = applock.state(store)
            data = {**dataclasses.asdict(st), "tries_left": st.tries_left}
            _emit(args, data, ("locked after " + str(st.idle_min) + " idle minutes"
                               if st.has_pin else "no app lock PIN set"))
            return 0
        pin = sys.stdin.readline().strip()
        if args.action == "set-pin":
            st = applock.set_pin(store, pin, idle_min=args.idle_min)
            _emit(args, {"has_pin": True, "idle_min": st.idle_min},
                  f"PIN set; the app locks after {st.idle_min} idle minutes")
            return 0
        if args.action == "clear":
            ok = applock.clear_pin(store, pin)
            _emit(args, {"cleared": ok}, "app lock removed" if ok else "wrong PIN")
            return 0 if ok else 1
        result = applock.unlock(args.profile, store, pin)
        _emit(args, dataclasses.asdict(result),
              "unlocked" if result.ok else "this computer's data was wiped" if result.wiped
              else f"wrong PIN; {result.tries_left} tries left")
        return 0 if result.ok else 1
    finally:
        store.close()


def run_person(args: argparse.Namespace) -> int:
    from pathlib import Path

    from desktop.errors import ValidationError
    from desktop.store import Store
    from desktop.store.erasure import erase_person, export_person

    with Store.open(args.profile) as store:
        if args.action == "export":
            if not args.out:
                raise ValidationError("person export needs --out FILE.", field="out")
            data = export_person(store, args.contact_id)
            out = Path(args.out)
            out.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str),
                           encoding="utf-8")
            summary = {"contact_id": args.contact_id, "out": str(out),
                       "contacts": len(data["contacts"]),
                       "activities": len(data["activities"]), "files": len(data["files"])}
            _emit(args, summary, f"exported {summary['contacts']} contact(s) and "
                                 f"{summary['activities']} activities to {out}")
            return 0
        from desktop.sync.auth import META_ROLE

        if (store.meta_get(META_ROLE) or "admin") != "admin":
            raise ValidationError("Only an admin may erase a person; the server would "
                                  "refuse the erasure of a rep.")
        result = erase_person(store, args.contact_id, by=store.user or "admin")
    _emit(args, result, f"person {args.contact_id} erased: {result['contacts']} contact(s), "
                        f"{result['activities']} activities, {result['files']} file(s); "
                        "the next sync erases it on the server and every device")
    return 0


def run_store(args: argparse.Namespace) -> int:
    from desktop.store import cipher

    if args.action == "status":
        info = cipher.status(args.profile)
        state = ("encrypted" if info["encrypted"] else "not encrypted") + (
            " (in the older, slower format: `store encrypt` converts it)"
            if info["format"] == "legacy" else "") + (
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
            f"store re-encrypted in the current format: {summary['rows']} rows "
            f"in {summary['seconds']} s" if summary["reencrypted"] else
            f"store encrypted: {summary['tables']} tables, {summary['rows']} rows "
            f"in {summary['seconds']} s; its key is in the system keyring")
    _emit(args, summary, text)
    return 0
