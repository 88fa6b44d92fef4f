"""`fieldcrm` sub-commands of a rep's day (the services the app's screens use):

    fieldcrm me [--name NAME] [--claim]             the rep's name (owner of new records)
    fieldcrm agenda [--json]                        overdue / today / upcoming, with phones
    fieldcrm agenda-done ID --outcome TEXT [--next-step TEXT] [--next-due ISO]
    fieldcrm agenda-later ID [--days N]
    fieldcrm quick-add KIND --account TEXT [--subject ..] [--outcome ..] [--next-step ..]
                            [--when ISO] [--place ..] [--body ..] [--amount 12.8万] [--currency]
    fieldcrm home [--json]                          the home numbers
    fieldcrm deal-totals [--owner NAME] [--json]    count and amount per stage per currency
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from typing import Any

from desktop.errors import ValidationError


def _store(args: argparse.Namespace) -> Any:
    from desktop.store import Store

    return Store.open(args.profile)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str) if args.json else text)


def _now() -> dt.datetime:
    """The current instant, aware UTC (one place, so tests can set it)."""
    return dt.datetime.now(dt.UTC)


def _when(text: str | None, zone: dt.tzinfo | None = None) -> dt.datetime | None:
    """--when / --next-due: ISO-8601; without an offset, a wall time in the user's zone."""
    from desktop.followup.cli_commands import parse_when

    return parse_when(text, zone) if text else None


def add_subcommands(sub: Any) -> None:
    def p(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        return parser

    me = p("me", "show or set your name on this computer (the owner of what you create)")
    me.add_argument("--name")
    me.add_argument("--claim", action="store_true",
                    help="also make you the owner of the records that have none")
    me.set_defaults(func=run_me)
    ag = p("agenda", "your open activities: overdue, today, the next 7 days")
    ag.set_defaults(func=run_agenda)
    done = p("agenda-done", "mark an activity done with its outcome (and a next step)")
    done.add_argument("id")
    done.add_argument("--outcome", default="")
    done.add_argument("--next-step", default="")
    done.add_argument("--next-due", metavar="ISO")
    done.set_defaults(func=run_done)
    later = p("agenda-later", "move an activity by whole days")
    later.add_argument("id")
    later.add_argument("--days", type=int, default=1)
    later.set_defaults(func=run_later)
    qa = p("quick-add", "add a call, visit, task, note or deal to the account found by TEXT")
    qa.add_argument("kind", choices=["call", "visit", "task", "note", "deal"])
    qa.add_argument("--account", required=True, help="name, pinyin or phone (first match)")
    for name in ("subject", "outcome", "next-step", "place", "body", "amount"):
        qa.add_argument(f"--{name}", default="")
    qa.add_argument("--when", metavar="ISO", help="call/visit time, task due (no offset: "
                    "in your time zone setting)")
    qa.add_argument("--currency", default="CNY")
    qa.set_defaults(func=run_quick_add)
    home = p("home", "the numbers of the home view")
    home.set_defaults(func=run_home)
    totals = p("deal-totals", "deals per stage: count and amount per currency")
    totals.add_argument("--owner")
    totals.set_defaults(func=run_totals)


def run_me(args: argparse.Namespace) -> int:
    from desktop.rep import claim_unowned, set_user_name

    with _store(args) as store:
        claimed = 0
        if args.name is not None:
            set_user_name(store, args.name)
        if args.claim:
            if not store.user:
                raise ValidationError("Set your name first (fieldcrm me --name ...).",
                                      field="user")
            claimed = claim_unowned(store, store.user)
        _emit(args, {"user": store.user, "claimed": claimed},
              f"{store.user or '(no name yet)'}" + (f"; {claimed} records claimed"
                                                   if claimed else ""))
    return 0


def run_agenda(args: argparse.Namespace) -> int:
    from desktop.followup.agenda import GROUPS, load_agenda
    from desktop.followup.clock import user_zone

    with _store(args) as store:
        zone = user_zone(store)
        agenda = load_agenda(store, _now(), zone, store.user)
        data = {g: [dataclasses.asdict(i) for i in agenda.group(g)] for g in GROUPS}
        lines = []
        for g in GROUPS:
            lines.append(f"{g} ({len(data[g])})")
            lines += [f"  {i['due_at']}  {i['kind']} · {i['subject']}  {i['account']}  "
                      f"{i['contact']}  {i['phone']}  [{i['id']}]" for i in data[g]]
        _emit(args, data, "\n".join(lines))
    return 0


def run_done(args: argparse.Namespace) -> int:
    from desktop.followup.agenda import complete
    from desktop.followup.clock import user_zone

    with _store(args) as store:
        ids = complete(store, args.id, args.outcome, _now(), args.next_step,
                       _when(args.next_due, user_zone(store)))
        _emit(args, {"ids": ids}, "done" + (f"; next step {ids[1]}" if len(ids) > 1 else ""))
    return 0


def run_later(args: argparse.Namespace) -> int:
    from desktop.followup.agenda import reschedule

    with _store(args) as store:
        rec = reschedule(store, args.id, args.days)
        _emit(args, rec, f"moved to {rec['due_at']}")
    return 0


def run_quick_add(args: argparse.Namespace) -> int:
    from desktop.followup.clock import user_zone
    from desktop.quickadd import QuickEntry, add, find_accounts, parse_amount

    with _store(args) as store:
        found = find_accounts(store, args.account, limit=1)
        if not found:
            raise ValidationError(f"No account found for “{args.account}”.", field="account")
        m = found[0]
        entry = QuickEntry(args.kind, m.account_id, subject=args.subject, contact_id=m.contact_id,
                           outcome=args.outcome, next_step=args.next_step,
                           when=_when(args.when, user_zone(store)), place=args.place,
                           body=args.body,
                           amount=parse_amount(args.amount), currency=args.currency)
        if args.kind in ("task", "deal") and not args.subject.strip():
            raise ValidationError("Give a --subject.", field="subject")
        out = add(store, entry, _now())
        out["account"] = m.name
        _emit(args, out, f"added {out['entity']} {out['id']} to {m.name}")
    return 0


def run_home(args: argparse.Namespace) -> int:
    from desktop.followup.clock import user_zone
    from desktop.home import home_numbers

    with _store(args) as store:
        n = home_numbers(store, _now(), user_zone(store), store.user)
        data = dataclasses.asdict(n)
        _emit(args, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
    return 0


def run_totals(args: argparse.Namespace) -> int:
    from desktop.records_summary import stage_totals

    with _store(args) as store:
        totals = stage_totals(store, args.owner)
        data = {s: {"count": t.count, "amounts": t.amounts} for s, t in totals.items()}
        _emit(args, data, "\n".join(f"{s}: {t.count}  {', '.join(t.lines())}"
                                    for s, t in totals.items()))
    return 0
