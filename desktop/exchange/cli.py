"""`fieldcrm import`, `fieldcrm export` and `fieldcrm export-rights`, on the services the
app uses (desktop.exchange).

    fieldcrm import ENTITY FILE [--mapping F|NAME] [--save-mapping NAME]
                    [--on-duplicate skip|update|overwrite|create] [--dry-run]
                    [--errors OUT] [--encoding E] [--restart] --json
        -> {"created", "updated", "skipped_duplicates", "invalid", "errors_file", ...}
    fieldcrm export ENTITY [--format csv|xlsx] [--search TEXT] [--owner O] [--stage S]
                    [--since DATE] [--out FILE] --json   -> {"rows", "file", "seconds"}
    fieldcrm export-rights [--role ROLE (--allow | --deny)] --json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop.exchange.exporter import EXPORTABLE, FORMATS
from desktop.exchange.importer import ON_DUPLICATE
from desktop.exchange.mapping import IMPORTABLE
from desktop.schema import Role


def add_subcommands(subparsers: Any) -> None:
    imp = subparsers.add_parser("import", help="import records from a CSV or XLSX file")
    imp.add_argument("entity", choices=IMPORTABLE)
    imp.add_argument("file", type=Path)
    imp.add_argument("--mapping", help="a mapping JSON file ({\"column\": \"field\"}) or the "
                                       "name of a saved mapping (default: from the header)")
    imp.add_argument("--save-mapping", metavar="NAME", help="save the mapping used under NAME")
    imp.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="skip",
                     help="a probable duplicate: skip it (default), update the existing record "
                          "(fill its empty fields), overwrite its fields, or create it anyway")
    imp.add_argument("--dry-run", action="store_true",
                     help="count new, duplicate and invalid rows; change nothing")
    imp.add_argument("--errors", type=Path, metavar="OUT",
                     help="where the rejected rows go (default: FILE.errors.csv/.xlsx)")
    imp.add_argument("--encoding", help="the CSV's text encoding (default: detected)")
    imp.add_argument("--restart", action="store_true",
                     help="import from the first row even if this file was imported before")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(func=run_import)

    exp = subparsers.add_parser("export", help="export records to CSV or XLSX")
    exp.add_argument("entity", choices=EXPORTABLE)
    exp.add_argument("--format", choices=FORMATS, default=None,
                     help="default: from --out's suffix, else csv")
    exp.add_argument("--out", type=Path, help="the file (default: ENTITY-DATE.csv/.xlsx here)")
    exp.add_argument("--search", help="only records found by this search text")
    exp.add_argument("--owner", help="only records of this owner")
    exp.add_argument("--stage", help="only deals in this stage (accounts: lifecycle; "
                                     "activities: kind)")
    exp.add_argument("--since", help="only records changed on or after this date or moment")
    exp.add_argument("--json", action="store_true", help="machine-readable output")
    exp.set_defaults(func=run_export)

    r = subparsers.add_parser("export-rights",
                              help="show, or (admins) set, which roles may export")
    r.add_argument("--role", choices=[x.value for x in Role])
    allow = r.add_mutually_exclusive_group()
    allow.add_argument("--allow", action="store_true")
    allow.add_argument("--deny", action="store_true")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(func=run_rights)


def _progress(args: argparse.Namespace, verb: str) -> Any:
    if args.json or not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        print(f"\r{verb} {done:,} / {total:,}", end="", file=sys.stderr, flush=True)
    return report


def run_import(args: argparse.Namespace) -> int:
    from desktop.cli import _emit, _open_store
    from desktop.errors import ValidationError
    from desktop.exchange import mapping as maps
    from desktop.exchange.importer import run_import as do_import
    from desktop.exchange.readers import Sheet
    from desktop.schema import ENTITIES

    columns: dict[str, str] | None = None
    if args.mapping:
        saved = maps.saved_mappings(args.profile, args.entity)
        if args.mapping in saved:
            columns = saved[args.mapping]
        else:
            entity, columns = maps.load_mapping(Path(args.mapping))
            if entity and entity != args.entity:
                raise ValidationError(f"{args.mapping} is a mapping for {entity}s, "
                                      f"not {args.entity}s.")
    with _open_store(args) as store:
        if args.save_mapping:
            header = Sheet(args.file, args.encoding).header
            used = columns if columns is not None else maps.auto_mapping(
                ENTITIES[args.entity], header)
            maps.save_mapping(args.profile, args.save_mapping, args.entity, used)
        result = do_import(store, args.file, args.entity, mapping=columns,
                           on_duplicate=args.on_duplicate, dry_run=args.dry_run,
                           errors_out=args.errors, encoding=args.encoding,
                           restart=args.restart, progress=_progress(args, "rows"))
    data = result.as_json()
    if not args.json and _progress(args, "") is not None:
        print(file=sys.stderr)

    def text() -> str:
        head = ("dry run: {created} new, {skipped_duplicates} probable duplicates, "
                "{invalid} invalid" if args.dry_run else
                "{created} created, {updated} updated, {skipped_duplicates} duplicates "
                "skipped, {invalid} invalid").format(**data)
        if result.already_imported:
            head += f" (went on after row {result.already_imported}, imported before)"
        if result.errors_file:
            head += f"\nrejected rows with their reasons: {result.errors_file}"
        return head
    _emit(args, data, text)
    return 0


def run_export(args: argparse.Namespace) -> int:
    import datetime as dt

    from desktop.cli import _emit, _open_store
    from desktop.exchange.exporter import export
    from desktop.exchange.query import ListFilter

    fmt = args.format or ("xlsx" if args.out and args.out.suffix.lower() == ".xlsx" else "csv")
    out = args.out or Path(f"{args.entity}-{dt.date.today().isoformat()}.{fmt}")
    flt = ListFilter(owner=args.owner, stage=args.stage, since=args.since, search=args.search)
    with _open_store(args) as store:
        result = export(store, args.entity, out, fmt=fmt, flt=flt, lang=args.lang or "en",
                        progress=_progress(args, "rows"))
    if not args.json and _progress(args, "") is not None:
        print(file=sys.stderr)
    _emit(args, result.as_json(),
          lambda: f"{result.rows} rows written to {result.file} in {result.seconds:.1f} s")
    return 0


def run_rights(args: argparse.Namespace) -> int:
    from desktop.cli import _emit, _open_store
    from desktop.errors import ValidationError
    from desktop.exchange import rights

    with _open_store(args) as store:
        if args.allow or args.deny:
            if not args.role:
                raise ValidationError("--allow and --deny need --role.")
            data = rights.set_right(store, args.role, bool(args.allow))
        else:
            data = rights.rights(store)
    _emit(args, {"may_export": data}, lambda: "\n".join(
        f"{role:<8} {'may export' if ok else 'may not export'}" for role, ok in data.items()))
    return 0


__all__ = ["add_subcommands"]
