"""`fieldcrm reminders [--due-before ISO] [--json]`: what is pending, for whom and why.

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
        out = [to_json(p, zone) for p in items]
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
