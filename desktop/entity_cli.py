"""`fieldcrm contact|deal|activity|contract|payment|fx_rate add|update|delete|undelete|show|
list`: the same shape and `--json` as `fieldcrm account`, on the same repositories the app uses.

    fieldcrm contact add --name 张伟 --phones 13812345678 --account-id ID --json
    fieldcrm deal list --stage proposal --owner alice --since 2026-11-01 --search 华为 --json
    fieldcrm activity update ID --done-at 2026-12-01T09:00:00Z

Every field of the entity, custom fields included, is an option (`--cf-competitor`);
a list field takes comma-separated values. `contact add` refuses a probable duplicate
with exit status 3 and the candidates, unless --allow-duplicate (like `account add`).
"""

from __future__ import annotations

import argparse
from typing import Any

from desktop.exchange.query import STAGE_FIELDS, ListFilter, where
from desktop.schema import ENTITIES, MERGED_INTO, Entity, FieldType, is_server_only

ENTITY_COMMANDS = ("contact", "deal", "activity", "contract", "payment", "fx_rate")
ACTIONS = ["add", "update", "delete", "undelete", "show", "list"]
DEDUPED = ("contact",)  # `add` refuses a probable duplicate (desktop.dedupe)


def add_subcommands(subparsers: Any) -> None:
    for name in ENTITY_COMMANDS:
        ent = ENTITIES[name]
        p = subparsers.add_parser(
            name, help=f"add, update, delete, show or list {ent.label_en.lower()}s")
        p.add_argument("action", choices=ACTIONS)
        p.add_argument("id", nargs="?", help=f"{name} id (update, delete, undelete, show)")
        if name in DEDUPED:
            p.add_argument("--allow-duplicate", action="store_true",
                           help=f"add: save even when the {name} is probably a duplicate")
        add_field_options(p, ent)
        add_list_options(p, ent)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=run, entity=name)


def add_field_options(p: argparse.ArgumentParser, ent: Entity) -> None:
    for f in ent.fields:
        if f.name == MERGED_INTO or is_server_only(f):  # set only by a merge / the server
            continue
        p.add_argument(f"--{f.name.replace('_', '-')}", dest=f"f_{f.name}",
                       metavar=f.type.upper(),
                       help=f.label_en + (" (comma-separated)" if f.type is FieldType.LIST else ""))


def add_list_options(p: argparse.ArgumentParser, ent: Entity, *, limit: bool = True) -> None:
    """list: --limit and the filters (desktop.exchange.query). A filter that is also a
    field option (`--owner`) filters `list` and sets the field in `add` and `update`."""
    if limit:
        p.add_argument("--limit", type=int, default=50, help="list: at most this many")
    if not ent.has_field("owner"):
        p.add_argument("--owner", dest="f_owner", help="list: records of this owner")
    stage = STAGE_FIELDS.get(ent.name)
    if stage and stage != "stage":
        p.add_argument("--stage", dest="filter_stage", metavar=stage.upper(),
                       help=f"list: records with this {stage}")
    p.add_argument("--since", help="list: changed on or after this date (YYYY-MM-DD) or moment")
    p.add_argument("--search", help="list: records whose name or text contains this "
                                    "(accounts and contacts: also pinyin, phone, email)")


def field_values(args: argparse.Namespace, ent: Entity) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in ent.fields:
        v = getattr(args, f"f_{f.name}", None)
        if v is not None:
            values[f.name] = [p.strip() for p in v.split(",")] if f.type is FieldType.LIST else v
    return values


def list_filter(args: argparse.Namespace, ent: Entity) -> ListFilter:
    stage = getattr(args, "filter_stage", None) or (
        getattr(args, "f_stage", None) if STAGE_FIELDS.get(ent.name) == "stage" else None)
    return ListFilter(owner=getattr(args, "f_owner", None), stage=stage,
                      since=getattr(args, "since", None), search=getattr(args, "search", None))


def list_records(store: Any, ent: Entity, flt: ListFilter, limit: int) -> list[dict[str, Any]]:
    sql, params = where(store, ent, flt)
    return [{k: v for k, v in r.items() if k != "_key"}
            for r in store.repo(ent.name).page(limit=limit, where=sql, params=params)]


def run(args: argparse.Namespace) -> int:
    from desktop.cli import _emit, _open_store, _record_text, _refuse_duplicate
    from desktop.errors import ValidationError

    ent = ENTITIES[args.entity]
    title = ent.title_field
    with _open_store(args) as store:
        repo = store.repo(ent.name)
        if args.action not in ("add", "list") and not args.id:
            raise ValidationError(f"fieldcrm {ent.name} {args.action} needs the record's id.")
        if args.action == "add":
            values = field_values(args, ent)
            if ent.name in DEDUPED:
                refused = _refuse_duplicate(args, store, ent.name, values)
                if refused is not None:
                    return refused
            rec = repo.create(values)
            _emit(args, rec, lambda: f"created {rec['id']}  {rec.get(title) or ''}")
        elif args.action == "update":
            rec = repo.update(args.id, field_values(args, ent))
            _emit(args, rec, lambda: f"updated {rec['id']}  {rec.get(title) or ''}")
        elif args.action == "delete":
            repo.delete(args.id)
            _emit(args, {"id": args.id, "deleted": True},
                  lambda: f"deleted {args.id} (undo: fieldcrm {ent.name} undelete {args.id})")
        elif args.action == "undelete":
            rec = repo.restore(args.id)
            _emit(args, rec, lambda: f"restored {rec['id']}  {rec.get(title) or ''}")
        elif args.action == "show":
            rec = repo.get(args.id)
            _emit(args, rec, lambda: _record_text(rec))
        else:
            recs = list_records(store, ent, list_filter(args, ent), args.limit)
            _emit(args, recs, lambda: "\n".join(
                f"{r['id']}  {r.get(title) or ''}" for r in recs) or f"(no {ent.name}s)")
    return 0
