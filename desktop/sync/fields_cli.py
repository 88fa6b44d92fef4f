"""`fieldcrm fields list|kept [--entity E] [--json]`: the custom field definitions this
device holds (received from the sync server; desktop.store.fielddefs), and the values a
type change kept aside here. `fieldcrm fields unreadable [--json]`: the fields its user
may not read (desktop.store.visibility).

    from desktop.sync.fields_cli import add_subcommands
    add_subcommands(subparsers)
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from desktop.schema import CUSTOM_FIELD_ENTITIES

if TYPE_CHECKING:
    from desktop.store import Store

COLUMNS = ("entity", "name", "type", "label_en", "label_zh", "choices", "retired")


def add_subcommands(subparsers: Any) -> None:
    p = subparsers.add_parser("fields", help="custom fields this device holds",
                              description="Custom fields (an admin adds them on the server).")
    fsub = p.add_subparsers(dest="fields_command", required=True)
    ls = fsub.add_parser("list", help="list the custom field definitions this device holds")
    ls.add_argument("--entity", choices=CUSTOM_FIELD_ENTITIES)
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=cmd_list)
    kept = fsub.add_parser("kept", help="values a type change kept aside on this device")
    kept.add_argument("--entity", choices=CUSTOM_FIELD_ENTITIES)
    kept.add_argument("--json", action="store_true", help="print JSON")
    kept.set_defaults(func=cmd_kept)
    hid = fsub.add_parser("unreadable", help="fields this device's user may not read: hidden "
                          "(never on this device) or masked (desktop.visibility)")
    hid.add_argument("--json", action="store_true", help="print JSON")
    hid.set_defaults(func=cmd_unreadable)


def cmd_unreadable(args: argparse.Namespace) -> int:
    from desktop.store import Store  # here, not at the top: the CLI's start-up time
    from desktop.store.visibility import held_policy

    with Store.open(args.profile) as store:
        policy = held_policy(store)
    rows = [{"entity": e, "field": f, "shown": how}
            for e, fields in sorted(policy.items()) for f, how in sorted(fields.items())]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['entity']}.{r['field']}: {r['shown']}")
    if not rows:
        print("Every field of the records on this device is readable.")
    return 0


def cmd_kept(args: argparse.Namespace) -> int:
    from desktop.store import Store  # here, not at the top: the CLI's start-up time
    from desktop.store.fielddefs import kept_values

    with Store.open(args.profile) as store:
        rows = kept_values(store.conn, args.entity)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['entity']}/{r['record_id']} {r['field']}: "
              f"{json.dumps(r['value'], ensure_ascii=False)} ({r['reason']})")
    if not rows:
        print("No values kept aside.")
    return 0


def field_rows(store: Store, entity: str | None = None) -> list[dict[str, Any]]:
    """The definitions as plain dicts (the CLI's and the Fields page's rows)."""
    from desktop.store.fielddefs import definitions

    return [{"entity": d.get("entity"), "name": d.get("name"), "type": d.get("type"),
             "label_en": d.get("label_en"), "label_zh": d.get("label_zh"),
             "choices": d.get("choices") or [], "required": bool(d.get("required")),
             "searchable": bool(d.get("searchable")), "section": d.get("section") or "",
             "position": d.get("position") or 0, "stages": d.get("stages") or [],
             "retired": bool(d.get("retired")), "id": d["id"]}
            for d in definitions(store.conn) if entity in (None, d.get("entity"))]


def cmd_list(args: argparse.Namespace) -> int:
    from desktop.store import Store

    with Store.open(args.profile) as store:
        rows = field_rows(store, args.entity)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print("No custom fields yet (an admin adds them: fieldcrm-server fields add).")
        return 0
    shown = [{**r, "choices": ",".join(r["choices"]), "retired": "retired" if r["retired"]
              else ""} for r in rows]
    widths = {c: max(len(c), *(len(str(r[c] or "")) for r in shown)) for c in COLUMNS}
    print("  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip())
    for r in shown:
        print("  ".join(str(r[c] or "").ljust(widths[c]) for c in COLUMNS).rstrip())
    return 0
