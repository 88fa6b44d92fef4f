"""Export: CSV with BOM, XLSX typed text and a new sheet past the row limit, the
formula guard, filters, rights, the audit entry, cancel; and the round trip into a
fresh profile."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from desktop import cli
from desktop.errors import Cancelled
from desktop.exchange import rights
from desktop.exchange.exporter import export
from desktop.exchange.importer import run_import
from desktop.exchange.query import ListFilter
from desktop.store import Store
from tests.exchange.files import USCC, read_csv, read_xlsx

NASTY = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


def fill(store: Any) -> dict[str, Any]:
    acc = store.repo("account")
    tencent = acc.create({"name": "深圳市腾讯计算机系统有限公司", "uscc": USCC[0],
                          "phone": "13912345678", "tags": ["VIP", "重点客户"],
                          "lifecycle": "customer", "cf_employees": 100000,
                          "cf_source": "referral", "address": "深圳市南山区科技园"})
    huawei = acc.create({"name": "华为技术有限公司", "industry": "通信", "cf_employees": 2.5,
                         "region": "深圳"})
    for i, text in enumerate(NASTY):
        acc.create({"name": f"Formula {i}", "industry": text, "address": text})
    store.repo("contact").create({"name": "张伟", "phones": ["13812345678", "13912340000"],
                                  "email": "Zhang.Wei@Example.cn", "account_id": tencent["id"],
                                  "title": "采购经理"})
    store.repo("contact").create({"name": "Li Na", "account_id": huawei["id"]})
    store.repo("deal").create({"title": "服务器采购", "account_id": huawei["id"],
                               "amount": 1200000.5, "stage": "proposal",
                               "cf_competitor": "浪潮", "cf_next_review": "2026-12-20"})
    return {"tencent": tencent, "huawei": huawei}


def test_csv_has_a_bom_chinese_and_the_formula_guard(store: Any, tmp_path: Path) -> None:
    fill(store)
    out = tmp_path / "accounts.csv"
    result = export(store, "account", out, lang="zh")
    assert result.rows == 7 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(out)
    header = rows[0]
    assert header[:3] == ["ID", "名称", "统一社会信用代码"]
    by_name = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    t = by_name["深圳市腾讯计算机系统有限公司"]
    assert t["标签"] == "VIP, 重点客户" and t["员工人数"] == "100000"
    assert t["电话"] == "'+8613912345678"  # would be a number (or a formula) in Excel
    assert by_name["华为技术有限公司"]["员工人数"] == "2.5"
    for i, text in enumerate(NASTY):
        assert by_name[f"Formula {i}"]["行业"] == "'" + text
    assert not list(tmp_path.glob("*.part"))


def test_xlsx_cells_are_text_and_a_new_sheet_starts_past_the_limit(
        store: Any, tmp_path: Path) -> None:
    fill(store)
    out = tmp_path / "accounts.xlsx"
    result = export(store, "account", out, sheet_rows=3)
    assert result.rows == 7
    sheets = read_xlsx(out)
    assert list(sheets) == ["Account", "Account 2", "Account 3"]
    assert [len(s) for s in sheets.values()] == [4, 4, 2]  # header + 3, header + 3, header + 1
    assert all(s[0] == sheets["Account"][0] for s in sheets.values())
    cells = {r[1]: r for s in sheets.values() for r in s[1:]}
    assert cells["Formula 0"][3] == NASTY[0]  # a text cell, never a formula
    from openpyxl import load_workbook

    wb = load_workbook(out)
    formulas = [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    # every sheet is read back by the import
    with Store.open(tmp_path / "fresh") as fresh:
        assert run_import(fresh, out, "account", on_duplicate="create").created == 7


TRICKY: list[Any] = [
    "plain", "", " lead", "trail ", "a&b<c>d", 'say "hi"', "tab\tin", "ctrl\x01x\x1f",
    "_x0041_ literal", "line\nbreak", "\n", "non\ufffechar\uffff", "深圳市腾讯 ",
    "x" * 20_000, "😀" * 17_000, "&" * 17_000, 0, -7, 2.5, 1e20, -0.0, 1 / 3,
    12345678901234567890, True, False, None, Decimal("1.50"), "\u3000全角空格"]


def _xlsxwriter_cells(path: Path, rows: list[list[Any]]) -> None:
    """The rows written cell by cell by xlsxwriter itself (as the export did before)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "use_zip64": True})
    ws = wb.add_worksheet("Sheet")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, int | float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v if isinstance(v, str) else str(v))
    wb.close()


def test_xlsx_rows_are_the_xml_xlsxwriter_writes(tmp_path: Path) -> None:
    import zipfile

    from desktop.exchange.exporter import write_xlsx_rows

    header = [f"H{i}" for i in range(len(TRICKY))]
    rows = [header, TRICKY, TRICKY[::-1], [None] * 5, [None, None, "c"],
            [*TRICKY, *TRICKY, "AE"], [None] * 3 + [1]]
    write_xlsx_rows(tmp_path / "fast.xlsx", iter(rows), title="Sheet")
    _xlsxwriter_cells(tmp_path / "cells.xlsx", rows)
    name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(tmp_path / "fast.xlsx") as a, \
            zipfile.ZipFile(tmp_path / "cells.xlsx") as b:
        assert a.read(name) == b.read(name)
    sheet = read_xlsx(tmp_path / "fast.xlsx")["Sheet"]
    assert sheet[1][:4] == ["plain", "", " lead", "trail "]
    assert sheet[1][TRICKY.index(None) - 1:][:3] == [False, None, "1.50"]


def test_xlsx_text_that_looks_like_rich_text_xml_is_text(tmp_path: Path) -> None:
    from desktop.exchange.exporter import write_xlsx_rows

    # xlsxwriter writes such a string unescaped (a broken file): here it is text
    text = "<r><t>Acme</t></r>"
    write_xlsx_rows(tmp_path / "r.xlsx", [["Name"], [text], ["<r>x</r>"]])
    assert read_xlsx(tmp_path / "r.xlsx")["Sheet"] == [["Name"], [text], ["<r>x</r>"]]


def test_filters_search_and_the_audit_entry(store: Any, tmp_path: Path) -> None:
    fill(store)
    out = tmp_path / "a.csv"
    result = export(store, "account", out, flt=ListFilter(search="txjs"))
    assert result.rows == 1 and read_csv(out)[1][1] == "深圳市腾讯计算机系统有限公司"
    result = export(store, "deal", out, flt=ListFilter(stage="proposal"))
    assert result.rows == 1
    assert export(store, "deal", out, flt=ListFilter(stage="won")).rows == 0
    assert read_csv(out)[0][0] == "ID"  # an empty list is still a file with its header
    logs = sorted(store.repo("export_log").iter_all(), key=lambda r: r["exported_at"] or "")
    assert [(log["entity"], log["rows"], json.loads(log["filter"])) for log in logs] == [
        ("account", 1, {"search": "txjs"}), ("deal", 1, {"stage": "proposal"}),
        ("deal", 0, {"stage": "won"})]
    assert all(log["format"] == "csv" and log["exported_at"] for log in logs)
    # the audit entries are journaled: they reach the server with the next push
    pending = {e.entity for e in store.journal.pending(limit=1000)}
    assert "export_log" in pending


def test_a_role_the_admin_denies_may_not_export(store: Any, tmp_path: Path) -> None:
    fill(store)
    store.meta_set("sync_role", "rep")
    assert rights.may_export(store)
    rights.set_right(store, "rep", False)
    assert rights.rights(store) == {"rep": False, "manager": True, "admin": True,
                                    "finance": True, "director": True}
    with pytest.raises(rights.ExportNotAllowed):
        export(store, "account", tmp_path / "a.csv")
    assert not (tmp_path / "a.csv").exists()
    assert store.repo("export_log").count() == 0
    store.meta_set("sync_role", "admin")
    assert export(store, "account", tmp_path / "a.csv").rows == 7


def test_a_cancelled_export_leaves_no_file(store: Any, tmp_path: Path) -> None:
    import desktop.exchange.exporter as exporter

    acc = store.repo("account")
    acc.import_many([{"name": f"Company {i}"} for i in range(12_000)], index=False)
    out = tmp_path / "out" / "a.csv"
    seen: list[tuple[int, int]] = []
    with pytest.raises(Cancelled):
        export(store, "account", out, progress=lambda d, t: seen.append((d, t)),
               cancelled=lambda: bool(seen))
    assert seen == [(exporter.BATCH, 12_000)]
    assert list(out.parent.iterdir()) == [] and store.repo("export_log").count() == 0


def _records(store: Any, entity: str) -> list[dict[str, Any]]:
    drop = {"id", "created_at", "updated_at", "owner", "account_id", "stage_changed_at",
            "deleted"}
    title = store.repo(entity).entity.title_field
    out = []
    for r in sorted(store.repo(entity).iter_all(), key=lambda r: r[title]):
        rec = {k: v for k, v in r.items() if k not in drop}
        if r.get("account_id"):
            rec["account"] = store.repo("account").get(r["account_id"])["name"]
        out.append(rec)
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_into_a_fresh_profile(store: Any, tmp_path: Path, fmt: str) -> None:
    fill(store)
    fresh = Store.open(tmp_path / "fresh")
    try:
        for entity in ("account", "contact", "deal"):
            out = tmp_path / f"{entity}.{fmt}"
            assert export(store, entity, out, lang="zh").rows > 0
            result = run_import(fresh, out, entity)
            assert result.invalid == 0 and result.skipped_duplicates == 0, result.errors
            assert _records(fresh, entity) == _records(store, entity)
    finally:
        fresh.close()


def test_cli_export(capsys: pytest.CaptureFixture[str], profile: Path, tmp_path: Path) -> None:
    with Store.open(profile) as store:
        fill(store)
    out = tmp_path / "c.xlsx"
    code = cli.main(["--profile", str(profile), "export", "contact", "--out", str(out),
                     "--search", "张", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["rows"] == 1 and data["file"] == str(out)
    assert data["seconds"] >= 0 and data["format"] == "xlsx"
    code = cli.main(["--profile", str(profile), "export-rights", "--role", "rep", "--deny",
                     "--json"])
    assert json.loads(capsys.readouterr().out)["may_export"]["rep"] is False
    with Store.open(profile) as store:
        store.meta_set("sync_role", "rep")
    code = cli.main(["--profile", str(profile), "export", "account", "--out",
                     str(tmp_path / "a.csv")])
    assert code == 1 and "may not export" in capsys.readouterr().err
