"""`fieldcrm-server reconcile` (issue 25, server.reconcile): a generated ERP export of a few
hundred accounts with planted differences (records on one side only, fields that differ,
duplicates on either side) against the CRM's records; precision and recall of the planted
findings are printed (`pytest -s`) and must both be 1. GBK CSV with Chinese labels, and
XLSX with field names; the CLI's report, summary and exit codes. SQLite and PostgreSQL
(a single push of ~300 records each: cheap)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import hlc

from desktop.schema import uscc_check_char
from server import integrations as ig
from server import reconcile as rc
from server import tables as t
from server.admin import add_user
from server.cli import main as cli_main
from server.push import Entry, apply_push

N = 300
INDUSTRIES = ("机械", "化工", "电子", "纺织", "物流")
HEADER = ["ERP编号", "名称", "统一社会信用代码", "电话", "行业", "地址"]
CRM_ONLY = (5, 50, 120, 210, 250, 280, 290)  # left out of the export
DIFFERS = {1: "name", 2: "industry", 3: "address", 201: "phone", 202: "industry",
           271: "address"}


def rid(i: int) -> str:
    return f"0190b2a4-0000-7000-8000-{i:012d}"


def uscc(i: int) -> str:
    first = f"91310000{i:09d}"
    check = uscc_check_char(first)
    assert check is not None
    return first + check


def crm_values(i: int) -> dict[str, Any]:
    """Accounts 0-269 have a credit code, 270-299 only a phone; 0-199 carry their ERP id."""
    v: dict[str, Any] = {"name": f"华东精密{i:03d}有限公司", "phone": f"+86138{i:08d}",
                         "industry": INDUSTRIES[i % 5], "address": f"上海市浦东新区{i}号",
                         "owner": "li"}
    if i < 270:
        v["uscc"] = uscc(i)
    return v


def erp_row(i: int) -> list[str]:
    v = crm_values(i)
    phone = v["phone"][3:]
    if i % 10 == 7:
        phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"  # written differently, same number
    row = {"ERP编号": f"C-{i:04d}" if i < 200 else f"E-{i:04d}", "名称": v["name"],
           "统一社会信用代码": v.get("uscc", "").lower() if i % 4 == 0 else v.get("uscc", ""),
           "电话": phone, "行业": v["industry"] + (" " if i % 6 == 0 else ""),
           "地址": v["address"]}
    changed = DIFFERS.get(i)
    if changed == "name":
        row["名称"] = v["name"].replace("有限公司", "股份有限公司")
    elif changed == "industry":
        row["行业"] = "食品"
    elif changed == "address":
        row["地址"] = "北京市海淀区1号"
    elif changed == "phone":
        row["电话"] = "13999999999"
    return [row[h] for h in HEADER]


@pytest.fixture
def book(engine: sa.Engine) -> sa.Engine:
    """The CRM: 300 accounts and two planted duplicates (302 shares 30's credit code, 301
    shares 285's phone), pushed at once; ERP ids on 0-199."""
    add_user(engine, "li", "rep", "correct horse")
    ig.add(engine, "erp", ig.Scopes.parse(["account:*"], ["account:*"]))
    cred = ig.Credential("erp", ig.Scopes.parse([], ["account:*"]), 600)
    values = {i: crm_values(i) for i in range(N)}
    values[301] = {**crm_values(285), "name": "华东精密285(重复)", "uscc": None}
    values[302] = {**crm_values(30), "name": "华东精密030 有限公司", "phone": "+8613700000302"}
    entries = [Entry(cred.device_id, n, "account", rid(i),
                     {k: (v, hlc(1_765_000_000_000 + n, 0, "erp"), None)
                      for k, v in vals.items() if v is not None})
               for n, (i, vals) in enumerate(sorted(values.items()), start=1)]
    out = apply_push(engine, cred.principal, entries, lambda _v: None)
    assert {r.status for r in out.results} == {"applied"}
    with engine.begin() as conn:
        conn.execute(t.external_ids.insert(), [
            {"system": "erp", "entity": "account", "external_id": f"C-{i:04d}",
             "record_id": rid(i)} for i in range(200)])
    return engine


def write_export(path: Path) -> None:
    """The ERP's export, GBK: every account but CRM_ONLY; 4 the CRM lacks; row 10 twice
    (one ERP id on two lines); a second ERP record with 220's credit code."""
    rows = [erp_row(i) for i in range(N) if i not in CRM_ONLY]
    rows += [[f"N-{k}", f"新客户{k}", uscc(900 + k), f"13600000{k:03d}", "机械", "广州"]
             for k in range(4)]
    rows.append(erp_row(10))
    rows.append(["E-9220", "华东精密220分公司", uscc(220), "13500000220", "机械", "上海"])
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)


def planted() -> set[Any]:
    out: set[Any] = {("crm_only", rid(i)) for i in CRM_ONLY}
    out |= {("crm_only", rid(301)), ("crm_only", rid(302))}  # the CRM's duplicates
    out |= {("other_only", f"N-{k}") for k in range(4)} | {("other_only", "E-9220")}
    out |= {("differs", rid(i), f) for i, f in DIFFERS.items()}
    out |= {("duplicate_crm", frozenset({rid(30), rid(302)})),
            ("duplicate_crm", frozenset({rid(285), rid(301)})),
            ("duplicate_other", frozenset({"C-0010"})),
            ("duplicate_other", frozenset({"E-0220", "E-9220"}))}
    return out


def found(result: rc.Result) -> set[Any]:
    out: set[Any] = set()
    groups: dict[tuple[str, int], set[str]] = {}
    for f in result.findings:
        if f.kind == "crm_only":
            out.add((f.kind, f.crm_id))
        elif f.kind == "other_only":
            out.add((f.kind, f.external_id))
        elif f.kind == "differs":
            out.add((f.kind, f.crm_id, f.field))
        else:
            groups.setdefault((f.kind, f.group), set()).add(
                f.crm_id if f.kind == "duplicate_crm" else f.external_id)
    return out | {(kind, frozenset(ids)) for (kind, _g), ids in groups.items()}


def test_planted_differences_are_found_and_nothing_else(book: sa.Engine, tmp_path: Path,
                                                        backend: str) -> None:
    export = tmp_path / "erp-accounts.csv"
    write_export(export)
    result = rc.reconcile(book, "erp", export)
    want, got = planted(), found(result)
    hit = len(want & got)
    precision, recall = hit / max(1, len(got)), hit / len(want)
    print(f"\nreconcile [{backend}]: {len(want)} planted, {len(got)} found, "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert sorted(map(str, got - want)) == [] and sorted(map(str, want - got)) == []
    s = result.summary
    assert s["matched_by"] == {"external_id": 197, "uscc": 68, "phone": 28}
    assert (s["crm_only"], s["other_only"], s["differing"], s["duplicates_crm"],
            s["duplicates_other"], s["matched"]) == (9, 5, 6, 2, 2, 293)
    assert s["id_column"] == "ERP编号" and s["columns"]["统一社会信用代码"] == "uscc"
    name_diff = next(f for f in result.findings if f.kind == "differs" and f.field == "name")
    assert (name_diff.crm_value, name_diff.other_value) == (
        "华东精密001有限公司", "华东精密001股份有限公司")


def test_cli_xlsx_report_and_exit_codes(book: sa.Engine, db_url: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["erp_id", "name", "uscc", "phone", "industry"])
    ws.append(["C-0001", "华东精密001有限公司", uscc(1), "13800000001", "+1 特殊"])
    ws.append(["C-0002", "华东精密002有限公司", uscc(2), 13800000002, "电子"])
    xlsx = tmp_path / "erp.xlsx"
    wb.save(xlsx)
    report = tmp_path / "report.csv"
    base = ["--database-url", db_url]
    assert cli_main(["reconcile", "--system", "erp", str(xlsx), "--report", str(report),
                     "--json", *base]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["matched"], summary["differing"], summary["crm_only"]) == (2, 1, N)
    with report.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == list(rc.REPORT_HEADER)
    assert ["differs", rid(1), "C-0001", "industry", "化工", "'+1 特殊"] in lines
    assert sum(line[0] == "crm_only" for line in lines) == N
    # an unknown system, a file that is no spreadsheet, a row longer than its header
    assert cli_main(["reconcile", "--system", "sap", str(xlsx), *base]) == rc.EXIT_UNKNOWN
    assert "No system named 'sap'" in capsys.readouterr().err
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert cli_main(["reconcile", "--system", "erp", str(broken), *base]) == rc.EXIT_BAD_FILE
    assert "not a readable XLSX" in capsys.readouterr().err
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("erp_id,name\nC-0001,A,extra\n", encoding="utf-8-sig")
    assert cli_main(["reconcile", "--system", "erp", str(ragged), "--json", *base]) == 3
    assert "line 2" in json.loads(capsys.readouterr().out)["error"]
    assert cli_main(["reconcile", "--system", "erp", str(tmp_path / "none.csv"), *base]) == 3
