"""`fieldcrm duplicates check|list` and `fieldcrm merge`, on the services the app uses.

    fieldcrm duplicates check [--entity account|contact] --name N [--phone P] [--email E]
                              [--uscc U] [--account ID] --json
    fieldcrm duplicates list [--entity E] --json        (progress on stderr)
    fieldcrm duplicates list --server [--entity E] --json  (the team's pairs, found by the
                                                            server, that this user may see)
    fieldcrm merge --keep ID --drop ID [--take FIELD ...] [--entity E] --json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.dedupe.service import Candidate

DUPLICATE_EXIT = 3  # `account add` refused a probable duplicate


def add_subcommands(subparsers: Any) -> None:
    dup = subparsers.add_parser("duplicates", help="find probable duplicate accounts and contacts")
    dup_sub = dup.add_subparsers(dest="duplicates_command", required=True)
    chk = dup_sub.add_parser("check", help="saved records that are probably this one, best first")
    chk.add_argument("--entity", choices=["account", "contact"], default="account")
    chk.add_argument("--name", required=True)
    chk.add_argument("--phone", action="append", default=[], help="repeat for several")
    chk.add_argument("--email")
    chk.add_argument("--uscc", help="unified social credit code (accounts)")
    chk.add_argument("--account", help="the contact's account id (same name within one account)")
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.set_defaults(func=run_check)
    lst = dup_sub.add_parser("list", help="every probable duplicate pair in the book")
    lst.add_argument("--entity", choices=["account", "contact"], default="account")
    lst.add_argument("--server", action="store_true",
                     help="the pairs the sync server found in the team's book (signed in)")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(func=run_list)

    rule = dup_sub.add_parser(
        "rule", help="show or set the duplicate rule (setting it is for admins)")
    rule.add_argument("--entity", choices=["account", "contact"], default="account")
    rule.add_argument("--threshold", type=float, help="name similarity in percent (default 92)")
    rule.add_argument("--action", choices=["warn", "block"], help="on a probable duplicate")
    rule.add_argument("--json", action="store_true", help="machine-readable output")
    rule.set_defaults(func=run_rule)

    m = subparsers.add_parser("merge", help="merge a duplicate into the record to keep")
    m.add_argument("--keep", required=True, metavar="ID", help="the record that stays")
    m.add_argument("--drop", required=True, metavar="ID", help="the duplicate, merged away")
    m.add_argument("--take", nargs="+", default=[], metavar="FIELD",
                   help="fields whose value comes from the dropped record "
                        "(default for every field: the newer non-empty value)")
    m.add_argument("--entity", choices=["account", "contact"], default=None,
                   help="default: whichever the ids are")
    m.add_argument("--json", action="store_true", help="machine-readable output")
    m.set_defaults(func=run_merge)


def candidate_values(entity: str, name: str, phones: list[str], email: str | None,
                     uscc: str | None, account: str | None) -> dict[str, Any]:
    if entity == "account":
        return {"name": name, "phone": phones[0] if phones else None, "uscc": uscc}
    return {"name": name, "phones": phones, "email": email, "account_id": account}


def candidates_text(found: list[Candidate]) -> str:
    if not found:
        return "No probable duplicates."
    return "\n".join(f"{c.score:5.1f}  {c.id}  {c.name}  ({', '.join(c.reasons)})" for c in found)


def run_check(args: argparse.Namespace) -> int:
    from desktop.dedupe import rules
    from desktop.dedupe.service import check
    from desktop.store import Store

    with Store.open(args.profile) as store:
        rule = rules.rule_for(store, args.entity)
        found = check(store, args.entity, candidate_values(
            args.entity, args.name, args.phone, args.email, args.uscc, args.account),
            threshold=rule.threshold)
    if args.json:
        print(json.dumps({"candidates": [c.as_json() for c in found]}, ensure_ascii=False))
    else:
        print(candidates_text(found))
    return 0


def _print_pairs(pairs: list[dict[str, Any]]) -> None:
    for p in pairs:
        print(f"{p['score']:5.1f}  {p['a']}  {p['b']}  {p['a_name']} / {p['b_name']}  "
              f"({', '.join(p['reasons'])})")
    if not pairs:
        print("No probable duplicates.")


def run_server_list(args: argparse.Namespace) -> int:
    from desktop.sync.session import server_duplicates

    data = server_duplicates(args.profile, args.entity, limit=1000)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    _print_pairs(data["pairs"])
    if data["pending"]:
        print(f"note: the server has {data['pending']} changed records still to check",
              file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    if args.server:
        return run_server_list(args)
    from desktop.dedupe import rules
    from desktop.dedupe.service import scan
    from desktop.store import Store

    def progress(stage: str, done: int, total: int) -> None:
        print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)

    from desktop.dedupe import pairs

    with Store.open(args.profile) as store:
        result = scan(store, args.entity, threshold=rules.rule_for(store, args.entity).threshold,
                      progress=progress)
        # the app's "Possible duplicates"
        pairs.save(store, args.entity, result.pairs, replace=True)
    if result.skipped_groups:
        print(f"note: {result.skipped_groups} keys shared by too many records were not compared",
              file=sys.stderr)
    if args.json:
        print(json.dumps({"pairs": [p.as_json() for p in result.pairs],
                          "skipped_groups": result.skipped_groups}, ensure_ascii=False))
    else:
        _print_pairs([p.as_json() for p in result.pairs])
    return 0


def run_rule(args: argparse.Namespace) -> int:
    from desktop.dedupe import rules
    from desktop.store import Store

    with Store.open(args.profile) as store:
        if args.threshold is not None or args.action is not None:
            rule = rules.set_rule(store, args.entity, threshold=args.threshold, action=args.action)
        else:
            rule = rules.rule_for(store, args.entity)
    data = {"entity": rule.entity, "threshold": rule.threshold, "action": rule.action}
    print(json.dumps(data) if args.json else
          f"{rule.entity}: name similarity >= {rule.threshold:g}%, {rule.action}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from desktop.dedupe.merge import MERGEABLE, merge
    from desktop.errors import NotFoundError
    from desktop.store import Store

    with Store.open(args.profile) as store:
        entity = args.entity
        if entity is None:
            entity = next((e for e in MERGEABLE if store.conn.execute(
                f'SELECT 1 FROM "{e}" WHERE id = ?', (args.keep,)).fetchone()), None)
            if entity is None:
                raise NotFoundError(f"No account or contact with id {args.keep}.")
        result = merge(store, entity, args.keep, args.drop, args.take)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, default=str))
    else:
        taken = ", ".join(result.taken) or "nothing"
        moved = ", ".join(f"{n} {k}" for k, n in result.moved.items()) or "no records"
        print(f"merged {result.dropped_id} into {result.kept['id']}; took {taken} from it; "
              f"moved {moved}")
    return 0
