"""`fieldcrm login | sync | status | conflicts | logout`, each with `--json`.

    from desktop.sync.cli_commands import add_subcommands
    add_subcommands(subparsers)   # handlers read args.profile (a Path); args.func(args) -> int

Exit codes: 0 done; 1 a failure with a message for the user; 2 signed out; 3 offline.
"""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop.errors import FieldCRMError

if TYPE_CHECKING:
    from desktop.sync.status import SyncStatus
    from desktop.sync.versions import ServerVersions

# The store, HTTP and sync engine are imported by the commands that use them, not here:
# `fieldcrm --help` and `fieldcrm account list` build this parser too (start-up time).

EXIT_FAILED = 1
EXIT_SIGNED_OUT = 2
EXIT_OFFLINE = 3


def add_subcommands(subparsers: Any) -> None:
    def add(name: str, handler: Callable[[argparse.Namespace], int],
            help_text: str) -> argparse.ArgumentParser:
        p = subparsers.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(func=handler)
        return p

    p = add("login", cmd_login, "Sign this profile in to a sync server.")
    p.add_argument("--server", required=True, help="server address, e.g. http://127.0.0.1:8765")
    p.add_argument("--user", required=True, help="your user name on the server")
    p = add("sync", cmd_sync, "Send local changes and receive the others' (keeps running).")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    add("status", cmd_status, "Show sign-in, pending changes, problems and last sync.")
    p = add("conflicts", cmd_conflicts, "List concurrent edits that were resolved for you.")
    p.add_argument("--resolve", type=int, metavar="ID", help="resolve one conflict")
    p.add_argument("--keep", choices=("mine", "theirs"), help="with --resolve: which value stays")
    p = add("logout", cmd_logout, "Sign out and remove this profile's local data.")
    p.add_argument("--force", action="store_true", help="also when changes are not sent yet")


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(text)


def _fail(args: argparse.Namespace, exc: FieldCRMError) -> int:
    from desktop.sync.errors import OfflineError, ServerBusyError, SignedOutError

    code = (EXIT_SIGNED_OUT if isinstance(exc, SignedOutError)
            else EXIT_OFFLINE if isinstance(exc, OfflineError | ServerBusyError) else EXIT_FAILED)
    if args.json:
        print(json.dumps({"ok": False, "error": exc.message, "kind": type(exc).__name__},
                         ensure_ascii=False))
    else:
        print(f"fieldcrm: {exc.message}", file=sys.stderr)
    return code


def _read_password(prompt: str = "Password: ") -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def cmd_login(args: argparse.Namespace) -> int:
    from desktop.sync import session

    try:
        password = _read_password()
        account = session.login(args.profile, args.server, args.user, password)
    except FieldCRMError as exc:
        return _fail(args, exc)
    _emit(args, {"ok": True, "server": account.server_url, "user": account.username,
                 "role": account.role},
          f"Signed in to {account.server_url} as {account.username} ({account.role}).")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from desktop.sync.engine import SyncEngine
    from desktop.sync.errors import SignedOutError

    engine = SyncEngine(args.profile, live=not args.once)
    try:
        if args.once:
            report = engine.sync_once()
            _emit(args, {"ok": True, **report.to_json(), "status": engine.status().to_json()},
                  f"Sent {report.pushed}, received {report.pulled}, "
                  f"{report.parked} problem(s), {report.conflicts} conflict(s).")
            return 0
        stop = threading.Event()
        old = signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            last: list[SyncStatus] = []

            def show(st: SyncStatus) -> None:
                if last and (last[-1].state, last[-1].pending) == (st.state, st.pending):
                    return
                last.append(st)
                _emit(args, st.to_json(), f"{st.state}: {st.pending} pending, "
                      f"{st.parked} problem(s), {st.fresh_text()}")

            engine._on_status = show
            engine.run(stop)
        finally:
            signal.signal(signal.SIGINT, old)
        st = engine.status()
        if st.state.value in ("wiped", "signed_out"):
            return _fail(args, SignedOutError(st.message or None))
        return 0
    except FieldCRMError as exc:
        return _fail(args, exc)
    finally:
        engine.close()


def cmd_status(args: argparse.Namespace) -> int:
    from desktop.store import Store
    from desktop.sync import versions
    from desktop.sync.auth import META_LAST_FRESH, load_account
    from desktop.sync.status import SyncStatus

    try:
        with Store.open(args.profile) as store:
            account = load_account(store)
            counts = store.journal.counts()
            conflicts = len(store.open_conflicts())
            last = store.meta_get(META_LAST_FRESH)
            cursor = int(store.meta_get("sync_cursor") or 0)
            signed_in = bool(account and account.load_token())
            told = versions.load(store)  # what the server said at the last sync
    except FieldCRMError as exc:
        return _fail(args, exc)
    last_fresh = float(last) if last else None
    st = SyncStatus(pending=counts.get("pending", 0), parked=counts.get("parked", 0),
                    conflicts=conflicts, last_fresh=last_fresh, cursor=cursor)
    data = {"ok": True, "signed_in": signed_in,
            "server": account.server_url if account else None,
            "user": account.username if account else None,
            "pending": st.pending, "parked": st.parked, "conflicts": st.conflicts,
            "cursor": cursor, "last_fresh": last_fresh,
            "last_fresh_age_s": None if last_fresh is None else round(time.time() - last_fresh, 3),
            "fresh_text": st.fresh_text(), **told.to_json()}
    who = f"{account.username} on {account.server_url}" if account else "not signed in"
    _emit(args, data, f"{who}\n{st.pending} change(s) waiting, {st.parked} sync problem(s), "
                      f"{st.conflicts} conflict(s); {st.fresh_text()}"
                      + _update_line(told))
    return 0


def _update_line(told: ServerVersions) -> str:
    kind = told.update()
    if kind == "none":
        return ""
    where = f" from {told.download_url}" if told.download_url else ""
    if kind == "required":
        return (f"\nThis version ({told.to_json()['client_version']}) can no longer sync: "
                f"install {told.latest or told.minimum}{where}. Your changes are kept.")
    return f"\nFieldCRM {told.latest} is available{where}."


def cmd_conflicts(args: argparse.Namespace) -> int:
    from desktop.store import Store

    try:
        with Store.open(args.profile) as store:
            if args.resolve is not None:
                if not args.keep:
                    print("fieldcrm: --resolve needs --keep mine|theirs", file=sys.stderr)
                    return EXIT_FAILED
                store.resolve_conflict(args.resolve, args.keep)
            items = store.open_conflicts()
    except FieldCRMError as exc:
        return _fail(args, exc)
    rows = [{"id": c.id, "entity": c.entity, "record_id": c.record_id, "field": c.field,
             "mine": c.local_value, "theirs": c.remote_value, "detected_at": c.detected_at}
            for c in items]
    text = "\n".join(f"#{r['id']} {r['entity']} {r['record_id']} {r['field']}: "
                     f"mine={r['mine']!r} theirs={r['theirs']!r}" for r in rows) or "No conflicts."
    _emit(args, {"ok": True, "conflicts": rows}, text)
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from desktop.sync import session

    try:
        dropped = session.logout(args.profile, force=args.force)
    except FieldCRMError as exc:
        return _fail(args, exc)
    _emit(args, {"ok": True, "dropped": dropped},
          "Signed out; the local data of this profile was removed."
          + (f" {dropped} unsent change(s) were dropped." if dropped else ""))
    return 0
