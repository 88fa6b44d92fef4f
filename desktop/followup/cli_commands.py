"""`fieldcrm reminders [--due-before ISO] [--json]`: what is pending, for whom and why.
`fieldcrm followup-rule show|set ... [--json]`: what counts as a valid follow-up, the
admin's synced rule (desktop.followup.rule; setting it is for admins, the server refuses
it from anyone else):

    fieldcrm followup-rule show --json
    fieldcrm followup-rule set [--criteria JSON|@FILE] [--required N] [--golden-hours H]
                               [--warn-hours H] [--name TEXT] [--off] --json

The lead wires it in: `add_subcommands(subparsers)` adds the subcommand; its handler is
`args.func(args)` with `args.profile` a Path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from desktop.errors import ValidationError


def add_subcommands(subparsers: Any) -> None:
    p = subparsers.add_parser("reminders", help="list pending follow-up reminders and why")
    p.add_argument("--due-before", metavar="ISO",
                   help="only reminders firing at or before this time (ISO-8601; "
                        "no offset = your time zone setting)")
    p.add_argument("--all-owners", action="store_true", help="everyone's, not only mine")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_reminders)

    rule = subparsers.add_parser(
        "followup-rule", help="show or set what counts as a valid follow-up (set: admins)")
    rule_sub = rule.add_subparsers(dest="followup_rule_command", required=True)
    show = rule_sub.add_parser("show", help="the rule in force (the admin's, else built in)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_rule)
    put = rule_sub.add_parser("set", help="change the rule (admins; synced to everyone)")
    put.add_argument("--criteria", metavar="JSON|@FILE",
                     help='a list of {"name", "kind", "min_duration_s", "needs_attachment", '
                          '"outcomes"}, or @ and a file holding it')
    put.add_argument("--required", type=int, metavar="N",
                     help="how many different criteria a valid follow-up meets")
    put.add_argument("--golden-hours", type=float, metavar="H",
                     help="a new record's follow-up is overdue after H hours (default 72)")
    put.add_argument("--warn-hours", type=float, metavar="H",
                     help="the warning before it (default 48)")
    put.add_argument("--name", help="a name for the rule")
    put.add_argument("--off", action="store_true",
                     help="turn the rule off: the built-in rule applies again")
    put.add_argument("--json", action="store_true", help="print JSON")
    put.set_defaults(func=run_rule)


def parse_when(text: str, zone: dt.tzinfo | None = None) -> dt.datetime:
    """An ISO-8601 moment as aware UTC; one without an offset is a wall time in `zone`
    (the user's zone; default the system's). Raises ValidationError for other text and
    for a wall time the zone skips."""
    from desktop.timezones import system_zone, wall

    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"'{text}' is not a date and time (ISO-8601, "
                              "e.g. 2026-11-23T09:00+08:00).") from None
    return wall(moment, zone or system_zone())


def run_reminders(args: argparse.Namespace) -> int:
    from desktop.followup.scheduler import Scheduler, to_json
    from desktop.store import Store

    with Store.open(args.profile) as store:
        sched = Scheduler(store)
        due_before = parse_when(args.due_before, sched.clock.zone()) if args.due_before else None
        sched.full_pass()
        items = sched.pending_for(due_before=due_before)
        if getattr(args, "all_owners", False):
            items = [p for owner in _owners(sched) for p in sched.pending_for(owner, due_before)]
        zone = sched.clock.zone()
        out = [to_json(p, zone, s=sched.settings) for p in items]
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        for r in out:
            sys.stdout.write(f"{r['fire_at_local'][:16]}  {r['state']:<9} {r['why']}"
                             f"  ({r['recipient'] or '-'})\n")
        if not out:
            sys.stdout.write("No pending reminders.\n")
    return 0


def _owners(sched: Any) -> list[str | None]:
    rows = sched.store.conn.execute(
        "SELECT DISTINCT owner FROM activity WHERE deleted = 0 UNION "
        "SELECT DISTINCT owner FROM account WHERE deleted = 0 UNION "
        "SELECT DISTINCT owner FROM deal WHERE deleted = 0").fetchall()
    return [r[0] for r in rows if r[0]]


def run_rule(args: argparse.Namespace) -> int:
    from pathlib import Path

    from desktop.followup import rule as rules
    from desktop.store import Store

    criteria = getattr(args, "criteria", None)
    if criteria is not None and criteria.startswith("@"):
        try:
            criteria = Path(criteria[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"Cannot read the criteria from {criteria[1:]} "
                                  f"({exc.strerror}).", field="criteria") from exc
    with Store.open(args.profile) as store:
        if args.followup_rule_command == "set":
            got = rules.set_rule(
                store, criteria=criteria, required_criteria=args.required,
                golden_overdue_hours=args.golden_hours, golden_warn_hours=args.warn_hours,
                name=args.name, active=not args.off)
        else:
            got = rules.current_rule(store)
    data = got.as_json()
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(f"{'Built-in rule' if got.id is None else 'Rule ' + (got.name or got.id)}: "
                     f"{got.required_criteria} of {len(got.criteria)} criteria within "
                     f"{got.golden_overdue_hours:g} h (warning at {got.golden_warn_hours:g} h)\n")
    for c in got.criteria:
        parts = [f"kind {c.kind}" if c.kind else "any kind"]
        if c.min_duration_s:
            parts.append(f">= {c.min_duration_s} s")
        if c.needs_attachment:
            parts.append("with an attachment")
        if c.outcomes:
            parts.append("outcome " + " | ".join(c.outcomes))
        sys.stdout.write(f"  {c.name}: {', '.join(parts)}\n")
    return 0
