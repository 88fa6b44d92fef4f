"""`fieldcrm`: with no sub-command it opens the app; sub-commands script the same services.

Every sub-command takes `--json` for machine-readable output. Errors meant for the user
(FieldCRMError) are printed as they are, with exit status 1; a validation error exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop.errors import FieldCRMError, ValidationError
from desktop.profile import default_profile
from desktop.schema import ENTITIES, MERGED_INTO, FieldType, is_server_only

# Sub-command groups that live beside the services they script: module, function name, parent.
PLUGINS: tuple[tuple[str, str, str | None], ...] = (
    ("desktop.capture.contract_cli", "add_subcommand", "capture"),
    ("desktop.capture.voice_cli", "add_subcommands", "capture"),
    ("desktop.sync.cli_commands", "add_subcommands", None),
    ("desktop.followup.cli_commands", "add_subcommands", None),
    ("desktop.dedupe.cli_commands", "add_subcommands", None),
    ("desktop.sync.fields_cli", "add_subcommands", None),
    ("desktop.entity_cli", "add_subcommands", None),
    ("desktop.exchange.cli", "add_subcommands", None),
    ("desktop.rep_cli", "add_subcommands", None),
    ("desktop.leads.cli", "add_subcommands", None),
    ("desktop.capture.models_cli", "add_subcommands", "capture"),
    ("desktop.security.cli", "add_subcommands", None),
    ("desktop.reports.cli", "add_subcommands", None),
    ("desktop.menu_entry", "add_subcommands", None),
)


def _emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=None, default=str))
    else:
        print(text())


def _open_store(args: argparse.Namespace) -> Any:
    from desktop.store import Store

    return Store.open(args.profile)


def _field_values(args: argparse.Namespace, entity: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in ENTITIES[entity].fields:
        v = getattr(args, f"f_{f.name}", None)
        if v is not None:
            values[f.name] = [p.strip() for p in v.split(",")] if f.type is FieldType.LIST else v
    return values


def _record_text(rec: dict[str, Any]) -> str:
    return "\n".join(f"{k:>16}: {v}" for k, v in rec.items() if v not in (None, [], ""))


# ---------------------------------------------------------------- account
def cmd_account(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        repo = store.repo("account")
        if args.action == "add":
            values = _field_values(args, "account")
            refused = _refuse_duplicate(args, store, "account", values)
            if refused is not None:
                return refused
            rec = repo.create(values)
            _emit(args, rec, lambda: f"created {rec['id']}  {rec['name']}")
        elif args.action == "update":
            rec = repo.update(args.id, _field_values(args, "account"))
            _emit(args, rec, lambda: f"updated {rec['id']}  {rec['name']}")
        elif args.action == "delete":
            repo.delete(args.id)
            _emit(args, {"id": args.id, "deleted": True},
                  lambda: f"deleted {args.id} (undo: fieldcrm account undelete {args.id})")
        elif args.action == "undelete":
            rec = repo.restore(args.id)
            _emit(args, rec, lambda: f"restored {rec['id']}  {rec['name']}")
        elif args.action == "show":
            rec = repo.get(args.id)
            _emit(args, rec, lambda: _record_text(rec))
        elif args.action == "list":
            from desktop.entity_cli import list_filter, list_records

            ent = ENTITIES["account"]
            recs = list_records(store, ent, list_filter(args, ent), args.limit)
            _emit(args, recs,
                  lambda: "\n".join(f"{r['id']}  {r['name']}" for r in recs) or "(no accounts)")
    return 0


def _refuse_duplicate(args: argparse.Namespace, store: Any, entity: str,
                      values: dict[str, Any]) -> int | None:
    """Exit status 3 with the candidates when `values` is a probable duplicate (issue 15);
    None when the record may be saved: no candidates, or --allow-duplicate where the
    rule warns (where it blocks, nothing saves a probable duplicate)."""
    from desktop.dedupe import rules
    from desktop.dedupe.cli_commands import DUPLICATE_EXIT, candidates_text
    from desktop.dedupe.service import check

    rule = rules.rule_for(store, entity)
    if args.allow_duplicate and not rule.blocks:
        return None
    found = check(store, entity, values, threshold=rule.threshold)
    if not found:
        return None
    message = ("This is probably a duplicate of an existing record; not saved " +
               ("(the duplicate rule blocks it)." if rule.blocks else
                "(--allow-duplicate saves it anyway)."))
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "candidates": [c.as_json() for c in found]},
                         ensure_ascii=False))
    else:
        print(candidates_text(found))
    print(f"fieldcrm: {message}", file=sys.stderr)
    return DUPLICATE_EXIT


def cmd_search(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        hits = store.search(args.text, limit=args.limit)
        data = [{"entity": h.entity, "id": h.id, "title": h.title, "subtitle": h.subtitle}
                for h in hits]
        _emit(args, data, lambda: "\n".join(
            f"{h.entity:<8} {h.id}  {h.title}  {h.subtitle}" for h in hits) or "(no matches)")
    return 0


def cmd_journal(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        entries = store.journal.pending(limit=args.limit) + store.journal.parked()
        data = [{"device_id": e.device_id, "seq": e.seq, "entity": e.entity,
                 "record_id": e.record_id, "fields": e.fields, "state": e.state,
                 "reason": e.reason, "created_at": e.created_at}
                for e in entries]
        counts = store.journal.counts()
        _emit(args, {"counts": counts, "entries": data}, lambda: "\n".join(
            [f"{counts['pending']} pending, {counts['parked']} parked"] +
            [f"#{e.seq:<6} {e.state:<8} {e.entity:<8} {e.record_id}  {', '.join(e.fields)}"
             + (f"  ({e.reason})" if e.reason else "") for e in entries]))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from desktop.demo import make_demo

    with _open_store(args) as store:
        counts = make_demo(store, accounts=args.accounts, seed=args.seed,
                           lang=args.data_lang or args.lang or "zh")
        _emit(args, counts, lambda: ", ".join(f"{v} {k}" for k, v in counts.items()) + " created")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        problems = store.check_integrity()
        _emit(args, {"ok": not problems, "problems": problems},
              lambda: "store is healthy" if not problems else "\n".join(problems))
    return 0 if not problems else 1


# ---------------------------------------------------------------- parser
def _only_global_options(argv: Sequence[str]) -> bool:
    """True when argv opens the app or runs the smoke test: then the sub-command plugins,
    which import OCR, HTTP and speech libraries, are not loaded (start-up time)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--profile")
    pre.add_argument("--lang")
    pre.add_argument("--smoke-test", action="store_true")
    _, rest = pre.parse_known_args(list(argv))
    return not rest


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldcrm", description="FieldCRM: offline-first CRM for field sales.")
    parser.add_argument("--profile", type=Path, default=None,
                        help="profile folder (database, blobs, settings); "
                             "default: the user data folder")
    parser.add_argument("--lang", choices=["zh", "en"], default=None,
                        help="UI language (default: system)")
    parser.add_argument("--smoke-test", action="store_true",
                        help="check that this installation works (used by installers and CI)")
    sub = parser.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="machine-readable output")

    acc = sub.add_parser("account", help="add, update, delete, show or list accounts")
    acc.add_argument("action", choices=["add", "update", "delete", "undelete", "show", "list"])
    acc.add_argument("id", nargs="?", help="account id (update, delete, undelete, show)")
    acc.add_argument("--limit", type=int, default=50)
    acc.add_argument("--allow-duplicate", action="store_true",
                     help="add: save even when the account is probably a duplicate")
    for f in ENTITIES["account"].fields:
        if f.name == MERGED_INTO or is_server_only(f):  # set only by a merge / the server
            continue
        acc.add_argument(f"--{f.name.replace('_', '-')}", dest=f"f_{f.name}",
                         metavar=f.type.upper(),
                         help=f"{f.label_en}"
                         + (" (comma-separated)" if f.type is FieldType.LIST else ""))
    from desktop.entity_cli import add_list_options

    add_list_options(acc, ENTITIES["account"], limit=False)  # list filters, as every entity
    common(acc)
    acc.set_defaults(func=cmd_account)

    s = sub.add_parser("search", help="find accounts and contacts (name, pinyin, phone, email)")
    s.add_argument("text")
    s.add_argument("--limit", type=int, default=20)
    common(s)
    s.set_defaults(func=cmd_search)

    j = sub.add_parser("journal", help="list journal entries not yet accepted by the server")
    j.add_argument("--limit", type=int, default=1000)
    common(j)
    j.set_defaults(func=cmd_journal)

    d = sub.add_parser("demo", help="fill the profile with realistic demo data")
    d.add_argument("--accounts", type=int, default=200)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--lang", dest="data_lang", choices=["zh", "en"], default=None,
                   help="zh (default): Chinese companies, people and regions; en: English")
    common(d)
    d.set_defaults(func=cmd_demo)

    doc = sub.add_parser("doctor", help="run a full integrity check of the store")
    common(doc)
    doc.set_defaults(func=cmd_doctor)

    capture = sub.add_parser("capture", help="contracts by OCR, notes and voice notes")
    capture_sub = capture.add_subparsers(dest="capture_command", required=True)
    for module, function, parent in PLUGINS if plugins else ():
        try:
            plugin = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue  # tests/test_cli.py insists every plugin is present
        getattr(plugin, function)(capture_sub if parent == "capture" else sub)
    return parser


def _install_audio_decoder() -> None:
    """`fieldcrm capture voice note.mp3`: compressed audio is decoded by Qt Multimedia,
    which lives in desktop.ui (desktop.capture reads only WAV). PySide6 itself is imported
    only when such a file is read."""
    from desktop.ui.capture.voice import audio_decoder

    audio_decoder.install()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--index-builder"] and len(argv) == 2:
        # In a frozen build the search-index builder's process (desktop.store.indexer)
        # is this executable started again: run that, not the app.
        from desktop.store.indexer import worker_main

        return worker_main(argv[1])
    if argv[:1] == ["--import-matcher"] and len(argv) == 3:
        # and a long import's duplicate check against the book (desktop.exchange.importer)
        from desktop.exchange.matcher_process import serve

        return serve(argv[1], float(argv[2]))
    parser = build_parser(plugins=not _only_global_options(argv))
    args = parser.parse_args(argv)
    if args.profile is None:
        args.profile = default_profile()
    try:
        if args.smoke_test:
            from desktop.smoke import run_smoke_test

            return run_smoke_test(args.profile)
        if args.command is None:
            from desktop.ui.app import run_app

            return run_app(args.profile, sys.argv, args.lang)
        if getattr(args, "capture_command", None) == "voice":
            _install_audio_decoder()  # Qt Multimedia: only for a voice file
        return int(args.func(args))
    except ValidationError as exc:
        print(f"fieldcrm: {exc}", file=sys.stderr)
        return 2
    except FieldCRMError as exc:
        print(f"fieldcrm: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
