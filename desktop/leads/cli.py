"""`fieldcrm lead list|show|add|claim|release|contact|convert` (offline; --json).

    fieldcrm lead add --name 王芳 --phone 13812345678 --region north --source fair
    fieldcrm lead list --view pool --json
    fieldcrm lead claim ID            (the server decides at the next sync: first claim wins)
    fieldcrm lead contact ID --outcome no_answer
    fieldcrm lead convert ID --deal-title "星河 CRM" --amount 200000
"""

from __future__ import annotations

import argparse
from typing import Any

from desktop.schema import LEAD_OUTCOMES, LEAD_STATUSES

ACTIONS = ("list", "show", "add", "claim", "release", "contact", "convert")
ADD_FIELDS = ("name", "company", "phone", "email", "source", "region", "budget", "product",
              "note")


def add_subcommands(subparsers: Any) -> None:
    p = subparsers.add_parser("lead", help="leads: list, add, claim from the pool, log a "
                              "contact, convert")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("id", nargs="?", help="lead id (show, claim, release, contact, convert)")
    for name in ADD_FIELDS:
        p.add_argument(f"--{name}", dest=f"f_{name}", help=f"add: the lead's {name}")
    p.add_argument("--view", choices=("all", "mine", "pool"), default="all",
                   help="list: all, mine or the pool")
    p.add_argument("--status", choices=LEAD_STATUSES, help="list: only this status")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--outcome", choices=LEAD_OUTCOMES, help="contact: how it went")
    p.add_argument("--at", help="contact: when (UTC ISO-8601; default now)")
    p.add_argument("--deal-title", help="convert: the deal's title")
    p.add_argument("--amount", type=float, help="convert: the deal's amount (default budget)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _line(r: dict[str, Any]) -> str:
    who = r.get("owner") or ("(pool)" if r.get("status") == "pool" else "-")
    return f"{r['id']}  {r.get('status') or '':<12} {who:<12} {r['name']}  {r.get('company') or ''}"


def run(args: argparse.Namespace) -> int:
    from desktop.cli import _emit, _open_store, _record_text
    from desktop.errors import ValidationError
    from desktop.leads import service

    if args.action not in ("list", "add") and not args.id:
        raise ValidationError(f"fieldcrm lead {args.action} needs the lead's id.")
    with _open_store(args) as store:
        out: Any
        if args.action == "list":
            out = service.list_leads(store, view=args.view, status=args.status,
                                     limit=args.limit)
            _emit(args, out, lambda: "\n".join(_line(r) for r in out) or "(no leads)")
            return 0
        if args.action == "add":
            out = service.add(store, {k: getattr(args, f"f_{k}") for k in ADD_FIELDS})
            text = f"added {out['id']}  {out['name']} (the server assigns it at the next sync)"
        elif args.action == "show":
            out = service.show(store, args.id)
            text = _record_text({k: v for k, v in out.items() if k != "claims"}) + "".join(
                f"\n  {c['action']} by {c['owner']}: {c['result']}"
                + (f" ({c['reason']})" if c["reason"] else "") for c in out["claims"])
        elif args.action in ("claim", "release"):
            out = getattr(service, args.action)(store, args.id)
            text = f"{args.action} asked: the server decides at the next sync"
        elif args.action == "contact":
            if not args.outcome:
                raise ValidationError("fieldcrm lead contact needs --outcome.", field="outcome")
            out = service.contact(store, args.id, args.outcome, at=args.at)
            text = f"logged: {args.outcome} (attempt {out['attempts']})"
        else:
            out = service.convert(store, args.id, deal_title=args.deal_title, amount=args.amount)
            text = (f"account {out['account_id']} ({'linked' if out['account_linked'] else 'new'})"
                    f", contact {out['contact_id']} "
                    f"({'linked' if out['contact_linked'] else 'new'}), deal {out['deal_id']}")
        _emit(args, out, lambda: text)
    return 0
