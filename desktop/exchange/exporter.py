"""Export a list (its filter and search) or a whole entity to CSV or XLSX, streamed
from the store in bounded memory (no Qt).

CSV is UTF-8 with a BOM, so Excel shows Chinese. XLSX is written by xlsxwriter in
constant-memory mode, every text cell typed as text (never a formula), a new sheet
every 1,048,575 data rows (Excel's limit, with the header). Text cells that begin with
= + - @ (or a tab or carriage return) get a leading apostrophe in CSV, so a spreadsheet
never runs them as a formula (formula injection); the import takes it off again.

The values are formatted by SQLite in the query itself (lists joined, whole numbers
without ".0", the guard), so Python only moves finished tuples to the writer. The file
is written beside the target and renamed when complete: a cancelled or failed export
leaves no half file. Each finished export leaves its audit entry (desktop.exchange.rights).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.errors import Cancelled, ValidationError
from desktop.exchange import rights
from desktop.exchange.mapping import ACCOUNT_NAME, target_label
from desktop.exchange.query import ListFilter, where
from desktop.schema import ENTITIES, MERGED_INTO, Entity, FieldType

if TYPE_CHECKING:
    from desktop.store.store import Store

FORMATS = ("csv", "xlsx")
BATCH = 5000  # rows fetched at a time
XLSX_SHEET_ROWS = 1_048_576 - 1  # data rows per sheet (Excel's row limit, less the header)
GUARDED = "('=', '+', '-', '@', char(9), char(13))"
EXPORTABLE = ("account", "contact", "deal", "activity", "contract")

Progress = Callable[[int, int], None]


@dataclass
class ExportResult:
    rows: int
    file: str
    seconds: float
    format: str
    entity: str

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "file": self.file, "seconds": round(self.seconds, 3),
                "format": self.format, "entity": self.entity}


def _guard(expr: str) -> str:
    return f"CASE WHEN substr({expr}, 1, 1) IN {GUARDED} THEN '''' || {expr} ELSE {expr} END"


def columns(ent: Entity, lang: str = "en", *, guard: bool = True) -> list[tuple[str, str]]:
    """(header, SQL expression over the entity's table `t`) of every exported column:
    the id, every field (custom ones included), and the linked account's name."""
    g = _guard if guard else (lambda e: e)
    out = [("ID", "t.id")]
    for f in ent.fields:
        if f.name == MERGED_INTO:
            continue
        col = f't."{f.name}"'
        if f.type is FieldType.TEXT:
            expr = g(col)
        elif f.type is FieldType.LIST:
            expr = g(f"(SELECT group_concat(value, ', ') FROM json_each({col}))")
        elif f.type is FieldType.NUMBER:
            expr = (f"CASE WHEN {col} = CAST({col} AS INTEGER) AND abs({col}) < 9e15 "
                    f"THEN CAST({col} AS INTEGER) ELSE {col} END")
        elif f.type is FieldType.BOOL:
            expr = f"CASE {col} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
        else:
            expr = col
        out.append((target_label(ent, f.name, lang), expr))
        if f.name == "account_id" and ent.name != "account":
            out.append((target_label(ent, ACCOUNT_NAME, lang),
                        g("(SELECT a.name FROM account a WHERE a.id = t.account_id)")))
    return out


def _rows(store: Store, ent: Entity, flt: ListFilter, guard: bool,
          lang: str) -> tuple[list[str], int, Generator[list[tuple[Any, ...]], None, None]]:
    cond, params = where(store, ent, flt)
    cols = columns(ent, lang, guard=guard)
    sql_where = "t.deleted = 0" + (f" AND ({cond})" if cond else "")
    total = int(store.conn.execute(
        f'SELECT count(*) FROM "{ent.name}" t WHERE {sql_where}', params).fetchone()[0])
    select = ", ".join(e for _, e in cols)

    def batches() -> Generator[list[tuple[Any, ...]], None, None]:
        cur = store.conn.cursor()
        cur.row_factory = None
        cur.execute(f'SELECT {select} FROM "{ent.name}" t WHERE {sql_where} ORDER BY t.rid',
                    params)
        try:
            while True:
                batch = cur.fetchmany(BATCH)
                if not batch:
                    return
                yield batch
        finally:
            cur.close()

    return [h for h, _ in cols], total, batches()


def export(store: Store, entity: str, out: Path, *, fmt: str | None = None,
           flt: ListFilter | None = None, lang: str = "en", progress: Progress | None = None,
           cancelled: Callable[[], bool] | None = None,
           sheet_rows: int = XLSX_SHEET_ROWS) -> ExportResult:
    """Write the records of `entity` that `flt` selects to `out`. Raises ExportNotAllowed
    when the role may not export, Cancelled when `cancelled()` says so (no file is left),
    ValidationError for a bad format, filter or an unwritable file."""
    started = time.perf_counter()
    if entity not in EXPORTABLE:
        raise ValidationError(f"Export writes {', '.join(EXPORTABLE)}, not '{entity}'.")
    out = Path(out)
    fmt = fmt or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    if fmt not in FORMATS:
        raise ValidationError(f"The format is csv or xlsx, not '{fmt}'.", field="format")
    rights.check_may_export(store)
    flt = flt or ListFilter()
    ent = ENTITIES[entity]
    header, total, batches = _rows(store, ent, flt, fmt == "csv", lang)
    part = out.with_name(out.name + ".part")
    done = 0

    def counted() -> Iterator[list[tuple[Any, ...]]]:
        nonlocal done
        for batch in batches:
            if cancelled is not None and cancelled():
                raise Cancelled("Export cancelled.")
            yield batch
            done += len(batch)
            if progress is not None:
                progress(done, total)

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            with part.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh, lineterminator="\r\n")
                w.writerow(header)
                for batch in counted():
                    w.writerows(batch)
        else:
            write_xlsx_rows(part, _chain(header, counted()), sheet_rows=sheet_rows,
                            title=ent.label(lang))
        os.replace(part, out)
    except OSError as exc:
        raise ValidationError(f"{out} cannot be written ({exc.strerror}).") from exc
    finally:
        batches.close()  # its cursor, here on the thread that made it (also on a cancel)
        if part.exists():
            part.unlink()
    rights.log_export(store, entity, fmt, flt.as_json(), done, out.name)
    return ExportResult(done, str(out), time.perf_counter() - started, fmt, entity)


def _chain(header: list[str], batches: Iterable[list[tuple[Any, ...]]]) -> Iterator[Any]:
    yield header
    for batch in batches:
        yield from batch


def write_xlsx_rows(path: Path, rows: Iterable[Iterable[Any]], *,
                    sheet_rows: int = XLSX_SHEET_ROWS, title: str = "Sheet") -> int:
    """Write rows (the first is the header, repeated on every sheet) to an XLSX file in
    constant memory; strings are always text cells. Returns the data rows written."""
    import xlsxwriter

    from desktop.exchange.xlsx_rows import SheetRows

    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "use_zip64": True})
    it = iter(rows)
    header = list(next(it, []))
    sheets: list[SheetRows] = []
    r = sheet_rows  # start a sheet at the first row
    written = 0
    base = title[:25].replace("/", "_") or "Sheet"

    def new_sheet() -> None:
        n = len(sheets) + 1
        sheets.append(SheetRows(wb.add_worksheet(base if n == 1 else f"{base} {n}")))
        sheets[-1].append([str(h) for h in header])

    try:
        for row in it:
            if r >= sheet_rows:
                new_sheet()
                r = 0
            r += 1
            sheets[-1].append(row)
            written += 1
        if not sheets:
            new_sheet()
        for sheet in sheets:
            sheet.close()
    finally:
        wb.close()
    return written
