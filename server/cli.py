"""`fieldcrm-server`: run the sync server and administer users, teams and devices.

    fieldcrm-server run [--data DIR] [--host 127.0.0.1] [--port 8765] [--database-url URL]
                    [--log-format json|text] [--log-level warning] [--no-access-log]
                    [--client-latest V] [--client-minimum V] [--client-download-url URL]
    fieldcrm-server user add NAME --role rep|manager|admin|finance|director [--team T]...
                    [--password-stdin]
    fieldcrm-server user disable NAME
    fieldcrm-server user set-region NAME REGION [--json] | user leave-team NAME TEAM
    fieldcrm-server region add NAME [--parent P] [--json] | region list [--json]
    fieldcrm-server user list [--json]
    fieldcrm-server device list [--user NAME] [--json]
    fieldcrm-server device revoke ID
    fieldcrm-server team add NAME
    fieldcrm-server duplicates list [--entity account|contact] [--limit N] [--json]
    fieldcrm-server fields add|update|retire|list|preview-type-change|change-type|kept
                    ... [--json]   (server.fields)
    fieldcrm-server visibility load FILE|show [--json]   (server.visibility)
    fieldcrm-server leads rules load FILE|show, leads add|list|stats, leads tick [--now ISO]
    fieldcrm-server apikey add SOURCE [--per-minute N]   (server.leads; each with --json)
    fieldcrm-server integration add NAME --read ENTITY:FIELDS --write ENTITY:FIELDS
                    [--per-minute N] | list | rotate NAME [--grace-hours H] | revoke NAME
                    | copy-ids   (server.integrations; each with --json)
    fieldcrm-server webhook add SYSTEM URL [--event E]... | list | test ID | log ID
                    [--limit N] | replay ID [--delivered-too]   (server.webhooks; --json)
    fieldcrm-server audit list [--user NAME] [--since ISO] [--action A] [--limit N] [--json]
    fieldcrm-server reconcile --system erp FILE [--entity account] [--id-column COL]
                    [--encoding E] [--report OUT.csv] [--json]   (server.reconcile; exit 2
                    for an unknown system or entity, 3 for a file that cannot be read)

With `--port 0` the server picks a free port; it always prints one line
`fieldcrm-server listening on http://HOST:PORT` on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from desktop.errors import FieldCRMError
from desktop.schema import CUSTOM_FIELD_ENTITIES, CUSTOM_FIELD_TYPES, Role, normalize_field_name
from server import admin, audit, config, duplicates, logs, versions
from server.config import Settings
from server.db import open_database
from server.logs import LOG_FORMATS, LogFormat

LISTENING = "fieldcrm-server listening on "


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="server data folder (database, blobs); default: "
                   f"${config.DATA_ENV} or the user data folder")
    p.add_argument("--database-url", help="e.g. postgresql+psycopg://user@host/db; default: "
                   "a SQLite file in the data folder")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fieldcrm-server", description="FieldCRM sync server")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="serve the sync API")
    _common(run)
    run.add_argument("--host", default=config.DEFAULT_HOST)
    run.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    run.add_argument("--log-level", default="warning",
                     help="level of the server's own log lines (default warning)")
    run.add_argument("--log-format", choices=LOG_FORMATS, default="text",
                     help="json: one JSON object per line (for a log collector); text: plain")
    run.add_argument("--client-latest", metavar="VERSION",
                     help=f"newest desktop release, told to every client "
                     f"(default ${config.CLIENT_LATEST_ENV})")
    run.add_argument("--client-minimum", metavar="VERSION",
                     help="older desktop apps are told to update (426) and keep their "
                     f"changes until they have (default ${config.CLIENT_MINIMUM_ENV})")
    run.add_argument("--client-download-url", metavar="URL",
                     help=f"where you host the installer (default ${config.CLIENT_DOWNLOAD_ENV})")
    run.add_argument("--no-access-log", dest="access_log", action="store_false",
                     help="leave out the one line per request (on by default, at INFO)")

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create a user")
    _common(add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--team", action="append", default=[],
                     help="team (repeatable; created if new)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    dis = user.add_parser("disable", help="disable a user; their devices are told to wipe")
    _common(dis)
    dis.add_argument("name")
    sr = user.add_parser("set-region", help="put a user in a region (a manager or director "
                         "then sees the book of the region and the regions under it)")
    _common(sr)
    sr.add_argument("name")
    sr.add_argument("region", help='region name; "" for none')
    sr.add_argument("--json", action="store_true", help="print JSON")
    lt = user.add_parser("leave-team", help="take a user out of a team")
    _common(lt)
    lt.add_argument("name")
    lt.add_argument("team")
    lt.add_argument("--json", action="store_true", help="print JSON")
    ul = user.add_parser("list", help="list users")
    _common(ul)
    ul.add_argument("--json", action="store_true")

    dev = sub.add_parser("device", help="manage devices").add_subparsers(
        dest="action", required=True)
    dl = dev.add_parser("list", help="list devices")
    _common(dl)
    dl.add_argument("--user")
    dl.add_argument("--json", action="store_true")
    dr = dev.add_parser("revoke", help="revoke a device; it is told to wipe its data")
    _common(dr)
    dr.add_argument("id")
    dr.add_argument("--json", action="store_true")

    team = sub.add_parser("team", help="manage teams").add_subparsers(dest="action", required=True)
    ta = team.add_parser("add", help="create a team")
    _common(ta)
    ta.add_argument("name")
    dup = sub.add_parser("duplicates", help="probable duplicates in the whole book").add_subparsers(
        dest="action", required=True)
    dupl = dup.add_parser("list", help="pairs found, best first (checks what changed first)")
    _common(dupl)
    dupl.add_argument("--entity", choices=["account", "contact"], default="account")
    dupl.add_argument("--limit", type=int, default=1000)
    dupl.add_argument("--json", action="store_true")
    reg = sub.add_parser("region", help="the region tree (data scopes)").add_subparsers(
        dest="action", required=True)
    ra = reg.add_parser("add", help="add a region")
    _common(ra)
    ra.add_argument("name")
    ra.add_argument("--parent", help="the region it is part of")
    ra.add_argument("--json", action="store_true", help="print JSON")
    rl = reg.add_parser("list", help="regions, their parents and users")
    _common(rl)
    rl.add_argument("--json", action="store_true", help="print JSON")
    _field_commands(sub)
    _visibility_commands(sub)
    _lead_commands(sub)
    aud = sub.add_parser("audit", help="the audit log of sensitive actions").add_subparsers(
        dest="action", required=True)
    al = aud.add_parser("list", help="entries, oldest first")
    _common(al)
    al.add_argument("--user", help="only this actor's entries")
    al.add_argument("--since", help="from this time on (ISO 8601, UTC)")
    al.add_argument("--action", dest="kind", choices=audit.ACTIONS)
    al.add_argument("--limit", type=int, default=1000)
    al.add_argument("--json", action="store_true")
    rec = sub.add_parser("reconcile", help="compare the CRM's records with another system's "
                         "export (server.reconcile)")
    _common(rec)
    rec.add_argument("file", type=Path, help="the export: CSV (UTF-8, BOM, GBK) or XLSX")
    rec.add_argument("--system", required=True, help="the system whose ids the file holds")
    rec.add_argument("--entity", default="account")
    rec.add_argument("--id-column", help="the column of the system's ids (default: found "
                     "by name: erp_id, ERP ID, ERP编号, external_id, 外部编号)")
    rec.add_argument("--encoding", help="the CSV's encoding when it is not recognised")
    rec.add_argument("--report", type=Path, help="write every finding to this CSV")
    rec.add_argument("--json", action="store_true", help="print the summary as JSON")
    return ap


def _visibility_commands(sub: Any) -> None:
    """`visibility load FILE|show` (server.visibility)."""
    vis = sub.add_parser("visibility", help="who may read which field (rules every "
                         "device's pulls follow)")
    vsub = vis.add_subparsers(dest="action", required=True)
    load = vsub.add_parser("load", help="replace every rule with those of a JSON file",
                           description='FILE holds {"rules": [{"entity": "deal", "field": '
                           '"cf_margin", "readable_by": ["director"], "others": "hidden"|'
                           '"masked", "grants": [{"roles": ["rep"], "until": '
                           '"2026-12-08T10:00:00Z"}]}]}')
    load.add_argument("file")
    show = vsub.add_parser("show", help="the rules in force")
    for p in (load, show):
        _common(p)
        p.add_argument("--json", action="store_true", help="print JSON")


def _visibility(args: argparse.Namespace, engine: sa.Engine) -> int:
    from server import visibility

    if args.action == "show":
        rows = visibility.show_rules(engine)
        if not args.json:
            rows = [{**r, "readable_by": ",".join(r["readable_by"]),
                     "grants": "; ".join(f"{','.join(g['roles'])} until {g['until']}"
                                         for g in r["grants"])} for r in rows]
        _print_table(rows, ("entity", "field", "readable_by", "others", "grants"), args.json)
        return 0
    try:
        with open(args.file, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise admin.AdminError(f"Cannot read the rules file {args.file}: {exc}") from exc
    out = visibility.replace_rules(engine, doc)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"{out['rules']} visibility rules in force ({len(out['added'])} added, "
              f"{len(out['changed'])} changed, {len(out['removed'])} removed)")
    return 0


def _lead_commands(sub: Any) -> None:
    """`leads rules load|show`, `leads add|list|stats|tick`, `apikey add` (server.leads)."""
    leads = sub.add_parser("leads", help="leads: assignment rules, intake, escalation")
    lsub = leads.add_subparsers(dest="action", required=True)

    def cmd(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    rules = lsub.add_parser("rules", help="assignment rules, rep capacities, escalation policy")
    rsub = rules.add_subparsers(dest="rules_action", required=True)
    load = cmd(rsub, "load", "replace the rules, reps and policy with a JSON file's")
    load.add_argument("file")
    cmd(rsub, "show", "show the rules, reps and policy in force")
    add = cmd(lsub, "add", "add a lead (assigned by the rules, like an intake)")
    for name in ("name", "company", "phone", "email", "source", "region", "budget", "product",
                 "note"):
        add.add_argument(f"--{name}", required=name == "name")
    ls = cmd(lsub, "list", "list leads, newest first")
    ls.add_argument("--status")
    ls.add_argument("--owner")
    ls.add_argument("--limit", type=int, default=100)
    stats = cmd(lsub, "stats", "the manager's view: by status and age, SLA breaches, "
                "response time per rep")
    stats.add_argument("--now", help="as of this UTC moment (ISO-8601); default: now")
    tick = cmd(lsub, "tick", "run one escalation pass (reminders, reassignment, the pool)")
    tick.add_argument("--now", help="as of this UTC moment (ISO-8601); default: now")
    _integration_commands(sub, cmd)
    key = sub.add_parser("apikey", help="API keys of lead sources (POST /api/leads)")
    ksub = key.add_subparsers(dest="action", required=True)
    ka = cmd(ksub, "add", "make a new API key for a lead source (shown once)")
    ka.add_argument("source")
    ka.add_argument("--per-minute", type=int, default=120, help="leads accepted per minute")


def _integration_commands(sub: Any, cmd: Any) -> None:
    """`integration add|list|rotate|revoke|copy-ids` (server.integrations)."""
    ig = sub.add_parser("integration", help="credentials of other systems (/api/v1)")
    isub = ig.add_subparsers(dest="action", required=True)
    ia = cmd(isub, "add", "a credential for a system, with its scopes (the key is shown once)")
    ia.add_argument("name")
    ia.add_argument("--read", action="append", default=[], metavar="ENTITY:FIELDS",
                    help="entity and the fields it may read: account:* or "
                         "account:name,phone (repeatable)")
    ia.add_argument("--write", action="append", default=[], metavar="ENTITY:FIELDS",
                    help="entity and the fields it may write; ENTITY:* also lets it "
                         "create and delete records (repeatable)")
    ia.add_argument("--per-minute", type=int, default=600, help="calls allowed per minute")
    cmd(isub, "list", "every system's credential (never its secret)")
    ir = cmd(isub, "rotate", "a new key; the old one stays valid for the grace period")
    ir.add_argument("name")
    ir.add_argument("--grace-hours", type=float, default=24.0)
    iv = cmd(isub, "revoke", "end every key of the system now")
    iv.add_argument("name")
    cmd(isub, "copy-ids", "write records' external ids into the field devices receive "
                          "(ids set before this release; running it again changes nothing)")
    wh = sub.add_parser("webhook", help="webhook subscriptions of other systems")
    wsub = wh.add_subparsers(dest="action", required=True)
    wa = cmd(wsub, "add", "subscribe a system's address to events (the secret is shown once)")
    wa.add_argument("system")
    wa.add_argument("url")
    wa.add_argument("--event", "--events", action="append", default=[],
                    help="account.created, deal.won, lead.assigned, lead.sla_breached, "
                         "payment.received, account.*, * (repeatable or comma-separated; "
                         "default *)")
    cmd(wsub, "list", "subscriptions, their state and delivery counts")
    wt = cmd(wsub, "test", "post a ping to the subscription's address now")
    wt.add_argument("id")
    wl = cmd(wsub, "log", "the subscription's deliveries, newest first")
    wl.add_argument("id")
    wl.add_argument("--limit", type=int, default=100)
    wr = cmd(wsub, "replay", "deliver failed deliveries again and resume the subscription")
    wr.add_argument("id")
    wr.add_argument("--delivered-too", action="store_true",
                    help="also those delivered already")


def _integration(args: argparse.Namespace, engine: sa.Engine) -> int:
    from server import integrations as ig

    out: Any
    if args.action == "add":
        out = ig.add(engine, args.name, ig.Scopes.parse(args.read, args.write), args.per_minute)
        text = f"key for {args.name} (shown once): {out['key']}"
    elif args.action == "list":
        rows = [{**r, "read": json.dumps(r["read"]), "write": json.dumps(r["write"])}
                for r in ig.list_all(engine)] if not args.json else ig.list_all(engine)
        _print_table(rows, ("name", "key_id", "per_minute", "read", "write", "rotated_at",
                            "revoked_at"), args.json)
        return 0
    elif args.action == "rotate":
        out = ig.rotate(engine, args.name, args.grace_hours)
        text = (f"new key for {args.name} (shown once): {out['key']}; the old key works "
                f"until {out['old_valid_until']}")
    elif args.action == "copy-ids":
        out = ig.copy_external_ids(engine, lambda _version: None)  # devices pull on their own
        text = f"external ids written to {out['records']} records"
    else:
        out = ig.revoke(engine, args.name)
        text = f"{args.name} revoked"
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return 0


def _webhook(args: argparse.Namespace, engine: sa.Engine) -> int:
    from server import webhooks as wh

    out: Any
    if args.action == "add":
        events = [e.strip() for item in args.event for e in item.split(",") if e.strip()]
        out = wh.add(engine, args.system, args.url, events)
        text = f"subscription {out['id']}; signing secret (shown once): {out['secret']}"
    elif args.action == "list":
        rows = wh.list_all(engine)
        if not args.json:
            rows = [{**r, "events": ",".join(r["events"])} for r in rows]
        _print_table(rows, ("id", "system", "url", "events", "status", "paused_at",
                            "pending", "retrying", "delivered", "failed", "last_error"),
                     args.json)
        return 0
    elif args.action == "log":
        _print_table(wh.log_of(engine, args.id, max(1, args.limit)),
                     ("delivery_id", "event", "record_id", "version", "status", "attempts",
                      "last_error"), args.json)
        return 0
    elif args.action == "test":
        out = wh.test_send(engine, args.id)
        text = "delivered" if out["ok"] else f"failed: {out['error']}"
    else:
        out = wh.replay(engine, args.id, delivered_too=args.delivered_too)
        text = f"{out['replayed']} deliveries queued again; subscription active"
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return 0


def _reconcile(args: argparse.Namespace, engine: sa.Engine) -> int:
    from server import reconcile

    result = reconcile.reconcile(engine, args.system, args.file, entity=args.entity,
                                 id_col=args.id_column, encoding=args.encoding)
    out = result.summary
    if args.report is not None:
        try:
            reconcile.write_report(result.findings, args.report)
        except OSError as exc:
            raise reconcile.ReconcileError(f"The report cannot be written to {args.report} "
                                           f"({exc.strerror}).") from exc
        out = {**out, "report": str(args.report)}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    system, entity = out["system"], out["entity"]
    print(f"{out['matched']} {entity} records in both (by {system} id "
          f"{out['matched_by']['external_id']}, credit code {out['matched_by']['uscc']}, "
          f"phone {out['matched_by']['phone']})\n"
          f"{out['crm_only']} only in the CRM, {out['other_only']} only in {system}\n"
          f"{out['differing']} records differ in {out['differing_fields']} fields\n"
          f"duplicates: {out['duplicates_crm']} in the CRM, {out['duplicates_other']} in "
          f"{system}" + (f"\nreport: {args.report}" if args.report else ""))
    return 0


def _moment(text: str | None) -> Any:
    import datetime as dt

    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise admin.AdminError(f"'{text}' is not an ISO-8601 moment.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _leads(args: argparse.Namespace, engine: sa.Engine) -> int:
    from server import leads

    out: Any
    if args.cmd == "apikey":
        key = leads.add_api_key(engine, args.source, args.per_minute)
        out = {"source": args.source, "api_key": key, "per_minute": args.per_minute}
        text = f"API key for {args.source} (shown once): {key}"
    elif args.action == "rules" and args.rules_action == "load":
        try:
            doc = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise leads.LeadError(f"Cannot read {args.file}: {exc}") from exc
        out = leads.load_rules(engine, doc)
        text = f"{out['written']} rule records written, {out['deleted']} deleted"
    elif args.action == "rules":
        out = leads.show_rules(engine)
        text = json.dumps(out, ensure_ascii=False, indent=2)
    elif args.action == "add":
        values = {k: getattr(args, k) for k in ("name", "company", "phone", "email", "source",
                                                "region", "budget", "product", "note")}
        out = leads.add_lead(engine, values)
        text = (f"lead {out['id']} {out['name']}: " + (f"assigned to {out['owner']}"
                if out.get("owner") else "in the pool") + f" ({out.get('assigned_rule')})")
    elif args.action == "list":
        rows = leads.list_leads(engine, status=args.status, owner=args.owner, limit=args.limit)
        _print_table(rows, ("id", "name", "company", "status", "owner", "assigned_at",
                            "escalation"), args.json)
        return 0
    elif args.action == "stats":
        out = leads.stats(engine, _moment(args.now))
        text = json.dumps(out, ensure_ascii=False, indent=2)
    else:
        out = leads.tick(engine, _moment(args.now))
        text = ("another server process is running the pass" if out["skipped"] else
                f"{out['due']} due: {out['remind']} reminded, {out['retry']} retry reminders, "
                f"{out['reassign']} reassigned, {out['pool']} to the pool, "
                f"{out['reclaim']} reclaimed")
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return 0


def _field_commands(sub: Any) -> None:
    """`fields add|update|retire|list|preview-type-change|change-type|kept` (server.fields)."""
    fields = sub.add_parser("fields", help="custom fields (definitions every device receives)")
    fsub = fields.add_subparsers(dest="action", required=True)

    def cmd(name: str, help_text: str) -> argparse.ArgumentParser:
        p = fsub.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    def shape(p: argparse.ArgumentParser, *, adding: bool) -> None:
        p.add_argument("entity", choices=CUSTOM_FIELD_ENTITIES)
        p.add_argument("name", help="field name (cf_ is added when missing)")
        if adding:
            p.add_argument("--type", required=True, choices=CUSTOM_FIELD_TYPES)
        p.add_argument("--label-en")
        p.add_argument("--label-zh")
        p.add_argument("--choice", action="append", help="a choice (repeatable; on update: "
                       "the full list, which must keep every existing choice)")
        p.add_argument("--required", action=argparse.BooleanOptionalAction, default=None,
                       help="the form asks for it")
        p.add_argument("--searchable", action=argparse.BooleanOptionalAction, default=None)
        p.add_argument("--section", help="form section")
        p.add_argument("--position", type=int, help="order on the form and in lists")
        p.add_argument("--stage", action="append", help="deals: show only in this stage "
                       "(repeatable)")

    shape(cmd("add", "add a custom field (no existing record is rewritten)"), adding=True)
    shape(cmd("update", "change a custom field's labels, choices, order, section"),
          adding=False)
    r = cmd("retire", "hide a custom field everywhere; its values are kept")
    r.add_argument("entity", choices=CUSTOM_FIELD_ENTITIES)
    r.add_argument("name")
    r.add_argument("--restore", action="store_true", help="show a retired field again")
    ls = cmd("list", "list the custom field definitions")
    ls.add_argument("--entity", choices=CUSTOM_FIELD_ENTITIES)
    for verb, text in (("preview-type-change", "how many values would convert, with examples "
                        "(nothing is changed)"),
                       ("change-type", "change the type: values convert or are kept aside, "
                        "never lost")):
        tc = cmd(verb, text)
        tc.add_argument("entity", choices=CUSTOM_FIELD_ENTITIES)
        tc.add_argument("name")
        tc.add_argument("--to", required=True, choices=CUSTOM_FIELD_TYPES)
        tc.add_argument("--choice", action="append", default=[],
                        help="choices of the new type (repeatable)")
    kept = cmd("kept", "values a type change kept aside (readable, exportable)")
    kept.add_argument("--entity", choices=CUSTOM_FIELD_ENTITIES)
    kept.add_argument("--name")


def _field_changes(args: argparse.Namespace) -> dict[str, Any]:
    pairs = {"label_en": args.label_en, "label_zh": args.label_zh, "choices": args.choice,
             "required": args.required, "searchable": args.searchable, "section": args.section,
             "position": args.position, "stages": args.stage}
    return {k: v for k, v in pairs.items() if v is not None}


def _fields(args: argparse.Namespace, engine: sa.Engine) -> int:
    from server import fields

    if args.action == "list":
        rows = fields.list_fields(engine, args.entity)
        if not args.json:
            rows = [{**r, "choices": ",".join(r["choices"]), "retired": r["retired"] or ""}
                    for r in rows]
        _print_table(rows, ("entity", "name", "type", "label_en", "label_zh", "choices",
                            "retired"), args.json)
        return 0
    if args.action == "kept":
        rows = fields.kept_values(engine, args.entity,
                                  normalize_field_name(args.name) if args.name else None)
        if not args.json:
            rows = [{**r, "value": json.dumps(r["value"], ensure_ascii=False)} for r in rows]
        _print_table(rows, ("entity", "record_id", "field", "value", "to", "reason"), args.json)
        return 0
    if args.action in ("preview-type-change", "change-type"):
        act = (fields.preview_type_change if args.action == "preview-type-change"
               else fields.change_type)
        out = act(engine, args.entity, args.name, args.to, args.choice)
        if args.json:
            print(json.dumps(out, ensure_ascii=False))
        else:
            left = out.get("unconvertible", out.get("kept_aside"))
            verb = "would convert" if args.action == "preview-type-change" else "converted"
            print(f"{out['entity']}.{out['name']} {out['from']} -> {out['to']}: {out['values']} "
                  f"values, {out['convert']} {verb}, {left} kept aside (not lost)")
            for ex in out.get("examples_unconvertible", []):
                print(f"  {ex['record_id']}: {ex['value']!r}: {ex['reason']}")
        return 0
    if args.action == "add":
        c = _field_changes(args)
        out = fields.add_field(
            engine, args.entity, args.name, args.type, label_en=c.get("label_en"),
            label_zh=c.get("label_zh"), choices=c.get("choices", ()),
            required=bool(c.get("required")), searchable=bool(c.get("searchable")),
            section=c.get("section", ""), position=c.get("position"), stages=c.get("stages", ()))
        text = f"field {out['entity']}.{out['name']} added ({out['type']})"
    elif args.action == "update":
        out = fields.update_field(engine, args.entity, args.name, _field_changes(args))
        text = f"field {out['entity']}.{out['name']} updated"
    else:
        out = fields.retire_field(engine, args.entity, args.name, restore=args.restore)
        text = (f"field {out['entity']}.{out['name']} "
                + ("restored" if args.restore else "retired (values kept)"))
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return 0


def _print_table(rows: list[dict[str, Any]], cols: Sequence[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    widths = {c: max([len(c)] + [len(str(r.get(c) or "")) for r in rows]) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c) if r.get(c) is not None else "").ljust(widths[c])
                        for c in cols))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise admin.AdminError("The passwords differ.")
    return first


def serve(settings: Settings, host: str, port: int, log_level: str = "warning",
          log_format: LogFormat = "text", access_log: bool = True) -> None:
    import uvicorn

    from server.app import create_app

    versions.check(settings)  # a bad setting is told before logging is taken over
    logs.configure(log_format, log_level, access_log)
    app = create_app(settings)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP; without it every keep-alive reply waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    bound = sock.getsockname()[1]
    # log_config=None: uvicorn's loggers go through server.logs; its own access line is
    # replaced by server.logs.RequestObserver's
    cfg = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=3,
                         log_config=None, access_log=False)
    server = uvicorn.Server(cfg)
    shown = f"[{host}]" if family == socket.AF_INET6 else host

    original_startup = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original_startup(sockets)
        # Everything alive now (FastAPI, SQLAlchemy, pydantic) lives as long as the process:
        # keep it out of the collector, whose full passes over it stalled pushes by 50 ms.
        gc.collect()
        gc.freeze()
        print(f"{LISTENING}http://{shown}:{bound}", flush=True)

    server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_args(args.data, args.database_url,
                                  getattr(args, "client_latest", None),
                                  getattr(args, "client_minimum", None),
                                  getattr(args, "client_download_url", None))
    try:
        if args.cmd == "run":
            serve(settings, args.host, args.port, args.log_level, args.log_format,
                  args.access_log)
            return 0
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine: sa.Engine = open_database(settings.url)
        try:
            return _admin(args, engine)
        finally:
            engine.dispose()
    except FieldCRMError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.message, "field": getattr(exc, "field", None)},
                             ensure_ascii=False))
        print(f"fieldcrm-server: {exc.message}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))  # reconcile: 2 unknown system, 3 bad file


def _admin(args: argparse.Namespace, engine: sa.Engine) -> int:
    if args.cmd == "user" and args.action == "add":
        admin.add_user(engine, args.name, args.role, _read_password(args.password_stdin), args.team)
        print(f"user {args.name} added ({args.role})")
    elif args.cmd == "user" and args.action == "disable":
        admin.disable_user(engine, args.name)
        print(f"user {args.name} disabled; their devices will be wiped on next contact")
    elif args.cmd == "user" and args.action == "set-region":
        admin.set_region(engine, args.name, args.region or None)
        out = {"username": args.name, "region": args.region or None}
        print(json.dumps(out, ensure_ascii=False) if args.json
              else f"user {args.name} now in region {args.region or '(none)'}")
    elif args.cmd == "user" and args.action == "leave-team":
        admin.remove_from_team(engine, args.name, args.team)
        print(json.dumps({"username": args.name, "left": args.team}, ensure_ascii=False)
              if args.json else f"user {args.name} left team {args.team}")
    elif args.cmd == "region" and args.action == "add":
        admin.add_region(engine, args.name, args.parent)
        out = {"name": args.name, "parent": args.parent}
        print(json.dumps(out, ensure_ascii=False) if args.json
              else f"region {args.name} added")
    elif args.cmd == "region" and args.action == "list":
        rows = admin.list_regions(engine)
        if not args.json:
            rows = [{**r, "users": ",".join(r["users"])} for r in rows]
        _print_table(rows, ("name", "parent", "users"), args.json)
    elif args.cmd == "user" and args.action == "list":
        rows = admin.list_users(engine)
        if not args.json:
            rows = [{**r, "teams": ",".join(r["teams"])} for r in rows]
        _print_table(rows, ("username", "role", "teams", "disabled"), args.json)
    elif args.cmd == "device" and args.action == "list":
        _print_table(admin.list_devices(engine, args.user),
                     ("id", "user", "name", "last_seen_at", "revoked"), args.json)
    elif args.cmd == "device" and args.action == "revoke":
        admin.revoke_device(engine, args.id)
        print(json.dumps({"revoked": args.id}) if args.json else f"device {args.id} revoked")
    elif args.cmd == "fields":
        return _fields(args, engine)
    elif args.cmd == "visibility":
        return _visibility(args, engine)
    elif args.cmd in ("leads", "apikey"):
        return _leads(args, engine)
    elif args.cmd == "integration":
        return _integration(args, engine)
    elif args.cmd == "webhook":
        return _webhook(args, engine)
    elif args.cmd == "reconcile":
        return _reconcile(args, engine)
    elif args.cmd == "audit":
        rows = audit.entries(engine, user=args.user, since=args.since, action=args.kind,
                             limit=args.limit)
        if not args.json:
            rows = [{**r, "detail": json.dumps(r["detail"], ensure_ascii=False)} for r in rows]
        _print_table(rows, ("at", "action", "actor", "target", "address", "detail"), args.json)
    elif args.cmd == "team" and args.action == "add":
        admin.add_team(engine, args.name)
        print(f"team {args.name} added")
    elif args.cmd == "duplicates" and args.action == "list":
        pairs, waiting = duplicates.list_pairs(engine, None, args.entity,
                                               limit=max(1, args.limit))
        if args.json:
            print(json.dumps({"pairs": [x.as_json() for x in pairs], "pending": waiting},
                             ensure_ascii=False))
        else:
            rows = [{**x.as_json(), "reasons": ",".join(x.reasons)} for x in pairs]
            _print_table(rows, ("score", "a", "a_name", "b", "b_name", "reasons"), False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
