"""`fieldcrm report NAME [--from DATE] [--to DATE] [--owner U …] [--currency CNY] --json`

    fieldcrm report pipeline --currency USD --json
    fieldcrm report golden-72 --from 2026-09-01 --to 2026-11-30 --owner wang
    fieldcrm report collections --as-of 2026-12-31
    fieldcrm report pipeline --out pipeline.xlsx --lang zh   (or .csv; --format)
    fieldcrm report activities --team north --json   (run by the sync server: a manager's
                                                      team, which this laptop may not hold)

Rows with the record ids behind each cell (`--no-ids` leaves them out), totals, and the
records left out of amounts for want of an exchange rate. Offline, over this store.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from desktop.reports import NAMES


def add_subcommands(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="reports: pipeline, forecast, win rate, "
                              "activities, golden-72, lead SLA, collections")
    p.add_argument("name", choices=NAMES)
    p.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD; default 12 "
                   "weeks before --to; forecast: this month)")
    p.add_argument("--to", dest="date_to", help="last day (default today; forecast: five "
                   "months ahead)")
    p.add_argument("--as-of", help="ageing and open-pipeline rates on this day (default --to)")
    p.add_argument("--owner", action="append", default=[], help="only this owner (repeat)")
    p.add_argument("--team", help="a team's report, run by the sync server (signed in)")
    p.add_argument("--currency", default="CNY", help="reporting currency (default CNY)")
    p.add_argument("--no-ids", action="store_true", help="leave out the record ids")
    p.add_argument("--out", help="write the report to this CSV or XLSX file (the export "
                   "right and audit apply)")
    p.add_argument("--format", choices=("csv", "xlsx"), help="default: from --out's suffix")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="labels in the file; the notes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
    m = subparsers.add_parser("payments-from-collected",
                              help="finance, once: move the deals' collected amounts into "
                              "received payments")
    m.add_argument("--json", action="store_true", help="machine-readable output")
    m.set_defaults(func=run_move)


def run_move(args: argparse.Namespace) -> int:
    from desktop.cli import _emit, _open_store
    from desktop.reports.payments import move_collected_amounts

    with _open_store(args) as store:
        out = move_collected_amounts(store)
    _emit(args, out, lambda: f"{out['moved']} collected amounts are now received payments"
          + (f" ({out['skipped']} moved before and deleted since)" if out["skipped"] else ""))
    return 0


def _day(text: str | None, name: str) -> dt.date | None:
    from desktop.errors import ValidationError

    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"--{name} must be a date like 2026-12-31, not '{text}'.",
                              field=name) from None


def run(args: argparse.Namespace) -> int:
    from desktop.cli import _emit, _open_store
    from desktop.followup.clock import SystemClock
    from desktop.followup.settings import load_settings
    from desktop.reports import DEFAULT_WEEKS, ReportFilter, default_period
    from desktop.reports import run as run_report

    with _open_store(args) as store:
        zone = SystemClock(load_settings(store).time_zone).zone()
        first, last = default_period(args.name, dt.datetime.now(zone).date())
        to = _day(args.date_to, "to") or last
        start = _day(args.date_from, "from") or (
            first if args.date_to is None else to - dt.timedelta(weeks=DEFAULT_WEEKS))
        if args.team is None:
            f = ReportFilter(start, to, tuple(args.owner), args.currency.upper(), zone,
                             _day(args.as_of, "as-of"), ids=not (args.no_ids or args.out))
            report = run_report(store, args.name, f)
            if args.out:
                from pathlib import Path

                from desktop.reports.export import export_report

                done = export_report(store, report, f, Path(args.out), fmt=args.format,
                                     lang=args.lang)
                _emit(args, done, lambda: f"{done['rows']} rows of {args.name} written to "
                      f"{done['file']}")
                return 0
    if args.team is not None:
        return _run_on_server(args, start, to)
    data = report.to_json(with_ids=not args.no_ids)
    _emit(args, data, lambda: text(data, args.lang))
    return 0


def _run_on_server(args: argparse.Namespace, start: dt.date, to: dt.date) -> int:
    from desktop.cli import _emit
    from desktop.errors import ValidationError
    from desktop.sync.session import server_report

    if args.out:
        raise ValidationError("--out writes this laptop's reports; a team's report is "
                              "printed (--json) by the server's definition.", field="out")
    params: dict[str, Any] = {"from": start.isoformat(), "to": to.isoformat(),
                              "currency": args.currency.upper(), "team": args.team}
    if args.owner:
        params["owner"] = list(args.owner)
    if args.as_of:
        params["as_of"] = _day(args.as_of, "as-of").isoformat()  # type: ignore[union-attr]
    data = server_report(args.profile, args.name, params)
    if args.no_ids:
        for rows in [data.get("rows", []), *data.get("sections", {}).values()]:
            for row in rows:
                for k in [k for k in row if k == "ids" or k.endswith("_ids")]:
                    del row[k]
    _emit(args, data, lambda: text(data, args.lang))
    return 0


def text(data: dict[str, Any], lang: str = "en") -> str:
    keys, values = data["keys"], data["values"]
    lines = [f"{data['report']} ({data['currency']})",
             "  ".join([*keys, *values])]
    for row in data["rows"]:
        lines.append("  ".join([*map(str, row["key"]),
                                *(_cell(row["values"].get(v)) for v in values)]))
    lines.append("  ".join(["total", *(" " * 0 for _ in keys[1:]),
                            *(_cell(data["totals"].get(v)) for v in values)]))
    for name, rows in data.get("sections", {}).items():
        lines.append(f"{name}:")
        lines += ["  " + "  ".join([*map(str, r["key"]), *map(_cell, r["values"].values())])
                  for r in rows]
    # a server of the release before gives no notes_zh
    lines += data.get("notes_zh", data["notes"]) if lang == "zh" else data["notes"]
    if not data["rows"]:
        lines.insert(1, "(no records in this period)")
    return "\n".join(lines)


def _cell(v: Any) -> str:
    return "-" if v is None else str(v)
