"""A report as a spreadsheet: the shown rows, the total, further tables (the ageing) and
the notes, to CSV (UTF-8 with a BOM, for Excel) or XLSX, through the import/export
issue's writers, rights and audit (desktop.exchange): a role that may not export gets
ExportNotAllowed, and every file leaves an export_log entry ("report:<name>").

Money stays exact: CSV cells carry the Decimal's text; XLSX cells are numbers with two
decimals (a spreadsheet sums them), counts are whole numbers. Text cells that would run
as a formula are guarded in CSV (a leading apostrophe); XLSX writes them as text."""

from __future__ import annotations

import csv
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.errors import ValidationError
from desktop.exchange import rights
from desktop.exchange.exporter import FORMATS, write_xlsx_rows
from desktop.reports import view as rv
from desktop.reports.model import Cell, Report, ReportFilter

if TYPE_CHECKING:
    from desktop.store import Store

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def table(report: Report, lang: str) -> list[list[Any]]:
    """The report as rows of cells: a header, one row per cell, the total, each section
    under its own heading, the notes. Values stay typed (Decimal, int, float, None)."""
    keys = [rv.label(k, lang) for k in report.key_names]
    names = list(report.value_names)
    rows: list[list[Any]] = [keys + [rv.label(v, lang) for v in names]]

    def line(key_text: list[str], values: dict[str, Any]) -> list[Any]:
        return key_text + [values.get(v) for v in names]

    for c in report.cells:
        rows.append(line(rv.key_text(report, c.key, lang), c.values))
    total = ["合计" if lang == "zh" else "Total"] + [""] * (len(keys) - 1)
    rows.append(line(total, report.totals))
    for section, cells in report.sections.items():
        rows.append([])
        rows.append([_section_title(section, lang)])
        rows += _section_rows(cells, lang)
    if report.notes:
        rows.append([])
        rows += [[note.text(lang)] for note in report.notes]
    return rows


def _section_title(section: str, lang: str) -> str:
    if section == "ageing":
        return "应收账龄" if lang == "zh" else "Receivables ageing"
    return section


def _section_rows(cells: list[Cell], lang: str) -> list[list[Any]]:
    names = list(cells[0].values) if cells else []
    out: list[list[Any]] = [[""] + [rv.label(n, lang) for n in names]]
    out += [[" · ".join(c.key)] + [c.values.get(n) for n in names] for c in cells]
    return out


def export_report(store: Store, report: Report, f: ReportFilter, out: Path, *,
                  fmt: str | None = None, lang: str = "en") -> dict[str, Any]:
    """Write `report` (run with `f`) to `out`; the file appears whole or not at all.
    Raises ExportNotAllowed, or ValidationError for a bad format or unwritable file."""
    out = Path(out)
    fmt = fmt or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    if fmt not in FORMATS:
        raise ValidationError(f"The format is csv or xlsx, not '{fmt}'.", field="format")
    rights.check_may_export(store)
    rows = table(report, lang)
    part = out.with_name(out.name + ".part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            with part.open("w", encoding="utf-8-sig", newline="") as fh:
                csv.writer(fh, lineterminator="\r\n").writerows(
                    [_csv_cell(v) for v in row] for row in rows)
        else:
            title = rv.title(report.name, lang, report)
            write_xlsx_rows(part, ([_xlsx_cell(v) for v in row] for row in rows),
                            title=title)
        os.replace(part, out)
    except OSError as exc:
        raise ValidationError(f"{out} cannot be written ({exc.strerror}).") from exc
    finally:
        if part.exists():
            part.unlink()
    flt = {"from": f.date_from.isoformat(), "to": f.date_to.isoformat(),
           "owners": list(f.owners), "currency": f.currency,
           "as_of": f.as_of_date.isoformat()}
    rights.log_export(store, f"report:{report.name}", fmt, flt, len(report.cells), out.name)
    return {"report": report.name, "file": str(out), "format": fmt,
            "rows": len(report.cells), "filter": json.loads(json.dumps(flt))}


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    text = str(v) if not isinstance(v, float) else f"{v:g}"
    if isinstance(v, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _xlsx_cell(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)  # shown with its two decimals; the CSV keeps the exact text
    return v
