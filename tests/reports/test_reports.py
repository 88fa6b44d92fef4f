"""Reports (issue 18): figures finance can recompute by hand, to the cent, in every
currency; drill-down ids that add up to their cell; weeks in the viewer's zone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.followup.settings import DEFAULT_CRITERIA
from desktop.reports import NAMES, Report, ReportFilter, cell_ids, run
from desktop.reports.activity import criterion_case_sql, criterion_sql, outcome_sql
from desktop.reports.money import cents_of
from desktop.schema import STAGE_PROBABILITY
from desktop.store import Store

D0, D1 = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
CNY, USD, EUR = "CNY", "USD", "EUR"
RATES = [(USD, "2026-01-01", 7.1234), (USD, "2026-07-01", 7.2011), (EUR, "2026-03-01", 7.8)]


def _rate(cur: str, day: str, rates: list[tuple[str, str, float]]) -> Decimal | None:
    if cur == CNY:
        return Decimal(1)
    found = [r for c, d, r in sorted(rates) if c == cur and d <= day]
    return Decimal(str(found[-1])) if found else None


def _plain_sum(items: list[tuple[float, str, str]], to: str,
               rates: list[tuple[str, str, float]]) -> tuple[Decimal, int]:
    """The money rule recomputed from raw (amount, currency, day): cents summed per
    (currency, rates in force), converted once, half-up to the cent. Returns (sum,
    how many could not be converted)."""
    parts: dict[tuple[str, Decimal, Decimal], int] = defaultdict(int)
    missing = 0
    for amount, cur, day in items:
        a, b = _rate(cur, day, rates), _rate(to, day, rates)
        if cur == to:
            a = b = Decimal(1)
        if a is None or b is None:
            missing += 1
            continue
        parts[(cur, a, b)] += cents_of(amount)
    total = sum(((Decimal(c) * a / b / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
                 for (_, a, b), c in parts.items()), Decimal("0.00"))
    return total, missing


def _raw(store: Store, entity: str) -> list[dict[str, Any]]:
    cur = store.conn.execute(f'SELECT * FROM "{entity}" WHERE deleted = 0')
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def _book(store: Store, deals: list[dict[str, Any]], payments: list[dict[str, Any]],
          rates: list[tuple[str, str, float]]) -> None:
    store.repo("deal").import_many(deals)
    store.repo("payment").import_many(payments)
    store.repo("fx_rate").import_many(
        [{"currency": c, "valid_from": d, "rate": r} for c, d, r in rates])


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)
days = st.dates(min_value=D0, max_value=D1).map(dt.date.isoformat)
deal_st = st.fixed_dictionaries({
    "title": st.just("d"), "amount": amounts.map(float),
    "currency": st.sampled_from([CNY, USD, EUR]),
    "stage": st.sampled_from(["lead", "qualified", "proposal", "negotiation", "legal_review"]),
    "close_date": days, "owner": st.sampled_from(["wang", "li", "zhao"])})
payment_st = st.fixed_dictionaries({
    "kind": st.sampled_from(["planned", "received"]), "amount": amounts.map(float),
    "currency": st.sampled_from([CNY, USD, EUR]), "date": days,
    "owner": st.sampled_from(["wang", "li"])},
    optional={"deal_id": st.sampled_from([f"00000000-0000-4000-8000-00000000000{i}"
                                          for i in range(3)])})


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(deals=st.lists(deal_st, max_size=25), payments=st.lists(payment_st, max_size=25),
       to=st.sampled_from([CNY, USD, EUR]), drop_eur=st.booleans())
def test_money_reports_equal_a_plain_recomputation_to_the_cent(
        deals: list[dict[str, Any]], payments: list[dict[str, Any]], to: str,
        drop_eur: bool) -> None:
    rates = [r for r in RATES if not (drop_eur and r[0] == EUR)]
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "p") as store:
        _book(store, deals, payments, rates)
        f = ReportFilter(D0, D1, currency=to, as_of=dt.date(2026, 12, 31))
        rows = {r["id"]: r for r in _raw(store, "deal")}

        pipe = run(store, "pipeline", f)
        for cell in pipe.cells:
            stage = cell.key[0]
            mine = [r for r in rows.values() if r["stage"] == stage]
            assert sorted(cell.ids) == sorted(r["id"] for r in mine)  # drill-down = cell
            expect, _ = _plain_sum([(r["amount"], r["currency"], "2026-12-31") for r in mine],
                                   to, rates)
            assert cell.values["amount"] == expect
            assert cell.values["weighted"] == (expect * STAGE_PROBABILITY[stage] / 100
                                               ).quantize(Decimal("0.01"))
        total, missing = _plain_sum([(r["amount"], r["currency"], "2026-12-31")
                                     for r in rows.values()], to, rates)
        assert pipe.totals["amount"] == sum((c.values["amount"] for c in pipe.cells),
                                            Decimal(0))
        assert len(pipe.unconverted) == missing  # never added unconverted

        fc = run(store, "forecast", f)
        assert sum(int(c.values["deals"] or 0) for c in fc.cells) == len(rows)
        for cell in fc.cells:
            mine = [r for r in rows.values() if r["close_date"][:7] == cell.key[0]]
            assert sorted(cell.ids) == sorted(r["id"] for r in mine)
            expect, _ = _plain_sum([(r["amount"], r["currency"], "2026-12-31") for r in mine],
                                   to, rates)
            assert cell.values["amount"] == expect

        col = run(store, "collections", f)
        pays = _raw(store, "payment")
        for cell in col.cells:
            for kind, name in (("received", "collected"), ("planned", "planned")):
                mine = [p for p in pays if p["kind"] == kind and p["date"][:7] == cell.key[0]]
                assert sorted(cell.detail_ids[name]) == sorted(p["id"] for p in mine)
                expect, _ = _plain_sum([(p["amount"], p["currency"], p["date"]) for p in mine],
                                       to, rates)
                assert cell.values[name] == expect
        # a total is the sum of its rows: each month converts on its own
        months = {p["date"][:7] for p in pays if p["kind"] == "received"}
        expect = sum((_plain_sum([(p["amount"], p["currency"], p["date"]) for p in pays
                                  if p["kind"] == "received" and p["date"][:7] == m],
                                 to, rates)[0] for m in months), Decimal("0.00"))
        assert col.totals["collected"] == expect
        _ageing_equals_a_plain_fifo(col, pays, to, rates, dt.date(2026, 12, 31))

        for report in (pipe, fc, col):  # the dashboard's run: the same figures, no ids
            _same_without_ids_and_drills_to_each_cell(store, report, f)


def _ageing_equals_a_plain_fifo(col: Report, pays: list[dict[str, Any]], to: str,
                                rates: list[tuple[str, str, float]], as_of: dt.date) -> None:
    """Received payments pay a deal's planned instalments oldest first, per currency;
    what is left unpaid of each instalment is aged by its due day."""
    from desktop.reports.collections import bucket_of

    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for p in pays:
        if p["date"] <= as_of.isoformat():
            groups[(p["deal_id"] or p["id"], p["currency"])].append(p)
    unpaid: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    ids: dict[str, list[str]] = defaultdict(list)
    for (_k, cur), items in groups.items():
        credit = sum(cents_of(p["amount"]) for p in items if p["kind"] == "received")
        for p in sorted((p for p in items if p["kind"] == "planned"),
                        key=lambda p: (p["date"], p["id"])):
            due = cents_of(p["amount"])
            used = min(due, credit)
            credit -= used
            if due - used:
                bucket = bucket_of((as_of - dt.date.fromisoformat(p["date"])).days)
                unpaid[bucket].append(((due - used) / 100, cur, as_of.isoformat()))
                ids[bucket].append(p["id"])
    for cell in col.sections["ageing"]:
        bucket = cell.key[0]
        assert sorted(cell.ids) == sorted(ids[bucket])
        assert cell.values["instalments"] == len(ids[bucket])
        expect, _ = _plain_sum(unpaid[bucket], to, rates)
        assert cell.values["unpaid"] == expect, bucket


def _same_without_ids_and_drills_to_each_cell(store: Store, full: Report, f: ReportFilter,
                                              now: dt.datetime | None = None) -> None:
    lean = run(store, full.name, dataclasses.replace(f, ids=False), now=now)
    assert [(c.key, c.values) for c in lean.cells] == [(c.key, c.values) for c in full.cells]
    assert lean.totals == full.totals and lean.notes == full.notes
    assert sorted(lean.unconverted) == sorted(full.unconverted)  # listed even without ids
    assert all(not c.ids and not c.detail_ids for c in lean.cells)
    for c in full.cells:
        assert cell_ids(store, full.name, f, c.key, now=now) == c.ids
        for detail, ids in c.detail_ids.items():
            assert cell_ids(store, full.name, f, c.key, detail=detail, now=now) == ids
    for section, cells in full.sections.items():
        for c in cells:
            assert sorted(cell_ids(store, full.name, f, c.key, section=section)) == sorted(c.ids)
    assert cell_ids(store, full.name, f, None, now=now) == [i for c in full.cells for i in c.ids]


def test_every_report_drills_from_a_dashboard_run_to_its_cells_records(store: Store) -> None:
    """The dashboard runs reports without ids; a click on a bar, a square or a row finds
    the same records the full run lists, for every report and detail."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # golden-72: first writes are now
    owners = ("wang", "li", "")
    for i in range(40):
        when = now - dt.timedelta(days=i * 2, hours=i)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        owner = owners[i % 3] or None
        a = store.repo("account").create({"name": f"客户{i}", "owner": owner})
        d = store.repo("deal").create({
            "title": f"商机{i}", "amount": 1000 + i, "currency": (CNY, USD)[i % 2],
            "stage": ("won", "lost", "proposal")[i % 3], "owner": owner,
            "close_date": when.date().isoformat()})
        store.conn.execute("UPDATE deal SET stage_changed_at = ? WHERE id = ?", (stamp, d["id"]))
        store.repo("activity").create({
            "kind": ("call", "visit", "note")[i % 3], "subject": "跟进", "done_at": stamp,
            "duration_s": 30 * i, "outcome": "customer_reply" if i % 4 else "",
            "account_id": a["id"], "owner": owner})
        store.repo("lead").create({
            "name": f"线索{i}", "owner": owner, "status": "contacted", "assigned_at": stamp,
            "first_contact_at": (when + dt.timedelta(minutes=7 * i)).strftime(
                "%Y-%m-%dT%H:%M:%SZ")})
        store.repo("payment").create({
            "kind": ("planned", "received")[i % 2], "amount": 500 + i, "currency": CNY,
            "date": when.date().isoformat(), "deal_id": d["id"], "owner": owner})
    store.repo("fx_rate").create({"currency": USD, "valid_from": "2026-01-01", "rate": 7.1})
    zone = ZoneInfo("Asia/Shanghai")
    today = now.astimezone(zone).date()  # after 16:00 UTC it is tomorrow in Shanghai
    f = ReportFilter(today - dt.timedelta(weeks=12), today, zone=zone)
    for name in NAMES:
        full = run(store, name, f, now=now)
        assert full.cells, name
        _same_without_ids_and_drills_to_each_cell(store, full, f, now)


def test_an_amount_without_a_rate_is_listed_never_added(store: Store) -> None:
    store.repo("deal").create({"title": "A", "amount": 100, "currency": "USD", "stage": "lead"})
    jpy = store.repo("deal").create({"title": "B", "amount": 100, "currency": "JPY",
                                     "stage": "lead"})
    store.repo("fx_rate").create({"currency": "USD", "valid_from": "2020-01-01", "rate": 7.1})
    r = run(store, "pipeline", ReportFilter(D0, D1, currency="CNY"))
    assert r.cell("lead").values == {"deals": 2, "amount": Decimal("710.00"), "probability": 10,
                                     "weighted": Decimal("71.00")}
    assert r.unconverted == [jpy["id"]]
    assert "no exchange rate" in r.notes[0].text()
    assert "没有生效的 CNY 汇率" in r.notes[0].text("zh")


def test_owner_reports_add_up_to_the_team_report(store: Store) -> None:
    store.repo("deal").import_many(
        [{"title": f"d{i}", "amount": 1000 + i * 0.37, "currency": "CNY",
          "stage": ("lead", "proposal")[i % 2], "owner": ("wang", "li", "zhao")[i % 3]}
         for i in range(60)])
    team = run(store, "pipeline", ReportFilter(D0, D1, owners=("wang", "li")))
    parts = [run(store, "pipeline", ReportFilter(D0, D1, owners=(o,))) for o in ("wang", "li")]
    for name in ("deals", "amount", "weighted"):
        assert team.totals[name] == sum(p.totals[name] for p in parts)  # type: ignore[misc]


def _rule_from_a_record() -> Any:
    """An admin's rule as the server's team book holds it, read by the one reader."""
    from desktop.followup.rule import read_rule
    from desktop.reports.book import memory_book

    criteria = [{"name": "call_30s", "kind": "call", "min_duration_s": 30},
                {"name": "visit_photo", "kind": "visit", "needs_attachment": True},
                {"name": "demo", "outcomes": ["demo", "演示"]},
                {"name": "signed_visit", "kind": "visit", "min_duration_s": 60,
                 "outcomes": ["signed", "已签"]}]
    conn = memory_book({"followup_rule": [(
        "0190f1a2-0000-7000-8000-r00000000001",
        {"criteria": json.dumps(criteria, ensure_ascii=False), "required_criteria": 1,
         "active": True}, {"criteria": "1781053200000-0000-admin"})]})
    try:
        got = read_rule(conn)
    finally:
        conn.close()
    assert [c.name for c in got.criteria] == [c["name"] for c in criteria]
    return got


RECORD_RULE = _rule_from_a_record()


@settings(max_examples=200, deadline=None, database=None)
@given(act=st.fixed_dictionaries({
    "kind": st.sampled_from(["call", "visit", "note", "task"]),
    "duration_s": st.one_of(st.none(), st.integers(0, 300)),
    "attachments": st.one_of(st.none(), st.just([]), st.just(["a" * 64])),
    "outcome": st.one_of(st.none(), st.sampled_from(
        ["Customer_reply ok", " 客户回复了", "quoted 5%", "已报价", "no", "", "replied",
         # at the ends of golden-72's prefix ranges (criterion_case_sql)
         "customer_replz", "customer_repl", "CUSTOMER_REPLY", "quotee", "quotec", "已回复",
         "已回", "已回夎", "replief", "repliedx", "已报价x", "报价已发送", "报价已发",
         # the admin's rule below
         "demo", "Demo day", "dem", "演示", "演", "signed"]))}))
def test_criteria_in_sql_agree_with_the_follow_up_rules(act: dict[str, Any]) -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE activity (kind, duration_s, attachments, outcome)")
    conn.execute("INSERT INTO activity VALUES (?, ?, ?, ?)",
                 (act["kind"], act["duration_s"],
                  None if act["attachments"] is None else json.dumps(act["attachments"]),
                  act["outcome"]))
    for c in (*DEFAULT_CRITERIA, *RECORD_RULE.criteria):
        sql, params = criterion_sql(c)
        got = conn.execute(f"SELECT {sql} FROM activity", params).fetchone()[0]
        assert bool(got) == c.matches(act), c.name
        sql, params = criterion_case_sql(c, outcome_sql())  # golden-72's form: 1 or 0
        got = conn.execute(f"SELECT {sql} FROM activity", params).fetchone()[0]
        assert got == int(c.matches(act)), c.name


def test_golden_72_counts_follow_ups_within_72_hours_only(store: Store) -> None:
    acc = store.repo("account")
    quick, late, none = (acc.create({"name": n, "owner": "wang"})
                         for n in ("快速跟进公司", "Late Co", "Nobody Co"))
    start = dt.datetime.now(dt.UTC)
    act = store.repo("activity")
    for a, hours in ((quick, 5), (late, 80)):
        when = (start + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        act.create({"kind": "call", "subject": "call", "duration_s": 120, "account_id": a["id"],
                    "done_at": when, "owner": "wang"})
        act.create({"kind": "note", "subject": "reply", "outcome": "customer_reply",
                    "account_id": a["id"], "done_at": when, "owner": "wang"})
    today = start.date()
    r = run(store, "golden-72", ReportFilter(today - dt.timedelta(days=7), today))
    assert r.totals["records"] == 3 and r.totals["met"] == 1
    cell = r.cells[0]
    assert sorted(cell.detail_ids["missed"]) == sorted([late["id"], none["id"]])
    assert r.totals["compliance"] == 33.3


def test_golden_report_names_the_hours_of_the_admin_s_rule(store: Store) -> None:
    from desktop.followup import rule
    from desktop.reports import view

    today = dt.datetime.now(dt.UTC).date()
    f = ReportFilter(today - dt.timedelta(days=7), today)
    r = run(store, "golden-72", f)
    assert view.title("golden-72", "zh", r) == "黄金72小时执行率"
    assert [n.text("en") for n in r.notes if n.code == "golden"] == [
        "Met: 2 kinds of valid follow-up logged within 72 hours of a record's first write "
        "(the admin's follow-up rule)."]
    rule.set_rule(store, golden_overdue_hours=48, golden_warn_hours=24)
    r = run(store, "golden-72", f)
    assert view.title("golden-72", "zh", r) == "黄金48小时执行率"
    assert view.title("golden-72", "en", r) == "Golden 48 hours: compliance"
    assert "48 小时内" in r.to_json()["notes_zh"][0]


def test_activity_weeks_are_the_viewers_local_weeks_across_a_change_of_clocks(
        store: Store) -> None:
    # Sunday 2026-03-08, 23:30 in New York (after the spring change: UTC-4) is Monday
    # 03:30 UTC; the week is New York's (Monday 2026-03-02), not UTC's (2026-03-09).
    act = store.repo("activity")
    act.create({"kind": "call", "subject": "late call", "done_at": "2026-03-09T03:30:00Z",
                "owner": "amy"})
    # Monday 2026-03-02 00:30 in New York (UTC-5, before the change) is 05:30 UTC
    act.create({"kind": "visit", "subject": "early visit", "done_at": "2026-03-02T05:30:00Z",
                "owner": "amy"})
    ny = ReportFilter(dt.date(2026, 2, 23), dt.date(2026, 3, 15), zone=ZoneInfo("America/New_York"))
    r = run(store, "activities", ny)
    assert [(c.key, c.values["calls"], c.values["visits"]) for c in r.cells] == [
        (("amy", "2026-03-02"), 1, 1)]
    utc = run(store, "activities", ReportFilter(dt.date(2026, 2, 23), dt.date(2026, 3, 15)))
    assert [c.key for c in utc.cells] == [("amy", "2026-03-02"), ("amy", "2026-03-09")]


def test_lead_sla_counts_late_and_waiting_leads_as_breaches(store: Store) -> None:
    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    leads = store.repo("lead")
    fast = leads.create({"name": "快", "owner": "wang", "status": "contacted",
                         "assigned_at": "2026-06-01T08:00:00Z",
                         "first_contact_at": "2026-06-01T08:05:00Z"})
    slow = leads.create({"name": "慢", "owner": "wang", "status": "contacted",
                         "assigned_at": "2026-06-01T08:00:00Z",
                         "first_contact_at": "2026-06-01T09:00:00Z"})
    waiting = leads.create({"name": "等", "owner": "wang", "status": "assigned",
                            "assigned_at": "2026-06-01T10:00:00Z"})
    r = run(store, "lead-sla", ReportFilter(dt.date(2026, 6, 1), dt.date(2026, 6, 1)), now=now)
    cell = r.cell("wang")
    assert cell is not None and fast["id"] in cell.ids
    assert cell.values["leads"] == 3 and cell.values["contacted"] == 2
    assert cell.values["median_response_min"] == 32.5
    assert sorted(cell.detail_ids["breach"]) == sorted([slow["id"], waiting["id"]])


def test_receivables_age_by_the_oldest_unpaid_instalment(store: Store) -> None:
    deal = store.repo("deal").create({"title": "年度合同", "amount": 300, "stage": "won",
                                      "owner": "wang"})
    pay = store.repo("payment")
    first = pay.create({"kind": "planned", "amount": 100, "date": "2026-08-01",
                        "deal_id": deal["id"], "owner": "wang"})
    second = pay.create({"kind": "planned", "amount": 100, "date": "2026-11-15",
                         "deal_id": deal["id"], "owner": "wang"})
    pay.create({"kind": "planned", "amount": 100, "date": "2027-02-01", "deal_id": deal["id"],
                "owner": "wang"})  # not yet due
    pay.create({"kind": "received", "amount": 150, "date": "2026-09-01", "deal_id": deal["id"],
                "method": "bank_transfer", "invoice_no": "INV-1", "owner": "wang"})
    r = run(store, "collections", ReportFilter(D0, D1, as_of=dt.date(2026, 12, 1)))
    ageing = {c.key[0]: c for c in r.sections["ageing"]}
    # 150 received pays the August instalment and half of November's
    assert ageing["0-30"].values["unpaid"] == Decimal("50.00")
    assert ageing["0-30"].ids == [second["id"]]
    assert ageing[">90"].values["unpaid"] == Decimal("0.00") and first["id"] not in (
        ageing[">90"].ids)
    assert r.cell("2026-09") is not None
    assert r.cell("2026-09").values["collected"] == Decimal("150.00")  # type: ignore[union-attr]


def test_report_cli_prints_rows_totals_and_ids(profile: Path) -> None:
    with Store.open(profile) as store:
        d = store.repo("deal").create({"title": "深圳项目", "amount": 1234.5, "stage": "proposal",
                                       "owner": "wang", "currency": "CNY"})
    cmd = [sys.executable, "-m", "desktop.cli", "--profile", str(profile), "report",
           "pipeline", "--json", "--from", "2026-01-01", "--to", "2026-12-31"]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    row = next(r for r in out["rows"] if r["key"] == ["proposal"])
    assert row["values"]["amount"] == "1234.50" and row["ids"] == [d["id"]]
    assert out["totals"]["deals"] == 1 and out["currency"] == "CNY"
    bad = subprocess.run([*cmd[:6], "pipeline", "--currency", "XYZ"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "XYZ" in bad.stderr
    bad = subprocess.run([*cmd[:6], "pipeline", "--from", "soon"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "--from must be a date" in bad.stderr


def test_unknown_report_is_refused(store: Store) -> None:
    from desktop.errors import ValidationError

    with pytest.raises(ValidationError):
        run(store, "nonsense", ReportFilter(D0, D1))
    with pytest.raises(ValidationError, match="ends before it starts"):
        run(store, "pipeline", ReportFilter(D1, D0))


def test_collected_amounts_move_into_payments_once(store: Store) -> None:
    from desktop.reports.payments import move_collected_amounts

    deal = store.repo("deal").create({"title": "老合同", "amount": 500, "stage": "won",
                                      "owner": "wang", "collected_amount": 320.5})
    out = move_collected_amounts(store, today=dt.date(2026, 12, 6))
    assert out["moved"] == 1
    pay = store.repo("payment").get(out["payment_ids"][0])
    assert (pay["kind"], pay["amount"], pay["deal_id"], pay["owner"]) == (
        "received", 320.5, deal["id"], "wang")
    assert move_collected_amounts(store)["moved"] == 0  # again: nothing twice
    r = run(store, "collections", ReportFilter(D0, dt.date(2027, 12, 31)))
    assert r.totals["collected"] == Decimal("320.50")


def test_a_moved_amount_is_dated_on_the_users_day_not_utcs(store: Store) -> None:
    """Won at 20:00 UTC on 6 December: for a rep in Shanghai that was 7 December."""
    from desktop.followup.settings import FollowupSettings, save_settings
    from desktop.reports.payments import move_collected_amounts

    save_settings(store, FollowupSettings(time_zone="Asia/Shanghai"))
    store.repo("deal").create({"title": "老合同", "amount": 500, "stage": "won", "owner": "wang",
                               "collected_amount": 100, "stage_changed_at": "2026-12-06T20:00:00Z"})
    store.repo("deal").create({"title": "旧单", "amount": 80, "stage": "won", "owner": "wang",
                               "collected_amount": 80})
    store.conn.execute("UPDATE deal SET stage_changed_at = NULL WHERE title = '旧单'")
    out = move_collected_amounts(store, today=dt.date(2026, 12, 9))
    dates = sorted(store.repo("payment").get(p)["date"] for p in out["payment_ids"])
    assert dates == ["2026-12-07", "2026-12-09"]


@settings(max_examples=300, deadline=None, database=None)
@given(moment=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)),
       zone=st.sampled_from(["America/New_York", "Europe/London", "Asia/Shanghai",
                             "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "UTC"]))
def test_the_sql_week_is_the_local_week_of_every_instant(moment: dt.datetime, zone: str) -> None:
    """Weeks are grouped in SQL by integer arithmetic on the instant: for every instant,
    in zones with summer time, half-hour offsets and a 30-minute change of clocks, it is
    the Monday of the viewer's local day, and midnight belongs to the day it begins."""
    from desktop.reports.periods import utc_bounds, week_no_ms_sql, week_no_sql, week_of_no

    moment = moment.replace(microsecond=0, tzinfo=dt.UTC)
    if moment.second % 3 == 0:  # often exactly on a local midnight, the edge that matters
        local = moment.astimezone(ZoneInfo(zone))
        moment = local.replace(hour=0, minute=0, second=0).astimezone(dt.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    day = moment.astimezone(ZoneInfo(zone)).date()
    lo, hi = utc_bounds(day - dt.timedelta(days=40), day + dt.timedelta(days=40), ZoneInfo(zone))
    import sqlite3

    conn = sqlite3.connect(":memory:")
    (number,) = conn.execute(f"SELECT {week_no_sql('?1', ZoneInfo(zone), lo, hi)}",
                             [text]).fetchone()
    assert week_of_no(number) == (day - dt.timedelta(days=day.weekday())).isoformat()
    # the same week from the instant's Unix milliseconds (golden-72's first_write_at)
    ms = int(moment.timestamp()) * 1000 + moment.second * 7 % 1000
    (from_ms,) = conn.execute(f"SELECT {week_no_ms_sql('?1', ZoneInfo(zone), lo, hi)}",
                              [ms]).fetchone()
    assert from_ms == number


instalment_st = st.fixed_dictionaries({
    "kind": st.sampled_from(["planned", "planned", "received"]),
    "amount": st.sampled_from([100.0, 250.5, 400.0]), "currency": st.sampled_from([CNY, USD]),
    "date": st.dates(min_value=dt.date(2026, 6, 1), max_value=D1).map(dt.date.isoformat),
    "owner": st.just("wang")},
    optional={"deal_id": st.sampled_from([f"00000000-0000-4000-8000-00000000000{i}"
                                          for i in range(2)])})


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(payments=st.lists(instalment_st, min_size=1, max_size=14))
def test_receivables_ageing_equals_a_plain_fifo_over_instalments(
        payments: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "p") as store:
        _book(store, [], payments, RATES)
        f = ReportFilter(D0, D1, as_of=dt.date(2026, 11, 30))
        col = run(store, "collections", f)
        _ageing_equals_a_plain_fifo(col, _raw(store, "payment"), CNY, RATES,
                                    dt.date(2026, 11, 30))


def test_a_report_exports_to_csv_and_xlsx_with_its_audit_entry(profile: Path,
                                                              tmp_path: Path) -> None:
    import csv

    import openpyxl

    from desktop.exchange import rights

    with Store.open(profile) as store:
        store.repo("deal").create({"title": "深圳项目", "amount": 1234.5, "stage": "proposal",
                                   "owner": "=HYPERLINK(1)", "currency": "CNY"})
        store.repo("deal").create({"title": "杭州项目", "amount": 0.25, "stage": "proposal",
                                   "owner": "王芳", "currency": "CNY"})
    base = [sys.executable, "-m", "desktop.cli", "--profile", str(profile), "report"]
    out = json.loads(subprocess.run(
        [*base, "win-rate", "--out", str(tmp_path / "w.csv"), "--json"], check=True,
        capture_output=True, text=True).stdout)
    assert out["format"] == "csv" and out["rows"] == 0  # an empty report is still a file
    csv_path, xlsx_path = tmp_path / "p.csv", tmp_path / "p.xlsx"
    for path in (csv_path, xlsx_path):
        subprocess.run([*base, "pipeline", "--out", str(path), "--lang", "zh"], check=True,
                       capture_output=True)
    assert csv_path.read_bytes()[:3] == b"\xef\xbb\xbf"  # Excel reads the Chinese
    rows = list(csv.reader(csv_path.read_text("utf-8-sig").splitlines()))
    assert rows[0] == ["阶段", "商机数", "金额", "概率（%）", "加权金额"]
    proposal = next(r for r in rows if r and r[0] == "方案")
    assert proposal[1] == "2" and proposal[2] == "1234.75"  # exact cents, as text
    assert any(r and r[0] == "合计" for r in rows)
    book = openpyxl.load_workbook(xlsx_path, read_only=True)
    cells = [list(r) for r in book.active.iter_rows(values_only=True)]
    book.close()
    assert cells[[c[0] for c in cells].index("方案")][:3] == ["方案", 2, 1234.75]
    with Store.open(profile) as store:
        logs = store.repo("export_log").find()
        assert sorted(e["entity"] for e in logs) == ["report:pipeline", "report:pipeline",
                                                    "report:win-rate"]
        store.meta_set("sync_role", "rep")
        rights.set_right(store, "rep", False)
    # a name that a spreadsheet would run as a formula stays text
    with Store.open(profile) as store:
        from desktop.reports.export import export_report

        odd = run(store, "pipeline", ReportFilter(D0, D1))
        odd.cells[0].key = ("=HYPERLINK(1)",)
        store.meta_set("sync_role", "admin")
        export_report(store, odd, ReportFilter(D0, D1), tmp_path / "odd.csv")
        store.meta_set("sync_role", "rep")
    assert "'=HYPERLINK(1)" in (tmp_path / "odd.csv").read_text("utf-8-sig")
    refused = subprocess.run([*base, "pipeline", "--out", str(tmp_path / "no.csv")],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "may not export" in refused.stderr
    assert not (tmp_path / "no.csv").exists()


def _stamp(moment: dt.datetime, device: str = "0190f1a2-b3c4-7d5e-8f90-managerpeer") -> str:
    return f"{int(moment.timestamp() * 1000):013d}-0000-{device}"


def _golden_ms(store: Store, entity: str) -> list[tuple[str, int, int]]:
    """(id, first_write_at, golden_start in ms) of every row."""
    from desktop.followup.reminders import golden_start

    out = []
    for row in store.conn.execute(
            f'SELECT id, first_write_at, _clocks, created_at FROM "{entity}"'):
        start = golden_start({"_clocks": row[2], "created_at": row[3]})
        assert start is not None
        out.append((row[0], row[1], round(start.timestamp() * 1000)))
    return out


def test_golden_72_counts_a_pulled_record_in_the_week_of_its_first_write(store: Store) -> None:
    """A manager's first sync brings the team's book: every record arrives today, and
    counts in the week it was first written (desktop.store.firstwrite), which is what
    golden_start reads, for records written here, imported and pulled in a bulk page, a
    small page and a later change that brings an older field."""
    from desktop.reports.periods import week_of

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    written = now - dt.timedelta(weeks=5)
    first_page = [  # a first sync's page: more than remote.DEFER_INDEX_MIN new records
        {"entity": "account", "record_id": f"0190f1a2-0000-7000-8000-{i:012d}", "fields": {
            "name": {"value": f"客户{i}", "hlc": _stamp(written + dt.timedelta(minutes=i))},
            "owner": {"value": "wang", "hlc": _stamp(written + dt.timedelta(minutes=i, hours=1))}}}
        for i in range(600)]
    deal_id = "0190f1a2-0000-7000-8000-d00000000001"
    follow = (written + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    small_page = [
        {"entity": "deal", "record_id": deal_id, "fields": {
            "title": {"value": "大单", "hlc": _stamp(written + dt.timedelta(days=1))},
            "owner": {"value": "li", "hlc": _stamp(written + dt.timedelta(days=1))}}},
        {"entity": "activity", "record_id": "0190f1a2-0000-7000-8000-a00000000001", "fields": {
            **{k: {"value": v, "hlc": _stamp(written)} for k, v in (
                ("kind", "call"), ("subject", "电话"), ("duration_s", 120),
                ("done_at", follow), ("owner", "wang"),
                ("account_id", first_page[0]["record_id"]))}}},
        {"entity": "activity", "record_id": "0190f1a2-0000-7000-8000-a00000000002", "fields": {
            **{k: {"value": v, "hlc": _stamp(written)} for k, v in (
                ("kind", "note"), ("subject", "回复"), ("outcome", "customer_reply"),
                ("done_at", follow), ("owner", "wang"),
                ("account_id", first_page[0]["record_id"]))}}}]
    assert store.apply_remote(first_page).applied == 600
    store.apply_remote(small_page)
    # a field this device had not held, older than the record's other stamps
    store.apply_remote([{"entity": "deal", "record_id": deal_id, "fields": {
        "amount": {"value": 5000, "hlc": _stamp(written + dt.timedelta(hours=2))}}}])
    mine = store.repo("account").create({"name": "本机客户", "owner": "wang"})
    store.repo("account").import_many([{"name": f"导入{i}", "owner": "zhao"} for i in range(3)])
    # its oldest stamp rewritten: the start is the next oldest, as golden_start reads it
    store.repo("account").update(first_page[1]["record_id"], {"name": "改名"})
    store.repo("deal").create({"title": "本机商机", "owner": "li"})

    for entity in ("account", "deal"):
        for rid, column, golden in _golden_ms(store, entity):
            assert column == golden, (entity, rid)
    assert dict((r, c) for r, c, _ in _golden_ms(store, "deal"))[deal_id] == int(
        (written + dt.timedelta(hours=2)).timestamp() * 1000)

    zone = ZoneInfo("UTC")
    today = now.date()
    r = run(store, "golden-72", ReportFilter(today - dt.timedelta(weeks=12), today, zone=zone))
    pulled = {c["record_id"] for c in first_page} | {deal_id}
    weeks = {i: c.key[1] for c in r.cells for i in c.ids}
    assert pulled <= set(weeks)
    first_week = week_of((written + dt.timedelta(minutes=599, hours=1)).date())
    assert {weeks[i] for i in pulled} <= {week_of(written.date()), first_week}
    assert weeks[mine["id"]] == week_of(today) != weeks[deal_id]
    assert r.totals["records"] == 600 + 1 + 1 + 3 + 1 and r.totals["met"] == 1
    # this week: only what was first written here
    this_week = run(store, "golden-72", ReportFilter(today - dt.timedelta(days=today.weekday()),
                                                     today, zone=zone))
    assert not pulled & {i for c in this_week.cells for i in c.ids}
    assert this_week.totals["records"] == 1 + 3 + 1


golden_record_st = st.fixed_dictionaries({
    "entity": st.sampled_from(["account", "deal"]), "owner": st.sampled_from(["wang", "li", None]),
    "hours_ago": st.one_of(st.integers(0, 80), st.integers(0, 24 * 7 * 14)),
    "ms": st.integers(0, 999),
    "deleted": st.sampled_from([False, False, False, True])})
golden_activity_st = st.fixed_dictionaries({
    "record": st.integers(0, 3), "kind": st.sampled_from(["call", "visit", "note", "task"]),
    "duration_s": st.one_of(st.none(), st.sampled_from([0, 89, 90, 300])),
    "attachments": st.one_of(st.none(), st.just([]), st.just(["a" * 64])),
    "outcome": st.one_of(st.none(), st.sampled_from(
        ["Customer_reply ok", " 客户回复了", "quoted 5%", "已报价", "no", "", "replied"])),
    # done this many hours after the record's first write; None: not done (then its
    # created_at, when it arrived here, is its time)
    "after_h": st.one_of(st.none(), st.just(72), st.integers(-200, 100)),
    "seconds": st.sampled_from([0, 1, 59, 3599]),
    "deleted": st.sampled_from([False, False, False, True])})


def _plain_golden(store: Store, f: ReportFilter) -> dict[tuple[str, str], tuple[int, int, list[str],
                                                                                list[str]]]:
    """golden-72 recomputed from the raw rows with the follow-up rules' own Python:
    (owner, week) -> (records, met, ids, missed ids)."""
    from desktop.followup.reminders import golden_start
    from desktop.followup.settings import FollowupSettings
    from desktop.reports.periods import utc_bounds, week_of

    rules = FollowupSettings()
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    lo, hi = utc_bounds(f.date_from, f.date_to, f.zone)
    acts = _raw(store, "activity")
    out: dict[tuple[str, str], tuple[int, int, list[str], list[str]]] = {}
    for entity in ("account", "deal"):
        for r in _raw(store, entity):
            start = golden_start(r)
            assert start is not None
            start = start.replace(microsecond=0)  # the report's start is the second
            if not lo <= start.strftime(fmt) < hi:
                continue
            until = (start + dt.timedelta(hours=rules.golden_overdue_hours)).strftime(fmt)
            mine = [{**a, "attachments": json.loads(a["attachments"] or "null")} for a in acts
                    if a[f"{entity}_id"] == r["id"] and (a["done_at"] or a["created_at"]) <= until]
            ok = rules.is_valid_followup(mine)
            key = (r["owner"] or "", week_of(start.astimezone(f.zone).date()))
            n, met, ids, missed = out.get(key, (0, 0, [], []))
            out[key] = (n + 1, met + ok, [*ids, r["id"]], missed if ok else [*missed, r["id"]])
    return out


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(records=st.lists(golden_record_st, min_size=1, max_size=4),
       activities=st.lists(golden_activity_st, max_size=30),
       zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"]))
def test_golden_72_equals_a_plain_recomputation(records: list[dict[str, Any]],
                                                activities: list[dict[str, Any]],
                                                zone: str) -> None:
    """Every cell of golden-72 (records, met, the ids and the missed ids) equals the follow-
    up rules applied in Python to each record's raw activities; a cell lists its records
    in first-write order; the dashboard's run has the same figures and drills to them."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "p") as store:
        made = []
        for i, r in enumerate(records):
            written = now - dt.timedelta(hours=r["hours_ago"], milliseconds=r["ms"])
            rid = f"0190f1a2-0000-7000-8000-{i:012d}"
            name = "name" if r["entity"] == "account" else "title"
            store.apply_remote([{"entity": r["entity"], "record_id": rid, "fields": {
                name: {"value": f"r{i}", "hlc": _stamp(written)},
                "owner": {"value": r["owner"], "hlc": _stamp(written)}}}])
            made.append((r["entity"], rid, written))
        for j, a in enumerate(activities):
            entity, rid, written = made[a["record"] % len(made)]
            values: dict[str, Any] = {k: a[k] for k in ("kind", "duration_s", "attachments",
                                                         "outcome") if a[k] is not None}
            if a["after_h"] is not None:
                values["done_at"] = (written + dt.timedelta(hours=a["after_h"], seconds=a[
                    "seconds"])).strftime("%Y-%m-%dT%H:%M:%SZ")
            values.update({"subject": "跟进", f"{entity}_id": rid})
            aid = f"0190f1a2-0000-7000-8000-a{j:011d}"
            store.apply_remote([{"entity": "activity", "record_id": aid, "fields": {
                k: {"value": v, "hlc": _stamp(now)} for k, v in values.items()}}])
            if a["deleted"]:
                store.repo("activity").delete(aid)
        for (entity, rid, _), r in zip(made, records, strict=True):
            if r["deleted"]:
                store.repo(entity).delete(rid)
        z = ZoneInfo(zone)
        today = now.astimezone(z).date()
        f = ReportFilter(today - dt.timedelta(weeks=12), today, zone=z)
        report = run(store, "golden-72", f)
        expect = _plain_golden(store, f)
        assert [c.key for c in report.cells] == sorted(expect)
        order = {row[0]: (e, row[1], row[2]) for e in (0, 1) for row in store.conn.execute(
            f'SELECT id, first_write_at, rid FROM "{("account", "deal")[e]}"')}
        for cell in report.cells:
            n, met, ids, missed = expect[cell.key]
            assert cell.values == {"records": n, "met": met, "missed": n - met,
                                   "compliance": round(100.0 * met / n, 1)}
            assert sorted(cell.ids) == sorted(ids)
            assert sorted(cell.detail_ids["missed"]) == sorted(missed)
            assert cell.ids == sorted(cell.ids, key=order.__getitem__)
            assert cell.detail_ids["missed"] == sorted(missed, key=order.__getitem__)
        _same_without_ids_and_drills_to_each_cell(store, report, f)


def test_golden_72_counts_a_follow_up_to_the_window_s_last_second(store: Store) -> None:
    """The window ends on the first write's second moved by 72 hours, that second included;
    a call logged without a done time counts at its created_at."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    written = now - dt.timedelta(days=10, milliseconds=-500)  # the start is its second
    recent = now - dt.timedelta(hours=1)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    ids = []
    for i, (first, late) in enumerate(((written, 0), (written, 1), (recent, None))):
        rid = f"0190f1a2-0000-7000-8000-{i:012d}"
        store.apply_remote([{"entity": "account", "record_id": rid, "fields": {
            "name": {"value": f"r{i}", "hlc": _stamp(first)},
            "owner": {"value": "wang", "hlc": _stamp(first)}}}])
        ids.append(rid)
        done = (None if late is None else (first.replace(microsecond=0) + dt.timedelta(
            hours=72, seconds=late)).strftime(fmt))
        for j, values in enumerate(({"kind": "call", "duration_s": 120, "done_at": done},
                                    {"kind": "note", "outcome": "replied",
                                     "done_at": done or now.strftime(fmt)})):
            store.apply_remote([{"entity": "activity", "record_id": f"{rid[:-3]}a{i}{j}",
                                 "fields": {k: {"value": v, "hlc": _stamp(now)} for k, v in {
                                     **values, "subject": "跟进", "account_id": rid}.items()
                                            if v is not None}}])
    today = now.date()
    r = run(store, "golden-72", ReportFilter(today - dt.timedelta(weeks=12), today))
    missed = [i for c in r.cells for i in c.detail_ids["missed"]]
    assert r.totals["records"] == 3 and missed == [ids[1]]
